"""Sessions and tokens: idle and absolute expiry, token expiry, sign-out everywhere, cookies."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.models import ApiToken, AuditEvent, User
from app.models.base import utcnow
from app.security import AUTH_AT
from config import Config, DevelopmentConfig, ProductionConfig, default_config
from tests.conftest import api_token, csrf_token, login

# In-process on every backend (the other fault tests need real processes and PostgreSQL).
INBOX = "/approver/inbox"


def _fresh() -> None:
    """The tests' app context outlives requests (a server's does not): clear what flask-login
    and Flask-WTF cache per request in `g`, so each request reads its own cookie."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def _get(client: FlaskClient, path: str) -> TestResponse:
    _fresh()
    return client.get(path)


def _login(client: FlaskClient, username: str) -> None:
    _fresh()
    login(client, username)


def _session_cookie(response_headers: list[str]) -> str:
    cookies = [c for c in response_headers if c.startswith("session=")]
    assert cookies, response_headers
    return cookies[-1]


def _at(monkeypatch: pytest.MonkeyPatch, offset_s: int) -> None:
    """Make the session signer's clock read `offset_s` seconds from the real now."""
    real = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real + offset_s)


def test_login_cookie_is_httponly_samesite_and_expires_with_the_idle_timeout(
    client: FlaskClient, seeded: Session, app: Flask
) -> None:
    response = client.post(
        "/login",
        data={"username": "rev_samr", "password": "demo12345", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    cookie = _session_cookie(response.headers.getlist("Set-Cookie"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain http
    assert "Expires=" in cookie
    assert app.permanent_session_lifetime == timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])


def test_production_config_sends_cookies_only_over_https(
    client: FlaskClient, seeded: Session, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("WEBHOOK_SECRET", "y" * 32)
    for name, env in (("APP_ENV", "production"), ("FLASK_ENV", "production")):
        monkeypatch.delenv("APP_ENV", raising=False)
        monkeypatch.delenv("FLASK_ENV", raising=False)
        monkeypatch.setenv(name, env)
        assert isinstance(default_config(), ProductionConfig)
    monkeypatch.delenv("FLASK_ENV")
    assert type(default_config()) is DevelopmentConfig
    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE
    assert not Config.SESSION_COOKIE_SECURE

    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        monkeypatch.setitem(app.config, key, getattr(ProductionConfig, key))
    https = app.test_client()
    token = csrf_token(https, "https://localhost/login")
    response = https.post(
        "https://localhost/login",
        data={"username": "rev_samr", "password": "demo12345", "csrf_token": token},
        headers={"Referer": "https://localhost/login"},  # Flask-WTF's strict check over HTTPS
    )
    assert response.status_code == 302, response.text
    cookie = _session_cookie(response.headers.getlist("Set-Cookie"))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_idle_session_expires_but_activity_keeps_it_alive(
    client: FlaskClient, seeded: Session, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _login(client, "rev_samr")
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    _at(monkeypatch, idle - 60)  # active just before the timeout: the cookie is re-signed
    assert _get(client, INBOX).status_code == 200
    _at(monkeypatch, 2 * idle - 120)  # still within the timeout of that last request
    assert _get(client, INBOX).status_code == 200
    _at(monkeypatch, 3 * idle)  # idle for longer than the timeout
    response = _get(client, INBOX)
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_a_session_ends_after_the_absolute_lifetime_even_when_active(
    client: FlaskClient, seeded: Session, app: Flask
) -> None:
    _login(client, "rev_samr")
    assert _get(client, INBOX).status_code == 200
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    with client.session_transaction() as cookie_session:
        cookie_session[AUTH_AT] = int(time.time()) - hours * 3600 - 5
    response = _get(client, INBOX)
    assert response.status_code == 302 and response.location.startswith("/login")
    assert "登录已超过有效期" in _get(client, response.location).text
    assert _get(client, INBOX).status_code == 302  # stays signed out
    _login(client, "rev_samr")  # signing in again starts a new lifetime
    assert _get(client, INBOX).status_code == 200


def test_an_expired_api_token_gets_401(client: FlaskClient, seeded: Session) -> None:
    headers = api_token(client, "rev_samr")
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    token = seeded.scalar(select(ApiToken).order_by(ApiToken.id.desc()))
    assert token is not None
    token.expires_at = utcnow() - timedelta(seconds=1)
    seeded.commit()
    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_sign_out_everywhere_ends_other_sessions_and_personal_tokens(
    app: Flask, seeded: Session
) -> None:
    laptop, phone, other = app.test_client(), app.test_client(), app.test_client()
    _login(laptop, "rev_samr")
    _login(phone, "rev_samr")
    _login(other, "rev_tax")
    headers = api_token(app.test_client(), "rev_samr")
    assert _get(phone, INBOX).status_code == 200

    page = _get(laptop, INBOX)
    assert "退出所有设备" in page.text
    _fresh()
    response = laptop.post("/logout/everywhere", data={"csrf_token": csrf_token(laptop, INBOX)})
    assert response.status_code == 302 and response.location.startswith("/login")
    assert "所有设备" in _get(laptop, response.location).text

    for browser in (laptop, phone):
        bounced = _get(browser, INBOX)
        assert bounced.status_code == 302 and bounced.location.startswith("/login")
    _fresh()
    assert app.test_client().get("/api/v1/tasks", headers=headers).status_code == 401
    assert _get(other, INBOX).status_code == 200  # other users are not affected
    user = seeded.scalar(select(User).where(User.username == "rev_samr"))
    seeded.expire_all()
    assert seeded.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "auth.logout_everywhere", AuditEvent.actor_id == user.id
        )
    )
    _login(phone, "rev_samr")  # signing in again works
    assert _get(phone, INBOX).status_code == 200


def test_sign_out_everywhere_needs_a_csrf_token(client: FlaskClient, seeded: Session) -> None:
    _login(client, "rev_samr")
    assert client.post("/logout/everywhere").status_code == 400
    assert _get(client, INBOX).status_code == 200
