"""Outbound webhooks against a real HTTP receiver on loopback.

Time moves through explicit `now` arguments (no sleeping): retries with back-off, the same
idempotency key on every attempt, dead letters after the limit, order per subject, admin retry
and discard, fan-out by subscription and platform, and the whole path from a process to the
receiver through the worker.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    AuditEvent,
    DeliveryState,
    OutboxEvent,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.models.base import utcnow
from app.services import webhooks
from app.services.errors import ConflictError, InvalidInputError
from tests.webhook_receiver import Receiver, free_port_url, running_receiver

SECRET = "whsec_test_0123456789abcdef"
CHENGXI = "91310114MA1GT8QX92"
HONGQIAO = "91310105MAAY4CL126"
SETTINGS = webhooks.Settings(
    max_attempts=4, timeout_s=3, backoff_s=30, default_secret="test-webhook-secret"
)


@pytest.fixture()
def admin(seeded: Session) -> User:
    return seeded.scalar(select(User).where(User.username == "admin"))


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with running_receiver(SECRET) as running:
        yield running


def _endpoint(
    session: Session,
    admin: User,
    url: str,
    *,
    events: list[str] | None = None,
    targets: list[str] | None = None,
    secret_mode: str = "custom",
    name: str = "信用中国（测试）",
) -> WebhookEndpoint:
    endpoint, _ = webhooks.create_endpoint(
        session,
        admin,
        name=name,
        url=url,
        events=events or list(webhooks.EVENTS),
        targets=targets or [],
        secret_mode=secret_mode,
        secret=SECRET,
    )
    session.commit()
    return endpoint


def _deliveries(session: Session, endpoint: WebhookEndpoint | None = None) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.created_seq)
    if endpoint is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint.id)
    return list(session.scalars(query))


def _emit(session: Session, uscc: str = CHENGXI, event: str = "records_imported", **data: Any):
    row = webhooks.emit(session, event, uscc, {"n": 1, **data})
    session.commit()
    return row


def _round(session: Session, now, settings: webhooks.Settings = SETTINGS) -> dict[str, int]:
    webhooks.fan_out(session, now=now)
    counts = webhooks.deliver_due(session, settings, now=now, rng=random.Random(7))
    session.commit()
    return counts


# --- signing, headers, body --------------------------------------------------------------


def test_delivery_is_signed_and_carries_the_idempotency_key(
    seeded: Session, admin: User, receiver: Receiver
) -> None:
    _endpoint(seeded, admin, receiver.url)
    row = _emit(seeded, decided_on=utcnow().date())
    now = utcnow()

    assert _round(seeded, now) == {"delivered": 1, "failed": 0, "dead": 0}

    [got] = receiver.received
    assert got.signature_ok and got.path == "/hook"
    [delivery] = _deliveries(seeded)
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 1
    assert delivery.last_status == 204 and delivery.delivered_at == now
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-CreditFlow-Event"] == "records_imported"
    assert got.headers["X-CreditFlow-Delivery"] == got.key == delivery.id
    assert got.headers["X-CreditFlow-Timestamp"] == str(int(now.timestamp()))
    assert got.body == {
        "id": delivery.id,
        "event": "records_imported",
        "occurred_at": row.created_at.isoformat(),
        "subject_uscc": CHENGXI,
        "data": {"n": 1, "decided_on": utcnow().date().isoformat()},
    }
    assert "+00:00" in got.body["occurred_at"]
    seeded.refresh(row)
    assert row.state == "done"


def test_a_wrong_secret_is_refused_by_the_receiver(
    seeded: Session, admin: User, receiver: Receiver
) -> None:
    """An endpoint left on the system secret signs with WEBHOOK_SECRET, not the receiver's."""
    _endpoint(seeded, admin, receiver.url, secret_mode="system")
    _emit(seeded)

    counts = _round(seeded, utcnow())

    assert counts["failed"] == 1
    [got] = receiver.received
    assert not got.signature_ok
    assert (
        webhooks.sign("test-webhook-secret", int(got.headers["X-CreditFlow-Timestamp"]), got.raw)
        == (got.headers["X-CreditFlow-Signature"])
    )
    [delivery] = _deliveries(seeded)
    assert delivery.last_status == 401 and delivery.state == DeliveryState.PENDING


