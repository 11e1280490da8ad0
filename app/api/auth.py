"""POST /api/v1/auth/token, and the scopes of integration tokens (before every API call)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.api import bp
from app.api.common import UnauthorizedError, json_body, require_str
from app.extensions import db, limiter
from app.models import ApiToken
from app.models.base import utcnow
from app.services import accounts
from app.services.accounts import _token_hash as token_hash
from app.services.errors import NotAllowedError
from app.services.uow import transaction
from app.web.auth.routes import _login_limit


@bp.route("/auth/token", methods=["POST"])
@limiter.limit(_login_limit)
def create_token() -> tuple[Response, int]:
    """Exchange username and password for a bearer token."""
    fields = require_str(json_body(), "username", "password")
    ttl = timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"])
    with transaction() as session:
        user = accounts.authenticate(session, fields["username"], fields["password"])
        if user is None:
            session.commit()  # keep the failed-login audit entry
            raise UnauthorizedError(_("用户名或密码不正确。"))
        raw, token = accounts.issue_token(session, user, ttl=ttl)
        expires = token.expires_at.isoformat()
    return jsonify(token=raw, expires_at=expires), 200


# --- integration tokens: scopes ----------------------------------------------------------

# (endpoint, method) → the scope an integration token needs. Anything not listed is closed
# to integration tokens (403); personal tokens ignore scopes and act as their user.
SCOPE_READ = "read"
SCOPE_RECORDS_IMPORT = "records:import"
SCOPE_MESSAGES_SEND = "messages:send"
SCOPES = (SCOPE_RECORDS_IMPORT, SCOPE_MESSAGES_SEND, SCOPE_READ)
INTEGRATION_ENDPOINTS: dict[tuple[str, str], str] = {
    ("api.list_definitions", "GET"): SCOPE_READ,
    ("api.verify", "GET"): SCOPE_READ,
    ("api.openapi_json", "GET"): SCOPE_READ,
    ("api.subject_records", "GET"): SCOPE_READ,
    ("api.import_records", "POST"): SCOPE_RECORDS_IMPORT,
    ("api.post_message", "POST"): SCOPE_MESSAGES_SEND,
}


@bp.before_request
def enforce_integration_scopes() -> None:
    """An integration token reaches only the endpoints whose scope it holds (else 403).

    Runs before the view's `token_required`: a missing, invalid, expired or revoked token is
    left to it (401). The token acts as the admin who created it, within its scopes.
    """
    g.api_token_kind = None
    g.api_token_scopes = frozenset()
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip() or request.method == "OPTIONS":
        return
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_hash(raw.strip()))
    )
    g.api_token = (raw.strip(), token)  # `token_required` checks it without a second lookup
    if token is None or not token.is_valid(utcnow()) or not token.user.active:
        return
    if token.kind != "integration":
        g.api_token_kind = token.kind
        return
    scopes = frozenset(getattr(token, "scopes", None) or ())
    g.api_token_kind, g.api_token_scopes = "integration", scopes
    method = "GET" if request.method == "HEAD" else request.method
    needed = INTEGRATION_ENDPOINTS.get((request.endpoint or "", method))
    if needed is None:
        raise NotAllowedError(_("集成令牌不能调用此接口；请使用个人访问令牌。"))
    if needed not in scopes:
        raise NotAllowedError(_("集成令牌缺少权限范围 %(scope)s，无权调用此接口。", scope=needed))


def is_integration() -> bool:
    """True when the request is authenticated by an integration token (scope already checked)."""
    return g.get("api_token_kind") == "integration"
