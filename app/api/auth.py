"""POST /api/v1/auth/token."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, jsonify
from werkzeug.wrappers import Response

from app.api import bp
from app.api.common import UnauthorizedError, json_body, require_str
from app.extensions import limiter
from app.services import accounts
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
            raise UnauthorizedError("用户名或密码不正确。")
        raw, token = accounts.issue_token(session, user, ttl=ttl)
        expires = token.expires_at.isoformat()
    return jsonify(token=raw, expires_at=expires), 200