# --- retries, back-off, dead letters ----------------------------------------------------------


def test_failures_are_retried_with_backoff_and_the_same_key(
    seeded: Session, admin: User, receiver: Receiver
) -> None:
    _endpoint(seeded, admin, receiver.url)
    _emit(seeded)
    receiver.fail_next = 2
    t0 = utcnow()

    assert _round(seeded, t0)["failed"] == 1
    [delivery] = _deliveries(seeded)
    first_retry = delivery.next_attempt_at
    assert t0 + timedelta(seconds=30) <= first_retry <= t0 + timedelta(seconds=37.5)
    assert delivery.last_status == 503 and delivery.last_error == "HTTP 503"

    # Not due yet: nothing is sent.
    assert _round(seeded, t0 + timedelta(seconds=20)) == {"delivered": 0, "failed": 0, "dead": 0}
    assert len(receiver.received) == 1

    assert _round(seeded, first_retry)["failed"] == 1
    seeded.refresh(delivery)
    second_retry = delivery.next_attempt_at
    assert (
        first_retry + timedelta(seconds=60) <= second_retry <= first_retry + timedelta(seconds=75)
    )

    assert _round(seeded, second_retry)["delivered"] == 1
    seeded.refresh(delivery)
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 3
    assert [r.key for r in receiver.received] == [delivery.id] * 3
    assert all(r.signature_ok for r in receiver.received)
    assert len(receiver.accepted()) == 1


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(1)
    delays = [webhooks.backoff(n, 30, rng).total_seconds() for n in range(1, 12)]
    for n, delay in enumerate(delays[:8], start=1):
        assert 30 * 2 ** (n - 1) <= delay <= 30 * 2 ** (n - 1) * 1.25
    assert max(delays) <= webhooks.BACKOFF_CAP_S


def test_dead_letter_after_the_limit_then_admin_retry_delivers(
    seeded: Session, admin: User, receiver: Receiver
) -> None:
    endpoint = _endpoint(seeded, admin, free_port_url())  # nobody listens: the receiver is down
    _emit(seeded)
    now = utcnow()
    for _ in range(SETTINGS.max_attempts):
        _round(seeded, now)
        [delivery] = _deliveries(seeded)
        now = max(now, delivery.next_attempt_at)
    assert delivery.state == DeliveryState.DEAD and delivery.attempts == SETTINGS.max_attempts
    assert "URLError" in (delivery.last_error or "") or "Connection" in (delivery.last_error or "")
    assert _round(seeded, now + timedelta(days=1)) == {"delivered": 0, "failed": 0, "dead": 0}

    # The receiver is back (at a new address); the admin retries the dead letter.
    webhooks.update_endpoint(
        seeded,
        admin,
        endpoint.id,
        name=endpoint.name,
        url=receiver.url,
        events=endpoint.events,
        targets=[],
        secret_mode="keep",
        active=True,
    )
    webhooks.retry(seeded, delivery.id, admin, now=now)
    seeded.commit()
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 0

    assert _round(seeded, now)["delivered"] == 1
    assert [r.key for r in receiver.accepted()] == [delivery.id]
    actions = list(
        seeded.scalars(select(AuditEvent.action).where(AuditEvent.object_id == delivery.id))
    )
    assert actions == ["webhook.delivery_retried"]


