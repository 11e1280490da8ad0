"""Working-day calendar: State Council notices for 2025/2026, overrides, fallback."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.rules.calendar import WorkCalendar, add_working_days

CAL = WorkCalendar()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# 国办发明电〔2024〕12号 (2025 holidays).
@pytest.mark.parametrize("day", [date(2025, 1, 26), date(2025, 2, 8)])
def test_2025_spring_festival_weekend_make_up_days_are_workdays(day: date) -> None:
    assert day.weekday() >= 5
    assert CAL.is_workday(day)


@pytest.mark.parametrize("day", days(date(2025, 1, 28), date(2025, 2, 4)))
def test_2025_spring_festival_is_a_holiday(day: date) -> None:
    assert not CAL.is_workday(day)


@pytest.mark.parametrize("day", days(date(2025, 10, 1), date(2025, 10, 8)))
def test_2025_national_day_is_a_holiday(day: date) -> None:
    assert not CAL.is_workday(day)


@pytest.mark.parametrize("day", [date(2025, 9, 28), date(2025, 10, 11)])
def test_2025_national_day_make_up_days_are_workdays(day: date) -> None:
    assert day.weekday() >= 5
    assert CAL.is_workday(day)


# 国办发明电〔2025〕7号 (2026 holidays), as encoded in chinese_calendar 1.11.0.
@pytest.mark.parametrize(
    "day",
    days(date(2026, 1, 1), date(2026, 1, 3))
    + days(date(2026, 2, 15), date(2026, 2, 23))
    + days(date(2026, 5, 1), date(2026, 5, 5))
    + days(date(2026, 10, 1), date(2026, 10, 7)),
)
def test_2026_holidays(day: date) -> None:
    assert not CAL.is_workday(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ],
)
def test_2026_make_up_days_are_workdays(day: date) -> None:
    assert day.weekday() >= 5
    assert CAL.is_workday(day)


def test_plain_weekdays_and_weekends() -> None:
    assert CAL.is_workday(date(2026, 3, 10))
    assert not CAL.is_workday(date(2026, 3, 14))


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 2, 12), 1, date(2026, 2, 13)),
        (date(2026, 2, 12), 2, date(2026, 2, 14)),  # make-up Saturday
        (date(2026, 2, 12), 3, date(2026, 2, 24)),  # after the 9-day Spring Festival
        (date(2026, 2, 12), 7, date(2026, 2, 28)),  # second make-up Saturday
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        (date(2025, 9, 30), 3, date(2025, 10, 11)),  # make-up Saturday
        (date(2025, 9, 30), 4, date(2025, 10, 13)),
        (date(2025, 9, 26), 1, date(2025, 9, 28)),  # make-up Sunday
        (date(2025, 9, 26), 5, date(2025, 10, 10)),
    ],
)
def test_add_working_days_across_long_holidays(start: date, n: int, expected: date) -> None:
    assert CAL.add_working_days(start, n) == expected


def test_counting_starts_the_working_day_after_receipt() -> None:
    friday = date(2025, 3, 7)
    assert CAL.add_working_days(friday, 1) == date(2025, 3, 10)
    # Receipt on a Friday before Dragon Boat (2025-05-31..06-02): next WD is Tuesday.
    assert CAL.add_working_days(date(2025, 5, 30), 1) == date(2025, 6, 3)


def test_receipt_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert CAL.add_working_days(date(2025, 10, 3), 1) == date(2025, 10, 9)


def test_zero_days_returns_start_and_negative_is_rejected() -> None:
    assert CAL.add_working_days(date(2025, 10, 3), 0) == date(2025, 10, 3)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2025, 10, 3), -1)


def test_next_workday_is_strictly_after() -> None:
    assert CAL.next_workday(date(2025, 3, 10)) == date(2025, 3, 11)
    assert CAL.next_workday(date(2026, 2, 14)) == date(2026, 2, 24)


def test_datetime_input_is_treated_as_its_date() -> None:
    assert CAL.add_working_days(datetime(2025, 3, 7, 10, 12), 1) == date(2025, 3, 10)


def test_overrides_win_over_package_data() -> None:
    cal = WorkCalendar({date(2025, 10, 8): True, date(2025, 3, 10): False})
    assert cal.is_workday(date(2025, 10, 8))
    assert not cal.is_workday(date(2025, 3, 10))
    assert cal.add_working_days(date(2025, 3, 7), 1) == date(2025, 3, 11)


def test_module_helper_accepts_overrides() -> None:
    assert add_working_days(date(2025, 3, 7), 1) == date(2025, 3, 10)
    assert add_working_days(date(2025, 3, 7), 1, {date(2025, 3, 8): True}) == date(2025, 3, 8)


def test_unknown_year_uses_provisional_fallback() -> None:
    assert CAL.is_provisional(2031)
    assert not CAL.is_provisional(2025)
    assert not CAL.is_provisional(2026)
    assert date(2031, 1, 2).weekday() == 3
    assert CAL.is_workday(date(2031, 1, 2))
    assert not CAL.is_workday(date(2031, 1, 4))  # Saturday
    for fixed in (
        date(2031, 1, 1),
        date(2031, 5, 1),
        date(2031, 5, 2),
        date(2031, 10, 3),
    ):
        assert fixed.weekday() < 5
        assert not CAL.is_workday(fixed)
    assert CAL.add_working_days(date(2031, 4, 30), 1) == date(2031, 5, 5)


def test_overrides_win_in_unknown_years_and_end_provisional_status() -> None:
    cal = WorkCalendar({date(2031, 1, 2): False, date(2031, 1, 4): True})
    assert not cal.is_provisional(2031)
    assert cal.is_provisional(2032)
    assert not cal.is_workday(date(2031, 1, 2))
    assert cal.is_workday(date(2031, 1, 4))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2025, 9, 30), date(2025, 10, 13), 4),
        (date(2025, 3, 6), date(2025, 3, 7), 1),
        (date(2025, 3, 7), date(2025, 3, 7), 0),
        (date(2025, 3, 10), date(2025, 3, 7), 0),
        (date(2026, 2, 13), date(2026, 2, 28), 6),  # 14th, 24th–27th, 28th
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert CAL.working_days_between(start, end) == expected
