"""Working-day calendar (工作日) for Asia/Shanghai, DOMAIN §0.3.

Sources, in order of precedence:

1. ``overrides``: admin-entered facts (date → is_workday), e.g. a new year's
   State Council holiday notice before the calendar package is updated;
2. ``chinese_calendar``: the yearly notices, including weekend make-up days (调休);
3. a provisional fallback for years the package does not know: weekends and the
   fixed-date statutory holidays of 《全国年节及纪念日放假办法》 (1 Jan; 1–2 May;
   1–3 Oct) are rest days. Lunar holidays and make-up days are missing, so
   :meth:`WorkCalendar.is_provisional` flags such years.

Deadline counting starts on the working day *after* receipt (our default).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import chinese_calendar

# 《全国年节及纪念日放假办法》: statutory holidays with a fixed Gregorian date.
FIXED_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
)

# Longest plausible run of rest days; guards against overrides that remove every workday.
_MAX_REST_RUN = 366
_ONE_DAY = timedelta(days=1)


class WorkCalendar:
    """Answers "is this a working day?" and counts working days.

    ``overrides`` maps a date to ``True`` (working day) or ``False`` (rest day) and
    always wins over the package data and the fallback.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._overrides: dict[date, bool] = {
            _as_date(day): bool(flag) for day, flag in (overrides or {}).items()
        }
        self._override_years = frozenset(day.year for day in self._overrides)

    def is_workday(self, day: date) -> bool:
        """True when ``day`` is a working day in mainland China."""
        day = _as_date(day)
        if day in self._overrides:
            return self._overrides[day]
        known = _package_is_workday(day)
        return known if known is not None else _fallback_is_workday(day)

    def is_provisional(self, year: int) -> bool:
        """True when neither the package nor any override covers ``year``."""
        return not package_knows_year(year) and year not in self._override_years

    def next_workday(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        candidate = _as_date(day) + _ONE_DAY
        for _ in range(_MAX_REST_RUN):
            if self.is_workday(candidate):
                return candidate
            candidate += _ONE_DAY
        raise ValueError(f"no working day within {_MAX_REST_RUN} days after {day}")

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; counting starts the day after.

        ``n == 0`` returns ``start`` unchanged; negative ``n`` raises ``ValueError``.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        day = _as_date(start)
        for _ in range(n):
            day = self.next_workday(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days ``d`` with ``start < d <= end`` (0 if ``end <= start``)."""
        start, end = _as_date(start), _as_date(end)
        days = (start + timedelta(days=offset) for offset in range(1, (end - start).days + 1))
        return sum(1 for day in days if self.is_workday(day))


def add_working_days(start: date, n: int, overrides: Mapping[date, bool] | None = None) -> date:
    """Convenience wrapper around :meth:`WorkCalendar.add_working_days`."""
    return WorkCalendar(overrides).add_working_days(start, n)


def package_knows_year(year: int) -> bool:
    """True when ``chinese_calendar`` carries holiday data for ``year``."""
    return _package_is_workday(date(year, 6, 30)) is not None


def _package_is_workday(day: date) -> bool | None:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def _fallback_is_workday(day: date) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


def _as_date(day: date) -> date:
    # datetime is a subclass of date; a datetime key would never match a date key.
    return day.date() if isinstance(day, datetime) else day
