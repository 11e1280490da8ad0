"""Delivering BPMN messages by name and correlation, idempotent by message id."""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import runner
from app.engine.errors import MessageNotWaitedError
from app.i18n import translate_stored
from app.models import (
    InstanceStatus,
    MessageSubscription,
    OutboxEvent,
    ProcessedMessage,
    ProcessVersion,
    User,
)
from app.models.base import utcnow
from app.services import audit, host
from app.services.errors import ConflictError, InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)


def _flatten(correlations: dict[str, Any]) -> dict[str, Any]:
    """{'case_key': {'case_id': 1}} → {'case_id': 1}: subscriptions store keyed values."""
    flat: dict[str, Any] = {}
    for value in correlations.values():
        if isinstance(value, dict):
            flat.update(value)
    return flat


def _matches(subscription: MessageSubscription, correlation: dict[str, Any]) -> bool:
    values = _flatten(subscription.correlations)
    if not correlation:
        return not values
    return all(k in values and values[k] == v for k, v in correlation.items())


def deliver(
    session: Session,
    name: str,
    correlation: dict[str, Any],
    payload: dict[str, Any],
    message_id: str,
    actor: User | None,
) -> dict[str, Any]:
    """Deliver to every waiting instance that matches; a repeated message id is a no-op."""
    if not name or not isinstance(correlation, dict) or not isinstance(payload, dict):
        raise InvalidInputError(_("消息格式不正确。"), {"correlation": [_("须为对象。")]})
    done = session.get(ProcessedMessage, message_id)
    if done is not None:
        return dict(done.response)
    targets = [
        s.instance_id
        for s in session.scalars(
            select(MessageSubscription)
            .where(MessageSubscription.message_name == name)
            .order_by(MessageSubscription.instance_id)
        )
        if _matches(s, correlation)
    ]
    if not targets:
        started = _start_by_message(session, name, correlation, payload, actor)
        if not started:
            raise NotFoundError(
                _(
                    "没有流程实例在等待消息 %(name)s（关联 %(correlation)s）。",
                    name=name,
                    correlation=correlation,
                )
            )
        targets = started
    else:
        for instance_id in dict.fromkeys(targets):
            _deliver_one(session, instance_id, name, correlation, payload, actor)
    response = {"delivered_to": list(dict.fromkeys(targets))}
    session.add(ProcessedMessage(message_id=message_id, response=response))
    audit.record(
        session,
        "message.delivered",
        actor=actor,
        object_type="message",
        object_id=message_id,
        details={"name": name, **response},
    )
    return response


def _deliver_one(
    session: Session,
    instance_id: int,
    name: str,
    correlation: dict[str, Any],
    payload: dict[str, Any],
    actor: User | None,
) -> None:
    instance = host.lock_instance(session, instance_id)
    if instance.status != InstanceStatus.RUNNING:
        raise ConflictError(
            _(
                "流程实例 %(id)s 当前状态为 %(status)s，不能接收消息。",
                id=instance_id,
                status=instance.status,
            )
        )
    try:
        host.run_step(
            session,
            instance,
            actor,
            {"type": "message", "name": name, "correlation": correlation, "payload": payload},
            lambda wf: runner.deliver_message(wf, name, payload, correlation),
        )
    except MessageNotWaitedError as exc:
        raise ConflictError(translate_stored(str(exc))) from exc


def _start_by_message(
    session: Session,
    name: str,
    correlation: dict[str, Any],
    payload: dict[str, Any],
    actor: User | None,
) -> list[int]:
    """Start the latest version of each process whose start event catches `name`."""
    from app.services.instances import start_instance_as_system

    keys = sorted(
        {v.key for v in session.scalars(select(ProcessVersion)) if name in (v.start_messages or [])}
    )
    return [
        start_instance_as_system(session, key, {**correlation, **payload}, actor).id for key in keys
    ]


def deliver_outbox_messages(session: Session, limit: int = 50) -> int:
    """Route messages thrown by instances (outbox) to their receivers."""
    rows = session.scalars(
        select(OutboxEvent)
        .where(
            OutboxEvent.kind == "bpmn_message",
            OutboxEvent.state == "pending",
            OutboxEvent.available_at <= utcnow(),
        )
        .order_by(OutboxEvent.id)
        .limit(limit)
    ).all()
    for row in rows:
        try:
            with session.begin_nested():
                deliver(
                    session,
                    row.name,
                    _flatten(row.correlations),
                    row.payload,
                    f"outbox:{row.id}",
                    None,
                )
            row.state, row.done_at = "done", utcnow()
        except (NotFoundError, ConflictError, InvalidInputError) as exc:
            row.attempts += 1
            row.last_error = str(exc)
            row.state = "dead" if row.attempts >= 5 else "pending"
    return len(rows)
