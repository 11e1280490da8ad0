"""违诺 (DOMAIN §2.5): the feedback loop per department, open breaches and how they ended.

Per department, for the period: the loop's figures from `services.breaches.loop_metrics`
(commitments made, fulfilled on time, fulfilled late, breached, repaired) plus breach records
whose loop closed in the period because they were deleted on objection (annulled) or reached
the end of their publication period (expired), and the breach records open now.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CreditRecord, RecordStatus, RecordType, Subject
from app.services import breaches as loop
from app.services.stats.common import Scope, departments

RESOLUTIONS = (
    RecordStatus.REPAIRED.value,
    RecordStatus.DELETED.value,
    RecordStatus.EXPIRED.value,
)


def _breach_records(session: Session, scope: Scope) -> list[CreditRecord]:
    query = select(CreditRecord).where(
        CreditRecord.record_type == RecordType.BREACH_OF_COMMITMENT.value
    )
    rows = list(session.scalars(query.order_by(CreditRecord.decided_on, CreditRecord.id)))
    if scope.department:
        rows = [r for r in rows if r.department.code == scope.department]
    return rows


def department_table(session: Session, scope: Scope) -> list[dict[str, Any]]:
    records = _breach_records(session, scope)
    table = []
    for dept in departments(session, scope):
        metrics = loop.loop_metrics(session, scope.start, scope.end, dept.code)
        mine = [r for r in records if r.department_id == dept.id]
        closed: dict[str, int] = dict.fromkeys(RESOLUTIONS, 0)
        for record in mine:
            extra = record.extra or {}
            if extra.get("loop_closed_by") in closed and scope.contains(
                _day(extra.get("loop_closed_on"))
            ):
                closed[extra["loop_closed_by"]] += 1
        row = {
            "key": dept.code,
            "label": dept.name,
            **metrics.as_dict(),
            "recorded": sum(scope.contains(r.decided_on) for r in mine),
            "closed_repaired": closed[RecordStatus.REPAIRED.value],
            "closed_deleted": closed[RecordStatus.DELETED.value],
            "closed_expired": closed[RecordStatus.EXPIRED.value],
            "open_now": sum(r.status in loop.OPEN_RECORD_STATUSES for r in mine),
        }
        numbers = [v for k, v in row.items() if k not in ("key", "label")]
        if any(numbers) or scope.department:
            table.append(row)
    return table


def open_table(
    session: Session, scope: Scope, subject_id: int | None = None
) -> list[dict[str, Any]]:
    """Breach records still open (they keep the subject out of simplified procedures)."""
    rows = []
    for record in _breach_records(session, scope):
        if record.status not in loop.OPEN_RECORD_STATUSES:
            continue
        if subject_id is not None and record.subject_id != subject_id:
            continue
        subject = session.get(Subject, record.subject_id)
        rows.append(
            {
                "key": record.id,
                "decision_no": record.decision_no,
                "subject_name": subject.name,
                "subject_uscc": subject.uscc,
                "department": record.department.name,
                "decided_on": record.decided_on,
                "severity": record.severity,
                "status": record.status,
                "repairable_from": record.repairable_from,
            }
        )
    return rows


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def tables(session: Session, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    return {
        "breaches_department": department_table(session, scope),
        "breaches_open": open_table(session, scope),
    }