def test_discard_stops_a_delivery_and_delivered_ones_cannot_change(
    seeded: Session, admin: User, receiver: Receiver
) -> None:
    _endpoint(seeded, admin, receiver.url)
    _emit(seeded, uscc=CHENGXI)
    _emit(seeded, uscc=HONGQIAO)
    receiver.fail_next = 1
    now = utcnow()
    _round(seeded, now)
    failed, delivered = _deliveries(seeded)
    assert (failed.state, delivered.state) == (DeliveryState.PENDING, DeliveryState.DELIVERED)

    webhooks.discard(seeded, failed.id, admin)
    seeded.commit()
    assert _round(seeded, now + timedelta(hours=1)) == {"delivered": 0, "failed": 0, "dead": 0}
    assert failed.state == DeliveryState.DISCARDED and len(receiver.received) == 2

    with pytest.raises(ConflictError):
        webhooks.discard(seeded, delivered.id, admin)
    with pytest.raises(ConflictError):
        webhooks.retry(seeded, delivered.id, admin)
    with pytest.raises(ConflictError):
        webhooks.discard(seeded, failed.id, admin)  # already discarded

    # A discarded delivery can still be retried on purpose.
    webhooks.retry(seeded, failed.id, admin, now=now)
    seeded.commit()
    assert _round(seeded, now)["delivered"] == 1
    assert len(receiver.accepted()) == 2
    assert (
        seeded.scalar(
            select(AuditEvent.action).where(
                AuditEvent.object_id == failed.id, AuditEvent.action.like("%discarded")
            )
        )
        == "webhook.delivery_discarded"
    )


# --- order per subject ---------------------------------------------------------------------


def test_order_per_subject_is_kept_while_an_earlier_delivery_waits(
    seeded: Session, admin: User, receiver: Receiver
) -> None:
    _endpoint(seeded, admin, receiver.url)
    _emit(seeded, uscc=CHENGXI, step=1)
    _emit(seeded, uscc=CHENGXI, step=2)
    _emit(seeded, uscc=HONGQIAO, step=1)
    receiver.fail_next = 1  # the first attempt (CHENGXI step 1) fails
    t0 = utcnow()

    assert _round(seeded, t0) == {"delivered": 1, "failed": 1, "dead": 0}
    sent = [(r.body["subject_uscc"], r.body["data"]["step"]) for r in receiver.received]
    assert sent == [(CHENGXI, 1), (HONGQIAO, 1)]  # CHENGXI step 2 waited

    # Later, still before the retry is due: step 2 keeps waiting behind step 1.
    assert _round(seeded, t0 + timedelta(seconds=5))["delivered"] == 0

    retry_at = max(d.next_attempt_at for d in _deliveries(seeded))
    assert _round(seeded, retry_at)["delivered"] == 2  # step 1, then step 2 right behind it
    accepted = [(r.body["subject_uscc"], r.body["data"]["step"]) for r in receiver.accepted()]
    assert accepted == [(HONGQIAO, 1), (CHENGXI, 1), (CHENGXI, 2)]


def test_a_dead_delivery_does_not_block_the_subject_for_ever(
    seeded: Session, admin: User, receiver: Receiver
) -> None:
    settings = webhooks.Settings(max_attempts=1, timeout_s=3, backoff_s=30)
    _endpoint(seeded, admin, receiver.url)
    _emit(seeded, step=1)
    _emit(seeded, step=2)
    receiver.fail_next = 1
    now = utcnow()

    counts = _round(seeded, now, settings)

    # Step 1 died; step 2 was not held back behind the dead letter.
    assert counts == {"delivered": 1, "failed": 0, "dead": 1}
    first, second = _deliveries(seeded)
    assert (first.state, second.state) == (DeliveryState.DEAD, DeliveryState.DELIVERED)
    # Retried, the dead letter is delivered after the later one (documented choice).
    webhooks.retry(seeded, first.id, admin, now=now)
    assert _round(seeded, now, settings)["delivered"] == 1
    assert [r.body["data"]["step"] for r in receiver.accepted()] == [2, 1]


def test_an_inactive_endpoint_keeps_its_deliveries_waiting(
    seeded: Session, admin: User, receiver: Receiver
) -> None:
    endpoint = _endpoint(seeded, admin, receiver.url)
    _emit(seeded)
    now = utcnow()
    webhooks.fan_out(seeded, now=now)
    webhooks.set_active(seeded, admin, endpoint.id, False)
    seeded.commit()

    assert webhooks.deliver_due(seeded, SETTINGS, now=now) == {
        "delivered": 0,
        "failed": 0,
        "dead": 0,
    }
    _emit(seeded)  # not fanned out to an inactive endpoint at all
    webhooks.fan_out(seeded, now=now)
    assert len(_deliveries(seeded)) == 1

    webhooks.set_active(seeded, admin, endpoint.id, True)
    assert _round(seeded, now)["delivered"] == 1


