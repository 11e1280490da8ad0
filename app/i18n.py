"""Flask-Babel: Chinese (zh_CN) by default, English on request, remembered per user."""

from __future__ import annotations

from flask import Flask, has_request_context, request, session
from flask_babel import refresh
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

    @app.context_processor
    def _locale_context() -> dict[str, object]:
        from flask_babel import get_locale

        locale = get_locale()
        return {"current_locale": str(locale) if locale else "zh_CN"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (translate at display with `_()`)."""
    return message
