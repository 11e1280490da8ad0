"""POST /api/v1/auth/token: hashed, expiring, revocable bearer tokens."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken, User
from app.models.base import utcnow
from app.services.accounts import revoke_token
from tests.conftest import api_token

RECORDS = "/api/v1/subjects/91310114MA1GT8QX92/records"


def test_token_is_stored_only_as_hash(client: FlaskClient, seeded: Session) -> None:
    response = client.post(
        "/api/v1/auth/token", json={"username": "ent_chengxi", "password": "demo12345"}
    )
    assert response.status_code == 200
    raw = response.json["token"]
    assert "+" in response.json["expires_at"] or response.json["expires_at"].endswith("Z")
    hashes = seeded.scalars(select(ApiToken.token_hash)).all()
    assert raw not in hashes and len(hashes) == 1


def test_bad_credentials_give_401_envelope(client: FlaskClient, seeded: Session) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "ent_chengxi", "password": "x"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_malformed_body_gives_400_or_422(client: FlaskClient, seeded: Session) -> None:
    assert client.post("/api/v1/auth/token", data="nope").status_code == 400
    response = client.post("/api/v1/auth/token", json={"username": 5})
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == {"username", "password"}


def test_token_requests_are_rate_limited(client: FlaskClient, seeded: Session) -> None:
    codes = [
        client.post(
            "/api/v1/auth/token", json={"username": "ent_chengxi", "password": "bad"}
        ).status_code
        for _ in range(6)
    ]
    assert codes == [401] * 5 + [429]
    assert (
        client.post("/api/v1/auth/token", json={"username": "x", "password": "y"}).json["error"][
            "code"
        ]
        == "rate_limited"
    )


def test_missing_expired_and_revoked_tokens_are_401(client: FlaskClient, seeded: Session) -> None:
    assert client.get(RECORDS).status_code == 401
    assert client.get(RECORDS, headers={"Authorization": "Bearer nope"}).status_code == 401
    headers = api_token(client, "ent_chengxi")
    assert client.get(RECORDS, headers=headers).status_code == 200
    token = seeded.scalars(select(ApiToken)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    seeded.commit()
    assert client.get(RECORDS, headers=headers).status_code == 401
    token.expires_at = utcnow() + timedelta(hours=1)
    user = seeded.scalar(select(User).where(User.username == "ent_chengxi"))
    revoke_token(seeded, token.id, user)
    seeded.commit()
    assert client.get(RECORDS, headers=headers).status_code == 401
