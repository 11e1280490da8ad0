"""Flask-Babel: Chinese (zh_CN) by default, English on request, remembered per user."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping
from typing import Any
from weakref import WeakKeyDictionary

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale, get_translations, gettext, refresh
from flask_login import current_user

from app.extensions import babel


def select_locale() -> str:
    if not has_request_context():
        return "zh_CN"  # CLI, worker and mail: the source language
    supported = _supported()
    chosen = request.args.get("lang")
    if chosen in supported:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in supported:
        return str(session["lang"])
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return str(current_user.locale)
    return "zh_CN"


def _supported() -> tuple[str, ...]:
    from flask import current_app

    return tuple(current_app.config["BABEL_SUPPORTED_LOCALES"])


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_timezone=app.config["APP_TIMEZONE"])

    @app.before_request
    def _fresh_locale() -> None:
        # Flask-Babel caches the locale on `g`; an application context that outlives one
        # request (tests, CLI-driven requests) must not carry the previous request's language.
        refresh()
        if "lang" in request.args:
            get_locale()  # keeps a ?lang= choice even when the response is only a redirect

    @app.context_processor
    def _locale_context() -> dict[str, object]:
        locale = get_locale()
        return {"current_locale": str(locale) if locale else "zh_CN"}

    app.jinja_env.filters["stored_text"] = translate_stored
    app.jinja_env.filters["problem_message"] = problem_message
    from app.services import model_texts

    model_texts.init_app(app)


def is_english() -> bool:
    """True when the current language (the request's, or one forced with flask_babel's
    `force_locale`) is not Chinese; outside an application context, False."""
    locale = get_locale()
    return locale is not None and locale.language != "zh"


def problem_message(problem: Any) -> str:
    """A validation problem's text in the request's language.

    Problems (`app.engine.validation.Problem` or its dict) carry `message` in Chinese and
    `message_en` in English; a problem without `message_en` shows its Chinese message.
    """
    if isinstance(problem, Mapping):
        chinese, english = problem.get("message"), problem.get("message_en")
    else:
        chinese, english = getattr(problem, "message", ""), getattr(problem, "message_en", None)
    return str(english if english and is_english() else chinese or "")


# --- texts stored in Chinese, translated when shown --------------------------------------------
#
# Processes store refusal reasons, outcome labels, notices and notifications as data (process
# data, history, notification rows): BPMN scripts and documents read them, so they must stay
# what they were when written. Such a text is a catalogue message (marked with `N_()` where it
# is made), either as it is or made by `%` with values (`N_("记录 %(no)s：%(reason)s") % {...}`).
# `translate_stored` recognises the message and its values and shows it in the request's
# language; values that are such texts themselves are translated too, everything else (names,
# numbers, dates, what people typed) is kept. A text a process model composed around such a
# text (a BPMN script's f-string) keeps the model's words and gets the embedded text
# translated. Texts no message makes (older wordings, data) are shown as they are.

_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])|%%")
_HAN = re.compile(r"[\u3400-\u9fff]")
_JOINERS = (("\n", "\n"), ("；", "; "), ("、", ", "))
_MAX_DEPTH = 4
_MIN_HAN = 2  # Chinese characters of its own a message needs to be recognised with values
_MIN_OPEN_HAN = 4  # ... when it both starts and ends with a value
_MIN_EMBEDDED_HAN = 8  # ... and to be recognised inside a longer text (a whole sentence)
_PATTERNS: WeakKeyDictionary[Any, list[_Template]] = WeakKeyDictionary()  # per catalogue
_SHOWN: WeakKeyDictionary[Any, dict[tuple[Hashable, str], str]] = (
    WeakKeyDictionary()
)  # per catalogue
_SHOWN_MAX = 5000


def N_(message: str) -> str:
    """Mark a message for extraction without translating it: it is stored or kept as Chinese
    and translated when shown (`_()` for a label, `translate_stored` for a stored text)."""
    return message


def translate_stored(value: Any) -> Any:
    """A stored Chinese text (see above) in the request's language; anything else unchanged.

    Sentences the process models wrote (their scripts' string literals) are looked up in the
    deployed models' own translations first (`app.services.model_texts`)."""
    if not isinstance(value, str) or not value or not is_english():
        return value
    return _model_first(value)


def translate_catalogue(
    value: str, model: Mapping[str, str] | None = None, key: Hashable = None
) -> str:
    """`translate_stored` by the application's catalogue, with `model` (a process model's
    translations, identified by `key`) for the values of catalogue messages (for `model_texts`)."""
    if not value or not is_english():
        return value
    return _shown(value, model, key)


def _model_first(text: str) -> str:
    from app.services.model_texts import stored_first

    return stored_first(text)


def translate_stored_deep(value: Any) -> Any:
    """`translate_stored` applied to every string in nested dicts and lists."""
    return map_strings(value, _model_first) if is_english() else value


def map_strings(value: Any, convert: Callable[[str], str]) -> Any:
    """`value` with `convert` applied to every non-empty string in nested dicts and lists."""
    if isinstance(value, str):
        return convert(value) if value else value
    if isinstance(value, Mapping):
        return {k: map_strings(v, convert) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_strings(v, convert) for v in value]
    return value


class _Template:
    """A catalogue message as a pattern of the texts `%` makes from it."""

    def __init__(self, msgid: str, pattern: re.Pattern[str], han: int, embeddable: bool):
        self.msgid, self.pattern, self.han, self.embeddable = msgid, pattern, han, embeddable

    def render(
        self, match: re.Match[str], depth: int, model: Mapping[str, str] | None = None
    ) -> str:
        if not self.pattern.groups:
            return str(gettext(self.msgid))
        values: dict[str, Any] = {}
        for group, found in match.groupdict().items():
            if group.endswith("__d"):
                values[group.removesuffix("__d")] = int(found)
            else:
                values[group] = _translate(found, depth + 1, model)
        return str(gettext(self.msgid)) % values


def _shown(text: str, model: Mapping[str, str] | None = None, key: Hashable = None) -> str:
    """`_translate` with a memory per catalogue (pages show the same reasons many times)."""
    translations = get_translations()
    memory = _SHOWN.setdefault(translations, {})
    remembered = (key, text) if model else (None, text)
    if remembered not in memory:
        if len(memory) >= _SHOWN_MAX:
            memory.clear()
        memory[remembered] = _translate(text, 0, model or {})
    return memory[remembered]


def _translate(text: str, depth: int, model: Mapping[str, str] | None = None) -> str:
    if not _HAN.search(text):
        return text
    model = model or {}
    if text in model:  # a text of the process model (a name inside a stored message)
        return model[text]
    shown = str(gettext(text))
    if shown != text or depth > _MAX_DEPTH:
        return shown
    templates = _templates()
    for template in templates:
        if template.pattern.groups:
            match = template.pattern.fullmatch(text)
            if match:
                return template.render(match, depth, model)
    for joiner, english in _JOINERS:
        if joiner in text:
            parts = text.split(joiner)
            done = [_translate(p, depth + 1, model) if p else p for p in parts]
            if done != parts:
                return english.join(done)
    for template in templates:  # marked texts inside a longer text (a model's sentence)
        if template.embeddable and _HAN.search(text):
            text = template.pattern.sub(lambda m, t=template: t.render(m, depth, model), text)
    return text


def _templates() -> list[_Template]:
    """The request catalogue's messages as patterns, the most Chinese text of their own first."""
    translations = get_translations()
    if translations not in _PATTERNS:
        catalog = getattr(translations, "_catalog", None) or {}
        built = [t for m in catalog if isinstance(m, str) and (t := _template(m)) is not None]
        built.sort(key=lambda t: -t.han)
        _PATTERNS[translations] = built
    return _PATTERNS[translations]


def _template(msgid: str) -> _Template | None:
    """The pattern of `msgid`, or None if it has too little Chinese to be recognised safely.

    A value never contains the words that follow it in the message: "A（5 个工作日）、B（7 个
    工作日）" is two texts of "%(name)s（%(days)s 个工作日）", not one with a long `days`.
    """
    literals, names, text = [], [], ""
    position = 0
    for match in _PLACEHOLDER.finditer(msgid):
        text += msgid[position : match.start()]
        position = match.end()
        if match.group(0) == "%%":
            text += "%"
        else:
            literals.append(text)
            names.append(match.groups())
            text = ""
    literals.append(text + msgid[position:])
    parts: list[str] = []
    seen: set[str] = set()
    for index, (name, kind) in enumerate(names):
        parts.append(re.escape(literals[index]))
        group = f"{name}__d" if kind == "d" else name
        after = literals[index + 1]
        if group in seen:
            parts.append(f"(?P={group})")
        elif kind == "d":
            parts.append(f"(?P<{group}>-?\\d+)")
        else:
            value = f"(?:(?!{re.escape(after)}).)*?" if after else ".*?"
            parts.append(f"(?P<{group}>{value})")
        seen.add(group)
    parts.append(re.escape(literals[-1]))
    literal = "".join(literals)
    han = len(_HAN.findall(literal))
    opens, closes = msgid.startswith("%("), bool(re.search(r"%\(\w+\)[sd]$", msgid))
    # Inside a longer text only whole sentences that start with their own words are recognised:
    # a leading value would swallow the text before it, and a phrase or a label could be part
    # of a text that must stay as it is (the wording of a commitment).
    embeddable = han >= _MIN_EMBEDDED_HAN and not opens and msgid.endswith("。")
    if not embeddable and (not seen or han < (_MIN_OPEN_HAN if opens and closes else _MIN_HAN)):
        return None
    return _Template(msgid, re.compile("".join(parts), re.S), han, embeddable)
