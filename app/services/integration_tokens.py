"""Integration tokens: scoped, expiring, revocable bearer tokens for the credit platforms.

A token belongs to the administrator who created it (`user_id`) but acts only within its
scopes (enforced in app/api/auth.py). Only the SHA-256 of the token is stored; the plain value
is returned once, at creation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import N_
from app.models import ApiToken, Role, User
from app.models.base import utcnow
from app.services import audit
from app.services.accounts import _token_hash
from app.services.errors import InvalidInputError, NotAllowedError, NotFoundError

KIND = "integration"
SCOPES: dict[str, str] = {
    "records:import": N_("导入信用记录（POST /api/v1/records）"),
    "messages:send": N_("向流程发送消息（POST /api/v1/messages）"),
    "read": N_("只读查询（流程定义、文书核验、主体信用记录）"),
}
EXPIRY_DAYS = (30, 90, 180, 365)
MAX_EXPIRY_DAYS = 730


@dataclass(frozen=True)
class TokenView:
    token: ApiToken
    status: str  # active | expired | revoked
    status_label: str


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN.value:
        raise NotAllowedError(_("只有系统管理员可以管理集成令牌。"))


def _clean(name: Any, scopes: Any, expires_in_days: Any) -> tuple[str, list[str], int]:
    fields: dict[str, list[str]] = {}
    name = str(name or "").strip()
    if not name:
        fields["name"] = [_("请填写令牌名称（例如对接的平台）。")]
    elif len(name) > 128:
        fields["name"] = [_("名称最多 128 个字符。")]
    scope_list = [str(s) for s in (scopes or [])]
    if not scope_list:
        fields["scopes"] = [_("请至少选择一项权限范围。")]
    elif unknown := [s for s in scope_list if s not in SCOPES]:
        fields["scopes"] = [_("未知权限范围：%(scopes)s", scopes="、".join(unknown))]
    try:
        days = int(str(expires_in_days).strip())
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        fields["expires_in_days"] = [_("有效期须为 1–%(max_days)s 天。", max_days=MAX_EXPIRY_DAYS)]
    if fields:
        raise InvalidInputError(_("集成令牌设置未通过校验。"), fields)
    return name, list(dict.fromkeys(scope_list)), days


def create(
    session: Session,
    actor: User,
    *,
    name: Any,
    scopes: Any,
    expires_in_days: Any,
    now: datetime | None = None,
) -> tuple[str, ApiToken]:
    """A new integration token; the plain value is returned here and never again."""
    _require_admin(actor)
    clean_name, scope_list, days = _clean(name, scopes, expires_in_days)
    now = now or utcnow()
    raw = "cfi_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=actor.id,
        token_hash=_token_hash(raw),
        kind=KIND,
        name=clean_name,
        scopes=scope_list,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        "integration_token.created",
        actor=actor,
        object_type="api_token",
        object_id=str(token.id),
        details={
            "name": clean_name,
            "scopes": scope_list,
            "expires_at": token.expires_at.isoformat(),
        },
    )
    return raw, token


def status_of(token: ApiToken, now: datetime) -> tuple[str, str]:
    if token.revoked_at is not None:
        return "revoked", N_("已吊销")
    if token.expires_at <= now:
        return "expired", N_("已过期")
    return "active", N_("有效")


def list_tokens(session: Session, *, now: datetime | None = None) -> list[TokenView]:
    """Every integration token, newest first, with its state."""
    now = now or utcnow()
    rows = session.scalars(
        select(ApiToken).where(ApiToken.kind == KIND).order_by(ApiToken.id.desc())
    ).all()
    return [TokenView(t, *status_of(t, now)) for t in rows]


def revoke(
    session: Session, actor: User, token_id: int, *, now: datetime | None = None
) -> ApiToken:
    """Revoke an integration token at once (a second revoke changes nothing)."""
    _require_admin(actor)
    token = session.get(ApiToken, token_id)
    if token is None or token.kind != KIND:
        raise NotFoundError(_("集成令牌不存在。"))
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        audit.record(
            session,
            "integration_token.revoked",
            actor=actor,
            object_type="api_token",
            object_id=str(token.id),
            details={"name": token.name, "scopes": list(token.scopes or [])},
        )
        session.flush()
    return token
