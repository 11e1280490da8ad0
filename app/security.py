"""Security defaults on every response, sessions that expire, and the trusted-proxy setting.

- Content-Security-Policy with a per-request nonce: inline `<script>` blocks must carry
  `nonce="{{ csp_nonce }}"` (inline event handlers such as `onclick=` are refused). Styles may be
  inline because bpmn-js and dmn-js set them.
- X-Frame-Options, X-Content-Type-Options, Referrer-Policy, Permissions-Policy; HSTS only on
  HTTPS requests. Behind a reverse proxy, `TRUSTED_PROXY_COUNT` hops of X-Forwarded-For/-Proto/
  -Host/-Port are believed (werkzeug ProxyFix); with 0 (the default) they are ignored, so a client
  cannot claim HTTPS or another address.
- Sessions: idle timeout (`SESSION_IDLE_MINUTES`, enforced by the signed cookie's age, refreshed
  on every request) and absolute lifetime from sign-in (`SESSION_ABSOLUTE_HOURS`).
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from flask import Flask, current_app, flash, request, session
from flask_babel import gettext as _
from flask_login import logout_user, user_logged_in
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

AUTH_AT = "_auth_at"  # session key: when the user signed in (epoch seconds)
HSTS = "max-age=31536000; includeSubDomains"
NONCE_KEY = "creditflow.csp_nonce"


def csp_nonce() -> str:
    """This request's script nonce (created on first use)."""
    nonce = request.environ.get(NONCE_KEY)  # per request (an app context may outlive one)
    if nonce is None:
        nonce = request.environ[NONCE_KEY] = secrets.token_urlsafe(18)
    return str(nonce)


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        )
    )


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if response.mimetype == "text/html" and _signed_in():
        # A signed-in page (records, cases, decisions) must not stay in shared caches or be
        # shown again from the back button after sign-out.
        headers.setdefault("Cache-Control", "no-store")
    return response


def _signed_in() -> bool:
    from flask_login import current_user

    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # noqa: BLE001 - e.g. the database is down while drawing an error page
        return False


def _enforce_session_lifetime() -> None:
    """Sessions live `SESSION_IDLE_MINUTES` past the last request, at most `…_ABSOLUTE_HOURS`."""
    if "_user_id" not in session:
        return
    limit = current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    signed_in = session.get(AUTH_AT)
    if isinstance(signed_in, int | float) and time.time() - signed_in <= limit:
        return
    logout_user()
    session.pop(AUTH_AT, None)
    flash(_("登录已超过有效期，请重新登录。"), "info")


def _remember_sign_in(_app: Flask, **_extra: object) -> None:
    session.permanent = True  # cookie expiry and the signature's max age = the idle timeout
    session[AUTH_AT] = int(time.time())


def init_app(app: Flask) -> None:
    """Install the proxy fix, the headers, the nonce for templates and the session limits."""
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    hops = int(app.config.get("TRUSTED_PROXY_COUNT", 0) or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    app.after_request(_set_headers)
    app.before_request(_enforce_session_lifetime)
    user_logged_in.connect(_remember_sign_in, app)

    @app.context_processor
    def _nonce() -> dict[str, str]:
        return {"csp_nonce": csp_nonce()}
