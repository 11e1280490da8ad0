"""Bearer tokens made directly in the database (POST /auth/token is rate-limited in tests)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from app.models import ApiToken
from app.models.base import utcnow
from app.services.accounts import _token_hash, issue_token
from tests.engine_fixtures import user

Headers = dict[str, str]


def bearer(raw: str) -> Headers:
    return {"Authorization": f"Bearer {raw}"}


def personal(session: Session, username: str) -> Headers:
    """A personal token of a demo user (acts as that user)."""
    raw, _ = issue_token(session, user(session, username), ttl=timedelta(hours=1))
    session.commit()
    return bearer(raw)


def integration(session: Session, *scopes: str, owner: str = "admin") -> Headers:
    """An integration token of the admin `owner`, holding exactly `scopes`."""
    raw = "cf_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user(session, owner).id,
        token_hash=_token_hash(raw),
        kind="integration",
        name="测试平台 " + ",".join(scopes),
        expires_at=utcnow() + timedelta(hours=1),
    )
    token.scopes = list(scopes)
    session.add(token)
    session.commit()
    return bearer(raw)
