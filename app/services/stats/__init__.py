"""Dashboard figures, one module per area; every function takes a `Scope` (period, department).

- `fulfilment`: 践诺率 by matter, department and month (on time, late, breached, open);
- `repairs`: volume, outcomes, share approved, working days against the review limit;
- `objections`: by ground and outcome, decided within the limit or not;
- `breaches`: the breach loop per department, open breach records;
- `tasks`: open, overdue and late tasks per department;
- `enterprise`: one subject's commitments, repairs and objections.

Figures are read-only and computed on request from the rows the processes leave behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from app.services.stats import breaches, fulfilment, objections, repairs, tasks
from app.services.stats.common import Scope

Tables = dict[str, list[dict[str, Any]]]

AREAS: dict[str, Callable[[Session, Scope], Tables]] = {
    "fulfilment": fulfilment.tables,
    "repairs": repairs.tables,
    "objections": objections.tables,
    "breaches": breaches.tables,
    "tasks": tasks.tables,
}
TABLE_AREAS = {
    "fulfilment_matter": "fulfilment",
    "fulfilment_department": "fulfilment",
    "fulfilment_month": "fulfilment",
    "repairs_outcome": "repairs",
    "repairs_department": "repairs",
    "objections_ground": "objections",
    "breaches_department": "breaches",
    "breaches_open": "breaches",
    "tasks_department": "tasks",
}


def dashboard(session: Session, scope: Scope) -> Tables:
    """Every staff table for the scope."""
    result: Tables = {}
    for compute in AREAS.values():
        result.update(compute(session, scope))
    return result


def table(session: Session, scope: Scope, name: str) -> list[dict[str, Any]]:
    """One staff table (KeyError for an unknown name)."""
    return AREAS[TABLE_AREAS[name]](session, scope)[name]


__all__ = ["AREAS", "TABLE_AREAS", "Scope", "Tables", "dashboard", "table"]
