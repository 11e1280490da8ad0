"""践诺率 (fulfilment rate), DOMAIN §3: commitments fulfilled on time ÷ commitments due.

Our definition, applied to every kind of commitment asked for (容缺 and 告知承诺 by default):

- A commitment is *due* in a period when its deadline (`due_on`) falls in the period, or when
  it was closed early (`closed_on` before `due_on`) in the period. Each commitment therefore has
  one *due date* — the earlier of its deadline and an early close — and belongs to exactly one
  period, so monthly figures add up to the year. A commitment without a deadline is due when
  it is closed.
- Excluded: `withdrawn` commitments, and open ones whose force-majeure extension
  (`details["force_majeure_until"]`, ISO date) runs past the end of the period.
- Counted: `fulfilled` → on time; `fulfilled_late` → late; `breached` and `repaired` (a breach
  later repaired is still a breach of that commitment) → breached. A commitment still open
  after its deadline is due but in none of the three: it lowers the rate until it is decided.
- Reported alongside the rate: late-but-fulfilled and breached.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from app.models import Commitment, CommitmentStatus, Department, Matter, Subject
from app.services.commitments import FulfilmentRate
from app.services.errors import InvalidInputError

DEFAULT_KINDS = ("rongque", "notify_commit")
BREAKDOWNS = ("matter", "department", "subject", "month", "year")
_ON_TIME = {CommitmentStatus.FULFILLED.value}
_LATE = {CommitmentStatus.FULFILLED_LATE.value}
_BREACHED = {CommitmentStatus.BREACHED.value, CommitmentStatus.REPAIRED.value}


@dataclass(frozen=True)
class _Row:
    """One commitment with what the figures are grouped by."""

    status: str
    due_date: date
    matter_code: str | None
    matter_name: str | None
    department_code: str | None
    department_name: str | None
    subject_uscc: str
    subject_name: str


def due_date(commitment: Commitment) -> date | None:
    """The day a commitment falls due: its deadline, or an earlier close."""
    closed, deadline = commitment.closed_on, commitment.due_on
    if closed is not None and (deadline is None or closed < deadline):
        return closed
    return deadline


def _excluded(commitment: Commitment, end: date) -> bool:
    if commitment.status == CommitmentStatus.WITHDRAWN:
        return True
    extension = (commitment.details or {}).get("force_majeure_until")
    if commitment.status == CommitmentStatus.OPEN and isinstance(extension, str):
        try:
            return date.fromisoformat(extension) > end
        except ValueError:
            return False
    return False


def _rows(
    session: Session,
    start: date,
    end: date,
    matter_code: str | None,
    department_code: str | None,
    subject_uscc: str | None,
    kinds: Iterable[str],
) -> list[_Row]:
    if start > end:
        raise InvalidInputError(_("统计期间无效：开始日期晚于结束日期。"), {"start": [str(start)]})
    own_dept, matter_dept = aliased(Department), aliased(Department)
    query = (
        select(Commitment, Matter, own_dept, matter_dept, Subject)
        .join(Subject, Subject.id == Commitment.subject_id)
        .outerjoin(Matter, Matter.id == Commitment.matter_id)
        .outerjoin(own_dept, own_dept.id == Commitment.department_id)
        .outerjoin(matter_dept, matter_dept.id == Matter.department_id)
        .where(
            Commitment.kind.in_(list(kinds)),
            Commitment.status != CommitmentStatus.WITHDRAWN.value,
            or_(Commitment.due_on.between(start, end), Commitment.closed_on.between(start, end)),
        )
    )
    if matter_code:
        query = query.where(Matter.code == matter_code)
    if subject_uscc:
        query = query.where(Subject.uscc == subject_uscc)
    rows = []
    for commitment, matter, dept, mdept, subject in session.execute(query):
        department = dept or mdept
        if department_code and (department is None or department.code != department_code):
            continue
        when = due_date(commitment)
        if when is None or not (start <= when <= end) or _excluded(commitment, end):
            continue
        rows.append(
            _Row(
                status=commitment.status,
                due_date=when,
                matter_code=matter.code if matter else None,
                matter_name=matter.name if matter else None,
                department_code=department.code if department else None,
                department_name=department.name if department else None,
                subject_uscc=subject.uscc,
                subject_name=subject.name,
            )
        )
    return rows


def _rate(rows: Iterable[_Row]) -> FulfilmentRate:
    rows = list(rows)
    return FulfilmentRate(
        due=len(rows),
        on_time=sum(r.status in _ON_TIME for r in rows),
        late=sum(r.status in _LATE for r in rows),
        breached=sum(r.status in _BREACHED for r in rows),
    )


def fulfilment_rate(
    session: Session,
    *,
    start: date,
    end: date,
    matter_code: str | None = None,
    department_code: str | None = None,
    subject_uscc: str | None = None,
    kinds: Iterable[str] = DEFAULT_KINDS,
) -> FulfilmentRate:
    """践诺率 for commitments due between `start` and `end` (inclusive), optionally filtered."""
    return _rate(
        _rows(session, start, end, matter_code, department_code, subject_uscc, tuple(kinds))
    )


def fulfilment_breakdown(
    session: Session,
    start: date,
    end: date,
    by: str = "matter",
    *,
    kinds: Iterable[str] = DEFAULT_KINDS,
) -> list[dict[str, Any]]:
    """践诺率 split by matter, department, subject (applicant), month or year; one row each.

    Rows: {"key", "label", "due", "on_time", "late", "breached", "rate"}, sorted by key;
    `rate` is None when nothing was due. Commitments without a matter or department are
    grouped under key None ("未关联"). Exclusions (a force-majeure extension still running)
    are judged at `end`, as for `fulfilment_rate` over the whole period.
    """
    if by not in BREAKDOWNS:
        raise InvalidInputError(
            _("不支持的分组方式。"),
            {"by": [_("可选：%(values)s", values=_("、").join(BREAKDOWNS))]},
        )
    groups: dict[str | None, tuple[str, list[_Row]]] = {}
    for row in _rows(session, start, end, None, None, None, tuple(kinds)):
        key, label = _group(row, by)
        groups.setdefault(key, (label, []))[1].append(row)
    result = []
    for key in sorted(groups, key=lambda k: (k is None, k or "")):
        label, rows = groups[key]
        rate = _rate(rows)
        result.append(
            {
                "key": key,
                "label": label,
                "due": rate.due,
                "on_time": rate.on_time,
                "late": rate.late,
                "breached": rate.breached,
                "rate": rate.rate,
            }
        )
    return result


def _group(row: _Row, by: str) -> tuple[str | None, str]:
    if by == "matter":
        return row.matter_code, row.matter_name or _("未关联事项")
    if by == "department":
        return row.department_code, row.department_name or _("未关联部门")
    if by == "subject":
        return row.subject_uscc, row.subject_name
    if by == "month":
        key = row.due_date.strftime("%Y-%m")
        return key, _("%(year)s 年 %(month)s 月", year=row.due_date.year, month=row.due_date.month)
    key = str(row.due_date.year)
    return key, _("%(year)s 年", year=key)
