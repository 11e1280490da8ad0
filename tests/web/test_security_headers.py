"""Security headers on every response; CSP nonces on inline scripts; HSTS only over HTTPS."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, request
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app import security
from tests.conftest import login

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _directives(policy: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.partition(" ")[2] for part in policy.split("; ")}


def test_pages_carry_the_policy_and_frame_denial(client: FlaskClient, seeded: Session) -> None:
    response = client.get("/login")
    headers = response.headers
    policy = _directives(headers["Content-Security-Policy"])
    assert re.fullmatch(r"'self' 'nonce-[\w-]{20,}'", policy["script-src"])
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["img-src"] == "'self' data: blob:"
    assert policy["font-src"] == "'self' data:"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["form-action"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain http: no HSTS


def test_signed_in_pages_are_not_stored_by_caches(client: FlaskClient, seeded: Session) -> None:
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login(client, "ent_chengxi")
    page = client.get("/enterprise/records")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"


def test_every_kind_of_response_has_the_headers(client: FlaskClient, seeded: Session) -> None:
    for path in ("/login", "/no-such-page", "/api/v1/no-such", "/healthz", "/static/css/app.css"):
        with client.get(path) as response:
            assert "Content-Security-Policy" in response.headers, path
            assert response.headers["X-Frame-Options"] == "DENY", path
            assert response.headers["X-Content-Type-Options"] == "nosniff", path


def test_the_nonce_is_new_on_each_request_and_matches_the_inline_scripts(
    client: FlaskClient, seeded: Session
) -> None:
    nonces = set()
    for _ in range(3):
        response = client.get("/api/docs")
        assert response.status_code == 200
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
        assert nonce
        nonces.add(nonce.group(1))
        for tag in re.findall(r"<script\b[^>]*>", response.text):
            if "src=" in tag or 'type="application/json"' in tag:
                continue
            assert f'nonce="{nonce.group(1)}"' in tag, tag
    assert len(nonces) == 3


def test_templates_have_no_inline_script_without_nonce_and_no_event_handler_attributes() -> None:
    """Inline scripts need `nonce="{{ csp_nonce }}"`; `onclick=` and friends are refused by the
    policy, so handlers belong in a nonce'd script (or a static file)."""
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            executable = "src=" not in tag and 'type="application/json"' not in tag
            if executable and 'nonce="{{ csp_nonce }}"' not in tag:
                problems.append(f"{path.relative_to(TEMPLATES)}: {tag}")
        for handler in re.findall(r"\son[a-z]+\s*=\s*[\"']", text):
            problems.append(f"{path.relative_to(TEMPLATES)}: inline handler {handler.strip()}")
        if "javascript:" in text:
            problems.append(f"{path.relative_to(TEMPLATES)}: javascript: URL")
    assert problems == []


def _bare_app(trusted_proxies: int) -> Flask:
    """A minimal app with only the security layer (the real factory is covered above)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="k",
        SESSION_IDLE_MINUTES=30,
        SESSION_ABSOLUTE_HOURS=12,
        TRUSTED_PROXY_COUNT=trusted_proxies,
    )
    security.init_app(app)
    app.add_url_rule("/", "index", lambda: "ok")
    app.add_url_rule("/who", "who", lambda: request.remote_addr or "")
    return app


def test_hsts_only_over_https() -> None:
    client = _bare_app(0).test_client()
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://creditflow.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_forwarded_headers_are_believed_only_from_a_configured_proxy() -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    direct = _bare_app(0).test_client()
    response = direct.get("/", headers=forwarded)
    assert "Strict-Transport-Security" not in response.headers  # a client cannot claim TLS
    assert direct.get("/who", headers=forwarded).text == "127.0.0.1"

    proxied = _bare_app(1).test_client()
    response = proxied.get("/", headers=forwarded)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert proxied.get("/who", headers=forwarded).text == "203.0.113.7"  # rate limits per client
