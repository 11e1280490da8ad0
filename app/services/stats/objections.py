"""Objections (异议, DOMAIN §4) by ground and outcome, and whether they were decided in time.

An objection belongs to the period of its acceptance day (when the record was flagged) and to
the department that provided the record (谁提供、谁核实). Its deadline is the one the process
applied from the DMN `objection_handling_time_limits`: the provider's (extended once when
granted), or the platform's own check when the window refused it as out of scope. Decided by
that instant → within the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, CreditRecord
from app.services.objections import GROUND_LABELS, OUTCOME_LABELS, objection_no
from app.services.stats.common import Scope, average, calendar, instant, local_day

GROUNDS = tuple(GROUND_LABELS)
OUTCOMES = tuple(OUTCOME_LABELS)  # correct, delete, uphold, unconfirmable, rejected


@dataclass(frozen=True)
class Objection:
    instance_id: int
    record_id: int
    objection_no: str
    decision_no: str
    subject_id: int
    department_code: str
    ground: str
    received_on: date
    outcome: str | None  # None while pending
    decided_at: datetime | None
    deadline: datetime | None
    working_days: int | None

    @property
    def within_limit(self) -> bool | None:
        if self.decided_at is None or self.deadline is None:
            return None
        return self.decided_at <= self.deadline


def _entry(record: CreditRecord, instance_id: int) -> dict[str, Any] | None:
    extra = record.extra or {}
    for entry in [extra.get("objection"), *(extra.get("objection_history") or [])]:
        if isinstance(entry, dict) and entry.get("instance_id") == instance_id:
            return entry
    return None


def _deadline(entry: dict[str, Any]) -> datetime | None:
    limits = ((entry.get("result") or {}).get("document") or {}).get("limits") or {}
    for key in ("extended_due", "provider_due", "check_due"):
        moment = instant(limits.get(key))
        if moment is not None:
            return moment
    return None


def objections(session: Session, scope: Scope, subject_id: int | None = None) -> list[Objection]:
    """Objections accepted in the scope's period (of the scope's department, or one subject)."""
    accepted = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "objection.accepted", AuditEvent.object_type == "credit_record")
        .order_by(AuditEvent.seq)
    ).all()
    record_ids = {int(e.object_id) for e in accepted if (e.object_id or "").isdigit()}
    if not record_ids:
        return []
    query = select(CreditRecord).where(CreditRecord.id.in_(record_ids))
    if subject_id is not None:
        query = query.where(CreditRecord.subject_id == subject_id)
    records = {r.id: r for r in session.scalars(query)}
    cal = calendar(session)
    found, seen = [], set()
    for event in accepted:
        instance_id = (event.details or {}).get("instance_id")
        record = records.get(int(event.object_id)) if (event.object_id or "").isdigit() else None
        if record is None or not isinstance(instance_id, int) or instance_id in seen:
            continue
        entry = _entry(record, instance_id)
        received = local_day(entry.get("accepted_at")) if entry else None
        if entry is None or not scope.contains(received):
            continue
        if scope.department and record.department.code != scope.department:
            continue
        seen.add(instance_id)
        closed = entry.get("state") == "closed" and entry.get("outcome") in OUTCOMES
        decided_at = instant(entry.get("decided_at")) if closed else None
        decided_on = local_day(decided_at)
        found.append(
            Objection(
                instance_id=instance_id,
                record_id=record.id,
                objection_no=str(
                    entry.get("objection_no")
                    or objection_no(instance_id, instant(entry["accepted_at"]))
                ),
                decision_no=record.decision_no,
                subject_id=record.subject_id,
                department_code=record.department.code,
                ground=str(entry.get("ground") or ""),
                received_on=received,
                outcome=str(entry["outcome"]) if closed else None,
                decided_at=decided_at,
                deadline=_deadline(entry) if closed else None,
                working_days=(
                    cal.working_days_between(received, decided_on) if decided_on else None
                ),
            )
        )
    return found


def ground_table(
    session: Session, scope: Scope, rows: list[Objection] | None = None
) -> list[dict[str, Any]]:
    """One row per ground: received, each outcome, pending, within / over the limit."""
    rows = objections(session, scope) if rows is None else rows
    table = []
    for ground in GROUNDS:
        mine = [o for o in rows if o.ground == ground]
        row: dict[str, Any] = {"key": ground, "received": len(mine)}
        for outcome in OUTCOMES:
            row[outcome] = sum(o.outcome == outcome for o in mine)
        row["pending"] = sum(o.outcome is None for o in mine)
        row["within_limit"] = sum(o.within_limit is True for o in mine)
        row["over_limit"] = sum(o.within_limit is False for o in mine)
        row["avg_working_days"] = average(
            o.working_days for o in mine if o.working_days is not None
        )
        table.append(row)
    return table


def tables(session: Session, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    return {"objections_ground": ground_table(session, scope)}
