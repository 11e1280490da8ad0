"""Administrator pages: integration tokens for the credit platforms."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import role_required
from app.extensions import db
from app.models import Role
from app.services import integration_tokens
from app.services.errors import InvalidInputError
from app.services.uow import transaction
from app.web.admin import bp


def _page(
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    shown_token: str | None = None,
    shown_name: str | None = None,
) -> str:
    return render_template(
        "admin/tokens.html",
        tokens=integration_tokens.list_tokens(db.session),
        scopes=integration_tokens.SCOPES,
        expiry_days=integration_tokens.EXPIRY_DAYS,
        values=values or {"name": "", "scopes": [], "expires_in_days": "90"},
        errors=errors or {},
        shown_token=shown_token,
        shown_name=shown_name,
    )


@bp.route("/tokens", methods=["GET"])
@role_required(Role.ADMIN)
def tokens_index() -> str:
    """Integration tokens and the form to create one."""
    return _page()


@bp.route("/tokens", methods=["POST"])
@role_required(Role.ADMIN)
def tokens_create() -> tuple[str, int]:
    values = {
        "name": request.form.get("name", ""),
        "scopes": request.form.getlist("scopes"),
        "expires_in_days": request.form.get("expires_in_days", ""),
    }
    try:
        with transaction() as session:
            raw, token = integration_tokens.create(session, current_user, **values)
    except InvalidInputError as exc:
        return _page(values=values, errors=exc.fields), 422
    flash(_("已创建集成令牌“%(name)s”。", name=token.name), "success")
    return _page(shown_token=raw, shown_name=token.name), 201


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@role_required(Role.ADMIN)
def tokens_revoke(token_id: int) -> Response:
    with transaction() as session:
        token = integration_tokens.revoke(session, current_user, token_id)
    flash(_("已吊销集成令牌“%(name)s”，使用它的调用将立即被拒绝。", name=token.name), "success")
    return redirect(url_for("admin.tokens_index"))
