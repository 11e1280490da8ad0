"""What every dashboard area shares: the scope (period and department), local days, rates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Department
from app.rules.calendar import WorkCalendar
from app.services.calendar import get_calendar
from app.services.host import SETTINGS


@dataclass(frozen=True)
class Scope:
    """A period of local days [start, end] and an optional department (its code)."""

    start: date
    end: date
    department: str | None = None

    def contains(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


def timezone() -> ZoneInfo:
    return ZoneInfo(SETTINGS.timezone)


def local_day(moment: datetime | str | None) -> date | None:
    """The local (deployment time zone) day of an instant, or of an ISO timestamp."""
    if moment is None or moment == "":
        return None
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(timezone()).date()


def instant(moment: datetime | str | None) -> datetime | None:
    """An aware datetime from a datetime or ISO string (None when missing or malformed)."""
    if moment is None or moment == "":
        return None
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def utc_bounds(scope: Scope) -> tuple[datetime, datetime]:
    """[first instant of start, first instant after end) in UTC, for timestamp columns."""
    tz = timezone()
    low = datetime.combine(scope.start, time.min, tz).astimezone(UTC)
    high = datetime.combine(scope.end + timedelta(days=1), time.min, tz).astimezone(UTC)
    return low, high


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def average(values: Iterable[int]) -> float | None:
    values = list(values)
    return round(sum(values) / len(values), 1) if values else None


def month_keys(start: date, end: date) -> list[str]:
    """'YYYY-MM' for every month the period touches, in order."""
    keys, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def departments(session: Session, scope: Scope | None = None) -> list[Department]:
    """Every department (or only the scope's), ordered by code."""
    query = select(Department).order_by(Department.code)
    if scope is not None and scope.department:
        query = query.where(Department.code == scope.department)
    return list(session.scalars(query))


def calendar(session: Session) -> WorkCalendar:
    return get_calendar(session)
