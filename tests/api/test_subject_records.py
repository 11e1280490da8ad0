"""GET /api/v1/subjects/{uscc}/records: an enterprise sees only its own subject."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import api_token

OWN = "91310114MA1GT8QX92"
OTHER = "91370200MADD272H4F"


def test_enterprise_reads_its_own_records(client: FlaskClient, seeded: Session) -> None:
    response = client.get(
        f"/api/v1/subjects/{OWN}/records", headers=api_token(client, "ent_chengxi")
    )
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 5 and body["page"] == 1
    item = body["items"][0]
    assert set(item) >= {
        "id",
        "type",
        "severity",
        "decision_no",
        "department",
        "decided_on",
        "published_on",
        "public_until",
        "repairable",
        "repairable_from",
        "status",
    }
    repairable_now = [
        r for r in body["items"] if r["repairable"] and r["repairable_from"] <= "2026-11-20"
    ]
    assert len(repairable_now) >= 3
    assert len({r["department"] for r in repairable_now}) >= 2
    assert any(r["type"] == "abnormal_operations" for r in body["items"])
    assert any(r["repairable"] and r["repairable_from"] > "2026-11-20" for r in body["items"])


def test_other_subject_is_indistinguishable_from_unknown(
    client: FlaskClient, seeded: Session
) -> None:
    headers = api_token(client, "ent_chengxi")
    other = client.get(f"/api/v1/subjects/{OTHER}/records", headers=headers)
    unknown = client.get("/api/v1/subjects/91350100M000100Y43/records", headers=headers)
    assert other.status_code == unknown.status_code == 404
    assert other.json == unknown.json
    assert "青岛" not in other.text


def test_approver_reads_any_subject(client: FlaskClient, seeded: Session) -> None:
    response = client.get(f"/api/v1/subjects/{OTHER}/records", headers=api_token(client, "rev_tax"))
    assert response.status_code == 200 and response.json["total"] == 1


def test_lowercase_code_is_normalised(client: FlaskClient, seeded: Session) -> None:
    response = client.get(
        f"/api/v1/subjects/{OWN.lower()}/records", headers=api_token(client, "ent_chengxi")
    )
    assert response.status_code == 200


def test_pagination(client: FlaskClient, seeded: Session) -> None:
    headers = api_token(client, "ent_chengxi")
    page2 = client.get(f"/api/v1/subjects/{OWN}/records?per_page=2&page=2", headers=headers).json
    assert page2["per_page"] == 2 and page2["page"] == 2 and len(page2["items"]) == 2
    assert page2["total"] == 5


def test_malformed_code_is_422(client: FlaskClient, seeded: Session) -> None:
    response = client.get("/api/v1/subjects/123/records", headers=api_token(client, "rev_tax"))
    assert response.status_code == 422