# --- fan-out ------------------------------------------------------------------------------


def _push(session: Session, event: str, targets: list[str], **payload: Any) -> None:
    """What the `platform.push` handler leaves: one outbox row per platform target."""
    for target in targets:
        session.add(
            OutboxEvent(
                kind="platform",
                name=event,
                payload={**payload, "target": target, "subject_uscc": CHENGXI},
            )
        )
    session.commit()


def test_fan_out_follows_subscriptions_and_platforms_once_per_endpoint(
    seeded: Session, admin: User
) -> None:
    url = "https://platform.example.cn/hook"
    every = _endpoint(seeded, admin, url, name="全部平台")
    gsxt = _endpoint(seeded, admin, url, targets=["gsxt"], name="公示系统")
    agencies = _endpoint(seeded, admin, url, targets=["credit_agencies"], name="信用服务机构")
    other = _endpoint(seeded, admin, url, events=["document_issued"], name="只收文书")
    off = _endpoint(seeded, admin, url, name="停用")
    webhooks.set_active(seeded, admin, off.id, False)
    seeded.commit()

    _push(seeded, "repair_approved", ["creditchina", "gsxt"], record_id=7)
    created = webhooks.fan_out(seeded, now=utcnow())

    assert created == 2
    [one] = _deliveries(seeded, every)
    [two] = _deliveries(seeded, gsxt)
    assert _deliveries(seeded, agencies) == _deliveries(seeded, other) == []
    assert _deliveries(seeded, off) == []
    assert one.body["data"] == {"record_id": 7} and one.subject_uscc == CHENGXI
    assert one.id != two.id and one.body["id"] == one.id
    rows = seeded.scalars(select(OutboxEvent).where(OutboxEvent.kind == "platform")).all()
    assert {r.state for r in rows} == {"done"}

    # A different fact (another record) is a new delivery; rows already done are not redone.
    _push(seeded, "repair_approved", ["creditchina"], record_id=8)
    assert webhooks.fan_out(seeded, now=utcnow()) == 1
    assert webhooks.fan_out(seeded, now=utcnow()) == 0


def test_emit_refuses_unknown_events(seeded: Session) -> None:
    with pytest.raises(ValueError):
        webhooks.emit(seeded, "something_else", CHENGXI, {})


# --- endpoint validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://platform.example.cn/hook", "http 或 https"),
        ("https://user:pw@platform.example.cn/hook", "用户名或密码"),
        ("https://token@platform.example.cn/hook", "用户名或密码"),
        ("javascript:alert(1)", "http 或 https"),
        ("https:///nohost", "主机名"),
        ("https://platform.example.cn:99999/", "格式不正确"),
        ("", "请填写"),
        ("https://platform.example.cn/a b", "空白"),
    ],
)
def test_bad_urls_are_refused_with_field_messages(
    seeded: Session, admin: User, url: str, fragment: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        webhooks.create_endpoint(
            seeded, admin, name="x", url=url, events=["repair_approved"], secret_mode="generate"
        )
    assert any(fragment in message for message in caught.value.fields["url"])


def test_endpoint_fields_are_validated_and_changes_audited(seeded: Session, admin: User) -> None:
    with pytest.raises(InvalidInputError) as caught:
        webhooks.create_endpoint(
            seeded,
            admin,
            name="",
            url="https://ok.example.cn/",
            events=["nope"],
            targets=["moon"],
            secret_mode="custom",
            secret="short",
        )
    assert set(caught.value.fields) == {"name", "events", "targets", "secret"}

    endpoint, shown = webhooks.create_endpoint(
        seeded, admin, name="地方平台", url="https://ok.example.cn/", events=["repair_approved"]
    )
    assert shown is not None and shown == endpoint.secret and shown.startswith("whsec_")
    assert webhooks.mask(shown) != shown and shown not in webhooks.mask(shown)
    _, again = webhooks.update_endpoint(
        seeded,
        admin,
        endpoint.id,
        name="地方平台",
        url="https://ok.example.cn/v2",
        events=["repair_approved", "document_issued"],
        secret_mode="keep",
    )
    assert again is None and endpoint.secret == shown
    actions = list(
        seeded.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "webhook_endpoint")
            .order_by(AuditEvent.seq)
        )
    )
    assert actions == ["webhook.endpoint_created", "webhook.endpoint_updated"]
    audit_text = str(
        seeded.scalars(
            select(AuditEvent.details).where(AuditEvent.object_type == "webhook_endpoint")
        ).all()
    )
    assert shown not in audit_text  # the secret never lands in the audit log


