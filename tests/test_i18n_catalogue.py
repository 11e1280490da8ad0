"""The English catalogue is complete, compiled and used; the language is remembered per user.

The catalogue test extracts the messages exactly as `pybabel extract -F babel.cfg` does (into a
temporary .pot), so a string wrapped in `_()` / `_l()` / `N_()` anywhere in app/ or templates/
without an English entry fails here with the list of what is missing. That every page shows
them is checked by tests/test_i18n_pages.py (a crawl of the whole site as each role).
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import User
from tests.conftest import csrf_token, login

ROOT = Path(__file__).resolve().parents[1]
EN_PO = ROOT / "app/translations/en/LC_MESSAGES/messages.po"
EN_MO = EN_PO.with_suffix(".mo")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _key(msgid: str | tuple[str, ...] | list[str]) -> str:
    return msgid[0] if isinstance(msgid, tuple | list) else msgid  # plurals: (one, other)


def _strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ("",)
    return tuple(value) if isinstance(value, tuple | list) else (value,)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """msgid → source locations, from a fresh extraction with the project's babel.cfg."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    command = (
        [str(pybabel)] if pybabel.exists() else [sys.executable, "-m", "babel.messages.frontend"]
    )
    done = subprocess.run(
        [*command, "-q", "extract", "-F", "babel.cfg", "-o", str(pot), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with pot.open("rb") as fh:
        catalog = read_po(fh)
    found = {_key(m.id): [f"{path}:{line}" for path, line in m.locations] for m in catalog if m.id}
    assert len(found) > 300, f"the extraction found only {len(found)} messages: check babel.cfg"
    return found


@pytest.fixture(scope="module")
def english() -> dict[str, tuple[str, ...]]:
    with EN_PO.open("rb") as fh:
        catalog = read_po(fh)
    return {_key(m.id): (() if m.fuzzy else _strings(m.string)) for m in catalog if m.id}


def test_babel_cfg_covers_python_templates_and_lazy_markers() -> None:
    config = (ROOT / "babel.cfg").read_text()
    assert "[python: app/**.py]" in config
    assert "[jinja2: templates/**.html]" in config
    keywords = re.search(r"keywords\s*=\s*(.+)", config)
    assert keywords and {"_l", "N_"} <= set(keywords.group(1).split())


def test_every_extracted_message_has_an_english_translation(
    extracted: dict[str, list[str]], english: dict[str, tuple[str, ...]]
) -> None:
    missing = [m for m in extracted if m not in english]
    untranslated = [m for m in extracted if m in english and not all(s.strip() for s in english[m])]
    problems = [f"  missing   {m!r}  ({', '.join(extracted[m][:2])})" for m in missing] + [
        f"  no/fuzzy  {m!r}  ({', '.join(extracted[m][:2])})" for m in untranslated
    ]
    assert not problems, (
        f"{len(problems)} message(s) without English (run pybabel extract/update, then translate "
        f"in {EN_PO.relative_to(ROOT)}):\n" + "\n".join(problems[:200])
    )


def test_translations_keep_placeholders_and_are_english(
    english: dict[str, tuple[str, ...]],
) -> None:
    wrong = []
    for msgid, strings in english.items():
        for text in strings:
            if text and set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(msgid)):
                wrong.append(f"  placeholders differ: {msgid!r} → {text!r}")
            if HAN.search(text):
                wrong.append(f"  Chinese left in the English text: {msgid!r} → {text!r}")
    assert not wrong, "\n".join(wrong)


def test_compiled_catalogue_matches_the_po_file(english: dict[str, tuple[str, ...]]) -> None:
    assert EN_MO.exists(), f"{EN_MO.relative_to(ROOT)} is missing: run `make translations`"
    with EN_MO.open("rb") as fh:
        compiled = {_key(m.id): _strings(m.string) for m in read_mo(fh) if m.id}
    stale = [m for m, s in english.items() if s and all(s) and compiled.get(m) != s]
    assert not stale, (
        f"messages.mo is older than messages.po ({len(stale)} entries differ; run "
        f"`make translations`): {stale[:10]}"
    )


# --- the compiled catalogue is what the pages use ---------------------------------------------


class _VisibleText(HTMLParser):
    """Text nodes a reader sees, without scripts/styles, without text marked lang="zh…" and
    without raw data dumps marked translate="no" (stored values shown as they are)."""

    SKIP = {"script", "style", "template", "noscript"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []
        self.texts: list[str] = []
        self.attr_texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("aria-label", "title", "placeholder", "alt"):
            if values.get(name):
                self.attr_texts.append(str(values[name]))
        if tag in self.VOID:
            return
        hidden = (
            tag in self.SKIP
            or str(values.get("lang") or "").lower().startswith("zh")
            or values.get("translate") == "no"
        )
        self.stack.append(hidden or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and not (self.stack and self.stack[-1]):
            self.texts.append(data.strip())


def _untranslated(html: str, data: list[str]) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    blob = "\n".join(data)
    left = []
    for text in parser.texts + parser.attr_texts:
        if not HAN.search(text) or text in blob:
            continue
        rest = text
        for value in data:
            if value in rest:
                rest = rest.replace(value, " ")
        if HAN.search(rest):
            left.append(text)
    return left


def test_chinese_stays_the_default(client: FlaskClient, seeded: Session) -> None:
    page = client.get("/login")
    assert '<html lang="zh-CN"' in page.text
    assert "登录" in page.text and "Sign in" not in page.text


# --- language remembered per user --------------------------------------------------------------


def _switch(client: FlaskClient, code: str, back: str) -> None:
    response = client.post(
        f"/lang/{code}", data={"csrf_token": csrf_token(client, back), "next": back}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(back)


def _browser(app: Flask) -> FlaskClient:
    """Another browser. The test app context is shared by all requests, so forget what
    Flask-Login and Flask-WTF cached on `g` for the previous client (user, CSRF token)."""
    return _as(app.test_client())


def _as(client: FlaskClient) -> FlaskClient:
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    return client


def test_language_choice_follows_the_user_to_another_browser(app: Flask, seeded: Session) -> None:
    first = _browser(app)
    login(first, "ent_chengxi")
    assert '<html lang="zh-CN"' in first.get("/", follow_redirects=True).text
    _switch(first, "en", "/")
    assert '<html lang="en"' in first.get("/", follow_redirects=True).text
    seeded.expire_all()
    user = seeded.scalar(select(User).where(User.username == "ent_chengxi"))
    assert user is not None and user.locale == "en"

    other = _browser(app)  # a second browser: no cookies, nothing in its session
    assert '<html lang="zh-CN"' in other.get("/login").text
    login(other, "ent_chengxi")
    page = other.get("/", follow_redirects=True)
    assert '<html lang="en"' in page.text and "Sign out" in page.text

    # switching back in that browser is remembered as well
    _switch(other, "zh_CN", "/")
    seeded.expire_all()
    assert seeded.scalar(select(User.locale).where(User.username == "ent_chengxi")) == "zh_CN"
    third = _browser(app)
    login(third, "ent_chengxi")
    assert '<html lang="zh-CN"' in third.get("/", follow_redirects=True).text
    # the first browser keeps the choice made in it until it switches again
    assert '<html lang="en"' in _as(first).get("/", follow_redirects=True).text


def test_anonymous_switch_is_kept_in_the_session_only(app: Flask, seeded: Session) -> None:
    browser = app.test_client()
    _switch(browser, "en", "/login")
    assert "Sign in" in browser.get("/login").text
    response = browser.post("/lang/xx", data={"csrf_token": csrf_token(browser), "next": "/login"})
    assert response.status_code == 302  # an unknown code changes nothing
    assert '<html lang="en"' in browser.get("/login").text
    assert seeded.scalar(select(User.locale).where(User.username == "ent_chengxi")) in (
        None,
        "zh_CN",
    )


def test_validation_messages_follow_the_language(client: FlaskClient, seeded: Session) -> None:
    _switch(client, "en", "/register")
    response = client.post(
        "/register",
        data={
            "csrf_token": csrf_token(client, "/register"),
            "username": "x",
            "uscc": "91310114MA1GT8QX9",
            "name": "示例",
            "password": "short",
            "password_confirm": "short",
        },
    )
    text = response.get_data(as_text=True)
    assert response.status_code in (200, 422)
    assert "The USCC must have 18 characters; you entered 17." in text
    assert "The password must have at least" in text
    assert not HAN.search(" ".join(_untranslated(text, ["示例"])))


def test_lang_parameter_on_a_redirecting_url_is_kept(app: Flask, seeded: Session) -> None:
    browser = app.test_client()
    login(browser, "owner")
    response = browser.get("/?lang=en")
    assert response.status_code in (302, 303)  # the owner's home redirects to the studio
    assert '<html lang="en"' in browser.get(response.headers["Location"]).text
