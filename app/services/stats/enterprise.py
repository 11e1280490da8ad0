"""An enterprise's own overview: its commitments and their state, its repairs and objections."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import Commitment, CommitmentStatus, Matter, Subject
from app.services import fulfilment
from app.services.stats import objections as objection_stats
from app.services.stats import repairs as repair_stats
from app.services.stats.common import Scope, local_day, utc_bounds


def commitment_table(session: Session, subject: Subject, scope: Scope) -> list[dict[str, Any]]:
    """Commitments signed in the period, and every one still open whenever it was signed."""
    low, high = utc_bounds(scope)
    rows = session.execute(
        select(Commitment, Matter)
        .outerjoin(Matter, Matter.id == Commitment.matter_id)
        .where(
            Commitment.subject_id == subject.id,
            or_(
                (Commitment.signed_at >= low) & (Commitment.signed_at < high),
                Commitment.status == CommitmentStatus.OPEN.value,
            ),
        )
        .order_by(Commitment.signed_at.desc(), Commitment.id.desc())
    ).all()
    return [
        {
            "key": c.id,
            "kind": c.kind,
            "matter": matter.name if matter else "",
            "signed_on": local_day(c.signed_at),
            "due_on": c.due_on,
            "status": c.status,
            "closed_on": c.closed_on,
        }
        for c, matter in rows
    ]


def repair_table(session: Session, subject: Subject, scope: Scope) -> list[dict[str, Any]]:
    apps = repair_stats.applications(session, Scope(scope.start, scope.end), subject.id)
    return [
        {
            "key": a.instance_id,
            "applied_on": a.applied_on,
            "outcome": a.outcome,
            "decided_on": a.decided_on,
            "working_days": a.working_days,
            "records_approved": sum(r.get("decision") == "approved" for r in a.results),
            "records_rejected": sum(r.get("decision") == "rejected" for r in a.results),
        }
        for a in reversed(apps)
    ]


def objection_table(session: Session, subject: Subject, scope: Scope) -> list[dict[str, Any]]:
    found = objection_stats.objections(session, Scope(scope.start, scope.end), subject.id)
    return [
        {
            "key": o.instance_id,
            "objection_no": o.objection_no,
            "decision_no": o.decision_no,
            "ground": o.ground,
            "received_on": o.received_on,
            "outcome": o.outcome or "pending",
            "decided_on": local_day(o.decided_at),
            "within_limit": o.within_limit,
        }
        for o in reversed(found)
    ]


def fulfilment_summary(session: Session, subject: Subject, scope: Scope) -> dict[str, Any]:
    rate = fulfilment.fulfilment_rate(
        session, start=scope.start, end=scope.end, subject_uscc=subject.uscc
    )
    return {
        "due": rate.due,
        "on_time": rate.on_time,
        "late": rate.late,
        "breached": rate.breached,
        "open": rate.due - rate.on_time - rate.late - rate.breached,
        "rate": rate.rate,
    }


def tables(session: Session, subject: Subject, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    return {
        "my_commitments": commitment_table(session, subject, scope),
        "my_repairs": repair_table(session, subject, scope),
        "my_objections": objection_table(session, subject, scope),
    }