# --- the whole path ---------------------------------------------------------------------------


BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


def test_a_confirmed_breach_reaches_the_receiver_through_the_worker(
    seeded: Session, admin: User, receiver: Receiver, app: Flask
) -> None:
    """commitment_breach → platform.push (2 platforms) and the breach notice → worker → HTTP."""
    from app.engine import clock
    from app.models import Matter, ProcessInstance, Subject
    from app.services import commitments, instances, tasks
    from app.services.definitions import deploy_bundle, read_bundle_dir
    from app.worker import run_round
    from tests.engine_fixtures import open_tasks, user

    files = read_bundle_dir(BPMN_DIR)
    deploy_bundle(seeded, {k: v for k, v in files.items() if k.startswith("commitment_breach")})
    _endpoint(seeded, admin, receiver.url, events=["breach_recorded", "document_issued"])
    subject = seeded.scalar(select(Subject).where(Subject.uscc == HONGQIAO))
    matter = seeded.scalar(select(Matter).where(Matter.code == "SAMR-SPJY-001"))
    commitment = commitments.sign(
        seeded,
        kind="notify_commit",
        subject=subject,
        text="本单位承诺：申请材料真实，并在期限内补齐。",
        signer_name="王某某",
        signed_by=None,
        matter_id=matter.id,
        department_id=matter.department_id,
        due_on=utcnow().date() + timedelta(days=14),
    )
    seeded.commit()
    reviewer = user(seeded, "rev_samr")
    with clock.frozen_at(utcnow()):
        instance = instances.start_instance(
            seeded,
            "commitment_breach",
            {"commitment_id": commitment.id, "reason": "事后核查发现不具备承诺的经营场所条件"},
            user(seeded, "insp_samr"),
        )
        seeded.commit()
        [task] = open_tasks(seeded, instance.id)
        tasks.complete(seeded, task.id, {"decision": "confirm", "opinion": "属实"}, reviewer)
        seeded.commit()
    assert seeded.get(ProcessInstance, instance.id).status == "completed"

    with app.test_request_context():
        result = run_round()

    # The breach (pushed to two platforms, delivered once) and the two documents the worker
    # issued in the same round: the signed commitment and the breach notice.
    assert result["webhooks"] == 3
    accepted = receiver.accepted()
    assert [r.body["event"] for r in accepted] == [
        "breach_recorded",
        "document_issued",
        "document_issued",
    ]
    assert all(r.signature_ok for r in receiver.received) and len(receiver.received) == 3
    breach = accepted[0]
    assert breach.body["subject_uscc"] == HONGQIAO
    assert breach.body["data"]["commitment_id"] == commitment.id
    assert breach.body["data"]["instance_id"] == instance.id
    assert breach.headers["X-CreditFlow-Event"] == "breach_recorded"
    kinds = {r.body["data"]["kind"] for r in accepted[1:]}
    assert kinds == {"commitment", "breach_notice"}
    assert {r.body["subject_uscc"] for r in accepted} == {HONGQIAO}
    notice = next(r for r in accepted[1:] if r.body["data"]["kind"] == "breach_notice")
    assert notice.body["data"]["verify_url"].endswith(
        "/verify/" + quote(notice.body["data"]["serial"], safe="")
    )
