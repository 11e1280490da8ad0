"""Approvers' tasks by department: open now, overdue now, and completed in the period on time.

"Now" is the engine clock (the one timers use). A task is overdue when it is still open after
its due instant; it was completed late when it was completed after it. Tasks of the applicant
(lane `enterprise`) are not any department's work and are left out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import HumanTask
from app.services.stats.common import Scope, departments, instant, ratio, utc_bounds


def department_table(session: Session, scope: Scope) -> list[dict[str, Any]]:
    now = clock.now()
    low, high = utc_bounds(scope)
    depts = departments(session, scope)
    rows = session.scalars(
        select(HumanTask).where(
            HumanTask.department_id.in_([d.id for d in depts]),
            or_(HumanTask.lane.is_(None), HumanTask.lane != "enterprise"),
            or_(
                HumanTask.state == "ready",
                (HumanTask.state == "completed")
                & (HumanTask.completed_at >= low)
                & (HumanTask.completed_at < high),
            ),
        )
    ).all()
    table = []
    for dept in depts:
        mine = [t for t in rows if t.department_id == dept.id]
        ready = [t for t in mine if t.state == "ready"]
        done = [t for t in mine if t.state == "completed"]
        late = [t for t in done if t.due_at is not None and instant(t.completed_at) > t.due_at]
        row = {
            "key": dept.code,
            "label": dept.name,
            "open": len(ready),
            "overdue": sum(t.due_at is not None and t.due_at < now for t in ready),
            "completed": len(done),
            "completed_late": len(late),
            "share_on_time": ratio(len(done) - len(late), len(done)),
        }
        if ready or done or scope.department:
            table.append(row)
    return table


def tables(session: Session, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    return {"tasks_department": department_table(session, scope)}
