"""践诺率 by matter, department and month (DOMAIN §3), on the definition of services.fulfilment.

Every row: due, fulfilled on time, fulfilled late, breached, still open after its deadline
(due but not yet decided) and the rate (on time ÷ due; None when nothing was due). The
department filter is the commitment's originating department (its own, else its matter's),
exactly as `services.fulfilment` applies it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.services import fulfilment as base
from app.services.commitments import FulfilmentRate
from app.services.stats.common import Scope, month_keys

GROUPS = ("matter", "department", "month")
MAX_FILLED_MONTHS = 120


def _row(key: str | None, label: str, rate: FulfilmentRate) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "due": rate.due,
        "on_time": rate.on_time,
        "late": rate.late,
        "breached": rate.breached,
        "open": rate.due - rate.on_time - rate.late - rate.breached,
        "rate": rate.rate,
    }


def _scoped_rows(session: Session, scope: Scope) -> list[Any]:
    # services.fulfilment filters by department only in its rate; its row selection is reused
    # so that the breakdown and the rate can never disagree.
    return base._rows(  # noqa: SLF001
        session, scope.start, scope.end, None, scope.department, None, base.DEFAULT_KINDS
    )


def breakdown(session: Session, scope: Scope, by: str) -> list[dict[str, Any]]:
    """One row per matter, department or month ('YYYY-MM', every month of the period)."""
    if by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}")
    groups: dict[str | None, tuple[str, list[Any]]] = {}
    if by == "month":
        keys = month_keys(scope.start, scope.end)
        if len(keys) <= MAX_FILLED_MONTHS:
            groups = {key: (key, []) for key in keys}
    for row in _scoped_rows(session, scope):
        if by == "month":
            key = row.due_date.strftime("%Y-%m")
            label = key
        else:
            key, label = base._group(row, by)  # noqa: SLF001
        groups.setdefault(key, (label, []))[1].append(row)
    ordered = sorted(groups, key=lambda k: (k is None, k or ""))
    return [
        _row(key, groups[key][0], base._rate(groups[key][1]))  # noqa: SLF001
        for key in ordered
    ]


def totals(session: Session, scope: Scope) -> dict[str, Any]:
    rate = base.fulfilment_rate(
        session, start=scope.start, end=scope.end, department_code=scope.department
    )
    return _row(None, "", rate)


def tables(session: Session, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    return {f"fulfilment_{by}": breakdown(session, scope, by) for by in GROUPS}
