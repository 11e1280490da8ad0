"""What BPMN scripts, conditions and timers may call (besides safe builtins and Decimal)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from app.engine import clock
from app.rules.calendar import WorkCalendar


def _as_date(value: Any, tz: ZoneInfo) -> date:
    if value is None:
        return clock.now().astimezone(tz).date()
    if isinstance(value, datetime):
        return value.astimezone(tz).date()
    if isinstance(value, date):
        return value
    text = str(value)
    return (
        datetime.fromisoformat(text).astimezone(tz).date()
        if "T" in text
        else date.fromisoformat(text)
    )


def script_helpers(calendar: WorkCalendar, timezone: str) -> dict[str, Callable[..., Any]]:
    """Pure helpers bound to the deployment's working-day calendar and time zone."""
    tz = ZoneInfo(timezone)

    def today() -> str:
        """Today's date in the deployment's time zone, ISO format."""
        return clock.now().astimezone(tz).date().isoformat()

    def now_iso() -> str:
        """The engine clock's instant, ISO 8601 with offset."""
        return clock.now().astimezone(tz).isoformat()

    def add_working_days(days: int, start: Any = None) -> str:
        """The date `days` working days after `start` (default today), ISO format."""
        return calendar.add_working_days(_as_date(start, tz), int(days)).isoformat()

    def deadline_after_working_days(days: int, start: Any = None) -> str:
        """End of the `days`-th working day after `start`, as a timeDate value with offset."""
        day = calendar.add_working_days(_as_date(start, tz), int(days))
        return datetime.combine(day, time(23, 59, 59), tz).isoformat()

    def working_days_between(start: Any, end: Any) -> int:
        """Working days d with start < d <= end."""
        return calendar.working_days_between(_as_date(start, tz), _as_date(end, tz))

    return {
        "today": today,
        "now_iso": now_iso,
        "add_working_days": add_working_days,
        "deadline_after_working_days": deadline_after_working_days,
        "working_days_between": working_days_between,
    }


HELPER_NAMES = (
    "today",
    "now_iso",
    "add_working_days",
    "deadline_after_working_days",
    "working_days_between",
    "Decimal",
)
