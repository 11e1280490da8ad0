"""Publication periods come from the versioned rule table, selected by decision date."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CreditRecord, Department, PublicationRule, Subject
from app.services.calendar import add_working_days, set_override
from app.services.errors import InvalidInputError
from app.services.records import apply_publication_rules


def _record(
    session: Session,
    dept: str,
    decided: date,
    severity: str = "general",
    record_type: str = "administrative_penalty",
) -> CreditRecord:
    return CreditRecord(
        subject=session.scalar(select(Subject).where(Subject.uscc == "91310114MA1GT8QX92")),
        department=session.scalar(select(Department).where(Department.code == dept)),
        record_type=record_type,
        severity=severity,
        decision_no="测试〔2026〕1号",
        decided_on=decided,
    )


def test_decision_before_april_2026_follows_order_58(seeded: Session) -> None:
    record = _record(seeded, "ndrc", date(2026, 3, 31), severity="minor")
    apply_publication_rules(seeded, record)
    assert record.rule_set == "NDRC-58"
    assert record.repairable_from == date(2026, 6, 30)  # 3 months under 58号令
    assert record.public_until == date(2029, 3, 31)


def test_decision_from_april_2026_follows_order_36(seeded: Session) -> None:
    record = _record(seeded, "ndrc", date(2026, 4, 1), severity="minor")
    apply_publication_rules(seeded, record)
    assert record.rule_set == "NDRC-36"
    assert record.repairable_from == date(2026, 4, 1)  # minor: repairable once discharged
    assert record.public_until == date(2026, 7, 1)


def test_samr_records_follow_the_publicity_system_rules(seeded: Session) -> None:
    record = _record(seeded, "samr", date(2026, 5, 12))
    apply_publication_rules(seeded, record)
    assert (record.rule_set, record.repairable_from, record.public_until) == (
        "SAMR-107",
        date(2026, 8, 12),
        date(2027, 5, 12),
    )


def test_a_date_without_any_rule_is_a_clear_error(seeded: Session) -> None:
    record = _record(seeded, "ndrc", date(2020, 1, 1))
    with pytest.raises(InvalidInputError, match="没有适用于 2020-01-01"):
        apply_publication_rules(seeded, record)


def test_rule_rows_are_data_not_code(seeded: Session) -> None:
    rows = seeded.scalars(
        select(PublicationRule).where(PublicationRule.rule_set == "NDRC-36")
    ).all()
    assert rows and all(r.effective_from == date(2026, 4, 1) for r in rows)
    assert all(r.source for r in rows)


def test_calendar_overrides_move_deadlines(seeded: Session) -> None:
    start = date(2031, 1, 30)  # a year the calendar package does not know (Thursday)
    assert add_working_days(seeded, start, 1) == date(2031, 1, 31)
    set_override(seeded, date(2031, 1, 31), False, "春节（示例）", actor=None)
    assert add_working_days(seeded, start, 1) == date(2031, 2, 3)
