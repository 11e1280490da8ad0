"""The working-day calendar of the deployment, with the admins' overrides applied."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CalendarOverride, User
from app.rules.calendar import WorkCalendar
from app.services import audit


def get_calendar(session: Session) -> WorkCalendar:
    """The calendar every deadline is computed with."""
    overrides = {row.day: row.is_workday for row in session.scalars(select(CalendarOverride))}
    return WorkCalendar(overrides)


def add_working_days(session: Session, start: date, days: int) -> date:
    return get_calendar(session).add_working_days(start, days)


def set_override(
    session: Session, day: date, is_workday: bool, note: str, actor: User | None
) -> None:
    """Record an official working-day fact (e.g. a holiday notice the package lacks)."""
    row = session.get(CalendarOverride, day)
    if row is None:
        session.add(CalendarOverride(day=day, is_workday=is_workday, note=note))
    else:
        row.is_workday, row.note = is_workday, note
    audit.record(
        session,
        "calendar.override",
        actor=actor,
        object_type="date",
        object_id=day.isoformat(),
        details={"is_workday": is_workday, "note": note},
    )
