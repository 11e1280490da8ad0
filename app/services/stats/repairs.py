"""Credit repair (信用修复) in numbers: volume, outcomes, share approved, time against the limit.

An application belongs to the period of its application day (the instance's start, local
time) and is reported with what has become of it so far:

- outcome: `approved` / `partly_approved` / `rejected` (the departments decided),
  `refused` (no record passed the eligibility check), `terminated`, else `in_progress`;
- working days from application to decision (counting from the day after, DOMAIN §0.3);
- per finding department (谁认定、谁修复): the review received → decided in working days,
  against the department's time limit as the process set it from the DMN
  `credit_repair__review_limit` (the review task's due date). A review is within the limit
  when it was decided by the due date without escalation to the leader.

The department filter keeps applications with a review (or a record decision) of that
department; applications refused before any department saw them appear only unfiltered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import AuditEvent, Department, HumanTask, InstanceStatus, ProcessInstance
from app.services.stats.common import (
    Scope,
    average,
    calendar,
    departments,
    local_day,
    ratio,
    utc_bounds,
)

PROCESS_KEY = "credit_repair"
REVIEW_TASKS = ("review_records", "expedite_review")
ESCALATED_TASK = "expedite_review"
DECIDED = ("approved", "partly_approved", "rejected")
OUTCOMES = (*DECIDED, "refused", "in_progress", "terminated")


@dataclass
class Review:
    """One finding department's review of one application."""

    instance_id: int
    department_id: int
    received: date | None = None
    due: date | None = None
    decided: date | None = None
    escalated: bool = False
    limit_days: int | None = None
    used_days: int | None = None

    @property
    def within_limit(self) -> bool | None:
        if self.decided is None or self.due is None:
            return None
        return self.decided <= self.due and not self.escalated


@dataclass
class Application:
    instance_id: int
    subject_id: int | None
    applied_on: date
    status: str
    outcome: str = "in_progress"
    decided_on: date | None = None
    working_days: int | None = None
    reviews: list[Review] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)  # per record (repair.decided)

    def department_ids(self) -> set[int]:
        return {r.department_id for r in self.reviews}


def _outcomes(session: Session, ids: list[int]) -> dict[int, tuple[str, list[dict[str, Any]]]]:
    found: dict[int, tuple[str, list[dict[str, Any]]]] = {}
    if not ids:
        return found
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "process_instance",
            AuditEvent.object_id.in_([str(i) for i in ids]),
            AuditEvent.action.in_(("repair.eligibility", "repair.decided")),
        )
        .order_by(AuditEvent.seq)
    )
    for event in events:
        details = event.details or {}
        instance_id = int(event.object_id)
        if event.action == "repair.decided" and details.get("outcome") in DECIDED:
            results = [r for r in details.get("results") or [] if isinstance(r, dict)]
            found[instance_id] = (str(details["outcome"]), results)
        elif event.action == "repair.eligibility":
            if details.get("eligible_ids"):
                found.pop(instance_id, None)  # a later round may decide; eligibility passed
            else:
                found[instance_id] = ("refused", [])
    return found


def _reviews(session: Session, ids: list[int]) -> dict[int, list[Review]]:
    by_instance: dict[int, dict[int, Review]] = defaultdict(dict)
    if not ids:
        return {}
    rows = session.scalars(
        select(HumanTask)
        .where(
            HumanTask.instance_id.in_(ids),
            HumanTask.bpmn_id.in_(REVIEW_TASKS),
            HumanTask.department_id.is_not(None),
        )
        .order_by(HumanTask.created_at)
    )
    for task in rows:
        review = by_instance[task.instance_id].setdefault(
            task.department_id, Review(task.instance_id, task.department_id)
        )
        received = local_day(task.created_at)
        if received is not None and (review.received is None or received < review.received):
            review.received = received
        if task.bpmn_id == ESCALATED_TASK:
            review.escalated = True
        elif task.due_at is not None and review.due is None:
            review.due = local_day(task.due_at)
        if task.state == "completed":
            review.decided = local_day(task.completed_at)
    return {k: list(v.values()) for k, v in by_instance.items()}


