"""Official PDF documents: Jinja templates in `templates/pdf/` rendered by WeasyPrint.

This is the only module that imports WeasyPrint. `render_pdf(kind, context)` renders
`templates/pdf/<kind>.html` (each extends `_base.html` and documents its own context keys);
every context carries `serial`, `title`, `issued_on`, `department_name`, `subject_name`,
`subject_uscc`, `legal_basis` (str | None), `verify_url` and `qr_svg` (from `qr_svg(url)`;
made here from `verify_url` when missing).

Fonts come from the subsets made by `python -m app.pdf.fonts` (see fonts.py), with the full
Noto CJK face as fallback for rare characters. One FontConfiguration and one parsed font
stylesheet are reused by every render in the process: loading the faces happens once.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

TEMPLATE_ROOT = Path(__file__).resolve().parents[2] / "templates"

KINDS: dict[str, tuple[str, str]] = {
    # kind: (title, serial prefix)
    "commitment": ("信用承诺书", "信承"),
    "rongque_notice": ("容缺受理通知书", "容缺"),
    "notify_commit_decision": ("告知承诺审批决定书", "告承决"),
    "repair_decision": ("信用修复决定书", "信修决"),
    "objection_result": ("异议处理结果告知书", "异议告"),
    "breach_notice": ("违诺认定告知书", "违诺告"),
}

URL_SAFE = ":/?#[]@!$&'()*+,;=%~"

REQUIRED_KEYS = (
    "serial",
    "title",
    "issued_on",
    "department_name",
    "subject_name",
    "subject_uscc",
    "verify_url",
)


def cn_date(value: date | datetime | str | None) -> str:
    """2026年11月20日 (GB/T 9704: Arabic numerals, no leading zeros)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.year}年{value.month}月{value.day}日"


def qr_svg(url: str) -> str:
    """An inline SVG QR code for `url` (no XML declaration, size set by CSS)."""
    # Non-ASCII characters (the serial's 〔〕号) are percent-encoded so that every scanner
    # reads the same bytes; browsers show the decoded form.
    qr = segno.make(quote(url, safe=URL_SAFE), error="m", micro=False)
    return qr.svg_inline(scale=1, border=4, omitsize=True, dark="#000", light="#fff")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_ROOT)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cn_date"] = cn_date
    return env


class _Renderer:
    """Process-wide WeasyPrint state, created on first use and guarded by a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._env: Environment | None = None
        self._font_config: Any = None
        self._font_css: Any = None

    def _prepare(self) -> None:
        if self._env is not None:
            return
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        from app.pdf import fonts

        self._font_config = FontConfiguration()
        self._font_css = CSS(string=fonts.font_css(), font_config=self._font_config)
        self._env = _environment()

    def render_html(self, kind: str, context: dict[str, Any]) -> str:
        with self._lock:
            self._prepare()
        assert self._env is not None
        return self._env.get_template(f"pdf/{kind}.html").render(**context)

    def render(self, kind: str, context: dict[str, Any]) -> bytes:
        from weasyprint import HTML

        html = self.render_html(kind, context)
        with self._lock:  # FontConfiguration is not meant to be shared across threads
            document = HTML(string=html, base_url=TEMPLATE_ROOT.as_uri() + "/pdf/")
            return document.write_pdf(  # type: ignore[no-any-return]
                stylesheets=[self._font_css], font_config=self._font_config
            )

    def reset(self) -> None:
        """Forget fonts and templates (after `python -m app.pdf.fonts` in the same process)."""
        with self._lock:
            self._env = None
            self._font_config = None
            self._font_css = None


_renderer = _Renderer()


def full_context(kind: str, context: dict[str, Any]) -> dict[str, Any]:
    """The context as the template sees it: checked, title and QR code filled in."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    ctx = dict(context)
    ctx.setdefault("title", KINDS[kind][0])
    ctx.setdefault("legal_basis", None)
    missing = [key for key in REQUIRED_KEYS if not ctx.get(key)]
    if missing:
        raise ValueError(f"document context lacks {', '.join(missing)}")
    ctx["qr_svg"] = Markup(ctx.get("qr_svg") or qr_svg(ctx["verify_url"]))
    ctx["kind"] = kind
    return ctx


def render_html(kind: str, context: dict[str, Any]) -> str:
    """The HTML that `render_pdf` would print (for previews and debugging)."""
    return _renderer.render_html(kind, full_context(kind, context))


def render_pdf(kind: str, context: dict[str, Any]) -> bytes:
    """Render document `kind` with `context` to PDF bytes (unsigned)."""
    return _renderer.render(kind, full_context(kind, context))


def reset() -> None:
    _renderer.reset()


__all__ = ["KINDS", "cn_date", "qr_svg", "render_html", "render_pdf", "reset"]
