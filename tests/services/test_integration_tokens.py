"""Integration tokens: created by an admin with scopes and an expiry, shown once, revocable."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken, AuditEvent, User
from app.models.base import utcnow
from app.services import accounts, integration_tokens
from app.services.errors import InvalidInputError, NotAllowedError, NotFoundError


def _user(session: Session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def test_create_keeps_only_the_hash_and_the_scopes(seeded: Session) -> None:
    admin = _user(seeded, "admin")
    now = utcnow()
    raw, token = integration_tokens.create(
        seeded,
        admin,
        name="信用中国（上海）",
        scopes=["records:import", "read", "read"],
        expires_in_days="90",
        now=now,
    )
    seeded.commit()

    assert raw.startswith("cfi_") and len(raw) > 40
    stored = seeded.get(ApiToken, token.id)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (stored.token_hash, stored.name)
    assert (stored.kind, stored.user_id) == ("integration", admin.id)
    assert stored.scopes == ["records:import", "read"]
    assert stored.expires_at == now + timedelta(days=90)
    assert accounts.user_for_token(seeded, raw) == admin  # a working bearer token
    [entry] = seeded.scalars(
        select(AuditEvent).where(AuditEvent.action == "integration_token.created")
    ).all()
    assert entry.object_id == str(token.id) and entry.details["scopes"] == [
        "records:import",
        "read",
    ]
    assert raw not in str(entry.details)


def test_list_shows_states_newest_first(seeded: Session) -> None:
    admin = _user(seeded, "admin")
    now = utcnow()
    _, old = integration_tokens.create(
        seeded, admin, name="旧", scopes=["read"], expires_in_days=1, now=now - timedelta(days=2)
    )
    _, revoked = integration_tokens.create(
        seeded, admin, name="吊销", scopes=["read"], expires_in_days=30
    )
    _, live = integration_tokens.create(
        seeded, admin, name="有效", scopes=["messages:send"], expires_in_days=30
    )
    integration_tokens.revoke(seeded, admin, revoked.id)
    accounts.issue_token(seeded, admin, ttl=timedelta(hours=1))  # personal: not listed

    views = integration_tokens.list_tokens(seeded, now=now)

    assert [(v.token.id, v.status) for v in views] == [
        (live.id, "active"),
        (revoked.id, "revoked"),
        (old.id, "expired"),
    ]
    assert accounts.user_for_token(seeded, "cfi_nonsense") is None


def test_revoke_is_audited_once_and_stops_the_token(seeded: Session) -> None:
    admin = _user(seeded, "admin")
    raw, token = integration_tokens.create(
        seeded, admin, name="地方平台", scopes=["messages:send"], expires_in_days=30
    )
    integration_tokens.revoke(seeded, admin, token.id)
    integration_tokens.revoke(seeded, admin, token.id)  # a second revoke changes nothing
    seeded.commit()

    assert accounts.user_for_token(seeded, raw) is None
    actions = seeded.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "api_token", AuditEvent.object_id == str(token.id)
        )
    ).all()
    assert actions == ["integration_token.created", "integration_token.revoked"]


def test_personal_tokens_are_not_revoked_here(seeded: Session) -> None:
    admin = _user(seeded, "admin")
    _, personal = accounts.issue_token(seeded, _user(seeded, "rev_samr"), ttl=timedelta(hours=1))
    with pytest.raises(NotFoundError):
        integration_tokens.revoke(seeded, admin, personal.id)
    with pytest.raises(NotFoundError):
        integration_tokens.revoke(seeded, admin, 999999)


@pytest.mark.parametrize("username", ["owner", "rev_samr", "ent_chengxi"])
def test_only_admins_manage_integration_tokens(seeded: Session, username: str) -> None:
    actor = _user(seeded, username)
    with pytest.raises(NotAllowedError):
        integration_tokens.create(seeded, actor, name="x", scopes=["read"], expires_in_days=30)
    _, token = integration_tokens.create(
        seeded, _user(seeded, "admin"), name="x", scopes=["read"], expires_in_days=30
    )
    with pytest.raises(NotAllowedError):
        integration_tokens.revoke(seeded, actor, token.id)


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"name": "", "scopes": ["read"], "expires_in_days": 30}, {"name"}),
        ({"name": "x" * 129, "scopes": ["read"], "expires_in_days": 30}, {"name"}),
        ({"name": "x", "scopes": [], "expires_in_days": 30}, {"scopes"}),
        ({"name": "x", "scopes": ["admin"], "expires_in_days": 30}, {"scopes"}),
        ({"name": "x", "scopes": ["read"], "expires_in_days": 0}, {"expires_in_days"}),
        ({"name": "x", "scopes": ["read"], "expires_in_days": 731}, {"expires_in_days"}),
        ({"name": "x", "scopes": ["read"], "expires_in_days": "soon"}, {"expires_in_days"}),
        (
            {"name": " ", "scopes": None, "expires_in_days": None},
            {"name", "scopes", "expires_in_days"},
        ),
    ],
)
def test_bad_input_names_each_field(seeded: Session, values: dict, fields: set[str]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        integration_tokens.create(seeded, _user(seeded, "admin"), **values)
    assert set(caught.value.fields) == fields
    assert seeded.scalar(select(ApiToken).where(ApiToken.kind == "integration")) is None


def test_last_use_is_recorded_once_a_minute_not_on_every_call(seeded: Session) -> None:
    admin = _user(seeded, "admin")
    now = utcnow()
    raw, token = integration_tokens.create(
        seeded, admin, name="公示系统", scopes=["read"], expires_in_days="30", now=now
    )
    seeded.commit()
    assert accounts.user_for_token(seeded, raw, now=now) == admin
    assert seeded.get(ApiToken, token.id).last_used_at == now
    soon = now + timedelta(seconds=30)
    assert accounts.user_for_token(seeded, raw, now=soon) == admin
    assert seeded.get(ApiToken, token.id).last_used_at == now  # no write within the minute
    later = now + timedelta(minutes=2)
    assert accounts.user_for_token(seeded, raw, now=later) == admin
    assert seeded.get(ApiToken, token.id).last_used_at == later
