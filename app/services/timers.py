"""Firing due timers: one short transaction per instance, safe with several workers."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock, runner
from app.models import InstanceStatus, ProcessInstance
from app.services import audit, host
from app.services.uow import transaction

logger = logging.getLogger(__name__)


def next_due_instance(session: Session, at: datetime) -> int | None:
    """One instance with a timer due by `at`, locked; rows another worker holds are skipped."""
    query = (
        select(ProcessInstance.id)
        .where(
            ProcessInstance.next_timer_due <= at,
            ProcessInstance.status == InstanceStatus.RUNNING.value,
        )
        .order_by(ProcessInstance.next_timer_due, ProcessInstance.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query)


def fire_instance_timers(session: Session, instance_id: int, at: datetime) -> bool:
    """Fire what is due on one instance (inside the caller's transaction); False if nothing."""
    instance = host.lock_instance(session, instance_id)
    if (
        instance.status != InstanceStatus.RUNNING
        or instance.next_timer_due is None
        or instance.next_timer_due > at
    ):
        return False  # another worker fired it, or it changed meanwhile
    before = instance.next_timer_due
    with clock.frozen_at(at):
        host.run_step(
            session, instance, None, {"type": "timers", "at": at.isoformat()}, runner.fire_timers
        )
    audit.record(
        session,
        "instance.timer_fired",
        object_type="process_instance",
        object_id=str(instance.id),
        details={"due": before.isoformat(), "at": at.isoformat()},
    )
    return True


def fire_due_timers(at: datetime | None = None, limit: int = 1000) -> int:
    """Fire every timer due at `at` (default now): one instance per transaction.

    Each round locks one due instance (FOR UPDATE SKIP LOCKED on PostgreSQL), fires it and
    commits, so several workers share the work and never fire the same timer twice.
    """
    at = at or clock.now()
    fired = 0
    for _ in range(limit):
        try:
            with transaction() as session:
                instance_id = next_due_instance(session, at)
                if instance_id is None:
                    break
                fired += fire_instance_timers(session, instance_id, at)
        except host.ProcessIncidentError:
            logger.warning("a timer raised an incident (recorded on the instance)")
        except Exception:  # one bad instance must not stop the sweep
            logger.exception("firing due timers failed")
            break
    return fired