def applications(
    session: Session, scope: Scope, subject_id: int | None = None
) -> list[Application]:
    """The applications made in the scope's period (of one subject, when given)."""
    low, high = utc_bounds(scope)
    query = select(ProcessInstance).where(
        ProcessInstance.process_key == PROCESS_KEY,
        ProcessInstance.created_at >= low,
        ProcessInstance.created_at < high,
    )
    if subject_id is not None:
        query = query.where(ProcessInstance.subject_id == subject_id)
    instances = list(session.scalars(query.order_by(ProcessInstance.id)))
    ids = [i.id for i in instances]
    outcomes, reviews = _outcomes(session, ids), _reviews(session, ids)
    cal = calendar(session)
    result = []
    for instance in instances:
        app = Application(
            instance.id, instance.subject_id, local_day(instance.created_at), instance.status
        )
        app.reviews = reviews.get(instance.id, [])
        if instance.id in outcomes:
            app.outcome, app.results = outcomes[instance.id]
            app.decided_on = local_day(instance.completed_at)
        elif instance.status == InstanceStatus.TERMINATED:
            app.outcome = "terminated"
        if app.decided_on is not None:
            app.working_days = cal.working_days_between(app.applied_on, app.decided_on)
        for review in app.reviews:
            if review.received and review.due:
                review.limit_days = cal.working_days_between(review.received, review.due)
            if review.received and review.decided:
                review.used_days = cal.working_days_between(review.received, review.decided)
        result.append(app)
    return result


def _department_filter(
    session: Session, scope: Scope, apps: list[Application]
) -> tuple[list[Application], dict[int, Department]]:
    depts = {d.id: d for d in departments(session, scope)}
    if not scope.department:
        return apps, depts
    code = scope.department
    kept = [
        a
        for a in apps
        if a.department_ids() & set(depts) or any(r.get("department") == code for r in a.results)
    ]
    return kept, depts


def outcome_table(
    session: Session, scope: Scope, apps: list[Application] | None = None
) -> list[dict[str, Any]]:
    """Applications by outcome, with the mean working days from application to decision."""
    if apps is None:
        apps, _ = _department_filter(session, scope, applications(session, scope))
    rows = []
    for outcome in OUTCOMES:
        mine = [a for a in apps if a.outcome == outcome]
        if not mine and outcome == "terminated":
            continue
        rows.append(
            {
                "key": outcome,
                "applications": len(mine),
                "avg_working_days": average(
                    a.working_days for a in mine if a.working_days is not None
                ),
                "max_working_days": max(
                    (a.working_days for a in mine if a.working_days is not None), default=None
                ),
            }
        )
    return rows


def department_table(
    session: Session, scope: Scope, apps: list[Application] | None = None
) -> list[dict[str, Any]]:
    """Per finding department: applications, record decisions, share approved, review time."""
    if apps is None:
        apps, _ = _department_filter(session, scope, applications(session, scope))
    depts = {d.id: d for d in departments(session, scope)}
    by_code = {d.code: d for d in depts.values()}
    today = clock.now()
    rows = []
    for dept in sorted(depts.values(), key=lambda d: d.code):
        reviews = [r for a in apps for r in a.reviews if r.department_id == dept.id]
        results = [r for a in apps for r in a.results if r.get("department") == dept.code]
        involved = {r.instance_id for r in reviews} | {
            a.instance_id for a in apps for r in a.results if r.get("department") == dept.code
        }
        if not involved and not scope.department:
            continue
        decided = [r for r in reviews if r.decided is not None]
        approved = sum(r.get("decision") == "approved" for r in results)
        rejected = sum(r.get("decision") == "rejected" for r in results)
        open_reviews = [r for r in reviews if r.decided is None and _running(apps, r.instance_id)]
        local_today = local_day(today)
        rows.append(
            {
                "key": dept.code,
                "label": by_code[dept.code].name,
                "applications": len(involved),
                "records_decided": approved + rejected,
                "records_approved": approved,
                "records_rejected": rejected,
                "share_approved": ratio(approved, approved + rejected),
                "reviews_decided": len(decided),
                "avg_working_days": average(
                    r.used_days for r in decided if r.used_days is not None
                ),
                "limit_days": max((r.limit_days for r in reviews if r.limit_days), default=None),
                "within_limit": sum(r.within_limit is True for r in decided),
                "over_limit": sum(r.within_limit is False for r in decided),
                "reviews_open": len(open_reviews),
                "reviews_open_overdue": sum(
                    1
                    for r in open_reviews
                    if r.escalated or (r.due is not None and local_today > r.due)
                ),
            }
        )
    return rows


def _running(apps: list[Application], instance_id: int) -> bool:
    return any(
        a.instance_id == instance_id
        and a.status != InstanceStatus.TERMINATED
        and a.outcome == "in_progress"
        for a in apps
    )


def tables(session: Session, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    apps, _ = _department_filter(session, scope, applications(session, scope))
    return {
        "repairs_outcome": outcome_table(session, scope, apps),
        "repairs_department": department_table(session, scope, apps),
    }
