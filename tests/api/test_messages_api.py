"""POST /api/v1/messages: who may send, body validation, idempotency by message_id.

The flow itself (a correlated message completes a waiting instance) is also covered in
test_engine_api.py; here the focus is integration tokens, repeats and concurrent repeats.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import AuditEvent, ProcessedMessage, ProcessInstance
from app.services import instances, tasks
from app.services.uow import transaction
from tests.api.token_helpers import Headers, integration, personal
from tests.engine_fixtures import deploy_test_bundle, only_task, user

URL = "/api/v1/messages"


def waiting_instance(session: Session) -> int:
    """A review_case instance approved by SAMR, now waiting for `dept_confirmation`."""
    instance = instances.start_instance(session, "review_case", {}, user(session, "ent_chengxi"))
    session.commit()
    submit = only_task(session, instance.id, "submit_application")
    tasks.complete(session, submit.id, {"claim": "请求修复"}, user(session, "ent_chengxi"))
    session.commit()
    review = only_task(session, instance.id, "review_application")
    tasks.complete(
        session, review.id, {"decision": "approve", "opinion": "同意"}, user(session, "rev_samr")
    )
    session.commit()
    return instance.id


@pytest.fixture()
def waiting(seeded: Session) -> Iterator[int]:
    deploy_test_bundle(seeded, "review_case")
    yield waiting_instance(seeded)


def message(instance_id: int, message_id: str = "confirm-1") -> dict[str, Any]:
    return {
        "name": "dept_confirmation",
        "correlation": {"case_id": instance_id},
        "payload": {"ok": True, "by": "市场监管局"},
        "message_id": message_id,
    }


def _status(session: Session, instance_id: int) -> str:
    session.expire_all()
    found = session.get(ProcessInstance, instance_id)
    assert found is not None
    return found.status


def _audits(session: Session) -> int:
    """Audit entries other than issuing the test's tokens."""
    session.expire_all()
    query = select(func.count()).select_from(AuditEvent)
    return session.scalar(query.where(AuditEvent.action != "token.issued")) or 0


def _error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json["error"]
    assert set(error) == {"code", "message", "details"}
    if code:
        assert error["code"] == code, error
    return error  # type: ignore[no-any-return]


def test_integration_token_with_scope_delivers_once(
    client: FlaskClient, seeded: Session, waiting: int
) -> None:
    headers = integration(seeded, "messages:send")
    first = client.post(URL, json=message(waiting), headers=headers)
    assert first.status_code == 202, first.text
    assert first.json == {"delivered_to": [waiting]}
    assert _status(seeded, waiting) == "completed"
    audits = _audits(seeded)
    for again_headers in (headers, personal(seeded, "rev_samr")):
        again = client.post(URL, json=message(waiting), headers=again_headers)
        assert (again.status_code, again.json) == (202, first.json)
    # Different content under the same id is still the first answer (the id is the key).
    other = {**message(waiting), "name": "something_else", "correlation": {}}
    assert client.post(URL, json=other, headers=headers).json == first.json
    assert _audits(seeded) == audits  # repeats write nothing
    entry = seeded.scalars(select(AuditEvent).where(AuditEvent.action == "message.delivered")).one()
    assert entry.object_id == "confirm-1" and entry.actor_name == "admin"


def test_who_may_send(client: FlaskClient, seeded: Session, waiting: int) -> None:
    body = message(waiting, "who-1")
    _error(client.post(URL, json=body), 401, "unauthorized")
    for username in ("ent_chengxi", "owner"):
        _error(client.post(URL, json=body, headers=personal(seeded, username)), 403, "forbidden")
    for scopes in ((), ("read",), ("records:import",), ("read", "records:import")):
        error = _error(client.post(URL, json=body, headers=integration(seeded, *scopes)), 403)
        assert error["code"] == "forbidden" and "messages:send" in error["message"]
    assert _status(seeded, waiting) == "running"
    assert seeded.get(ProcessedMessage, "who-1") is None
    # An approver of another department may send feedback too (CONTRACT §5: approver).
    sent = client.post(URL, json=body, headers=personal(seeded, "rev_tax"))
    assert sent.status_code == 202 and sent.json == {"delivered_to": [waiting]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "n" * 129}, "name"),
        ({"message_id": None}, "message_id"),
        ({"message_id": 7}, "message_id"),
        ({"message_id": "m" * 65}, "message_id"),
        ({"correlation": [1]}, "correlation"),
        ({"correlation": "case_id=1"}, "correlation"),
        ({"payload": [1, 2]}, "payload"),
        ({"payload": 3}, "payload"),
    ],
)
def test_bad_bodies_are_422_per_field(
    client: FlaskClient, seeded: Session, change: dict[str, Any], field: str
) -> None:
    body = {**message(1), **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = client.post(URL, json=body, headers=personal(seeded, "rev_samr"))
    error = _error(response, 422, "validation_failed")
    assert field in error["details"]["fields"]


def test_malformed_and_unknown(client: FlaskClient, seeded: Session, waiting: int) -> None:
    headers = personal(seeded, "rev_samr")
    as_json = {**headers, "Content-Type": "application/json"}
    _error(client.post(URL, data="{oops", headers=as_json), 400, "bad_request")
    _error(client.post(URL, json=[message(waiting)], headers=headers), 400, "bad_request")
    unknown = {**message(waiting, "unknown-1"), "correlation": {"case_id": waiting + 999}}
    _error(client.post(URL, json=unknown, headers=headers), 404, "not_found")
    assert seeded.get(ProcessedMessage, "unknown-1") is None  # not remembered: may be retried
    assert client.post(URL, json=message(waiting), headers=headers).status_code == 202


@pytest.mark.postgres
def test_concurrent_repeats_get_the_same_answer(app: Flask, backend: str) -> None:
    if not backend.startswith("postgresql"):
        pytest.skip("runs with the PostgreSQL backend")
    from tests.live_db import live_postgres

    with live_postgres(app):
        with transaction() as session:
            deploy_test_bundle(session, "review_case")
            instance_id = waiting_instance(session)
            headers: Headers = integration(session, "messages:send")
        db.session.remove()
        n = 6
        barrier = threading.Barrier(n)
        answers: list[Any] = [None] * n

        def run(i: int) -> None:
            with app.app_context():
                client = app.test_client()
                barrier.wait()
                try:
                    answers[i] = client.post(URL, json=message(instance_id), headers=headers)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert [(a.status_code, a.json) for a in answers] == [
            (202, {"delivered_to": [instance_id]})
        ] * n, [a.text for a in answers]
        with transaction() as session:
            delivered = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "message.delivered")
            )
            assert delivered == 1
            assert session.get(ProcessInstance, instance_id).status == "completed"  # type: ignore[union-attr]
