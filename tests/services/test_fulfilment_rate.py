"""践诺率 (DOMAIN §3) from commitments created directly: every status and timing case."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Commitment, Matter, Subject
from app.services import commitments
from app.services.errors import InvalidInputError
from app.services.fulfilment import due_date, fulfilment_breakdown, fulfilment_rate

NOV = (date(2026, 11, 1), date(2026, 11, 30))
DEC = (date(2026, 12, 1), date(2026, 12, 31))
HONGQIAO, CHENGXI = "91310105MAAY4CL126", "91310114MA1GT8QX92"
FOOD, PROJECT = "SAMR-SPJY-001", "NDRC-XMBA-002"

# (label, kind, subject, matter, due_on, final status, closed_on, details)
CASES = [
    ("on_time", "rongque", HONGQIAO, FOOD, date(2026, 11, 10), "fulfilled", date(2026, 11, 10), {}),
    (
        "late",
        "rongque",
        HONGQIAO,
        FOOD,
        date(2026, 11, 12),
        "fulfilled_late",
        date(2026, 11, 15),
        {},
    ),
    (
        "breached",
        "notify_commit",
        CHENGXI,
        PROJECT,
        date(2026, 11, 14),
        "breached",
        date(2026, 11, 15),
        {},
    ),
    (
        "withdrawn",
        "rongque",
        HONGQIAO,
        FOOD,
        date(2026, 11, 16),
        "withdrawn",
        date(2026, 11, 3),
        {},
    ),
    ("open_not_due", "rongque", HONGQIAO, PROJECT, date(2026, 12, 5), "open", None, {}),
    (
        "closed_early",
        "notify_commit",
        HONGQIAO,
        PROJECT,
        date(2026, 12, 10),
        "fulfilled",
        date(2026, 11, 20),
        {},
    ),
    ("open_overdue", "notify_commit", CHENGXI, FOOD, date(2026, 11, 25), "open", None, {}),
    (
        "force_majeure",
        "rongque",
        HONGQIAO,
        FOOD,
        date(2026, 11, 26),
        "open",
        None,
        {"force_majeure_until": "2026-12-15"},
    ),
    (
        "breached_early",
        "rongque",
        CHENGXI,
        FOOD,
        date(2026, 12, 8),
        "breached",
        date(2026, 11, 28),
        {},
    ),
    ("repaired", "rongque", CHENGXI, PROJECT, date(2026, 11, 5), "repaired", date(2026, 11, 6), {}),
    (
        "other_kind",
        "repair",
        HONGQIAO,
        None,
        date(2026, 11, 10),
        "fulfilled",
        date(2026, 11, 10),
        {},
    ),
]


@pytest.fixture()
def book(seeded: Session) -> dict[str, int]:
    """One commitment per case, as the processes would leave them; ids by label."""
    subjects = {s.uscc: s for s in seeded.scalars(select(Subject))}
    matters = {m.code: m for m in seeded.scalars(select(Matter))}
    ids = {}
    for label, kind, uscc, code, due, status, closed, details in CASES:
        matter = matters.get(code) if code else None
        made = commitments.sign(
            seeded,
            kind=kind,
            subject=subjects[uscc],
            text=f"测试承诺：{label}",
            signer_name="测试签署人",
            signed_by=None,
            matter_id=matter.id if matter else None,
            department_id=matter.department_id if matter else None,
            due_on=due,
            details=details,
        )
        if status == "repaired":
            commitments.set_status(seeded, made.id, "breached", closed)
        if status != "open":
            commitments.set_status(seeded, made.id, status, closed)
        ids[label] = made.id
    seeded.commit()
    return ids


def test_rate_for_a_month_counts_each_case_once(seeded: Session, book: dict[str, int]) -> None:
    nov = fulfilment_rate(seeded, start=NOV[0], end=NOV[1])
    # due: on_time, late, breached, closed_early, open_overdue, breached_early, repaired.
    # Not: withdrawn (excluded), open_not_due (December), force majeure still running,
    # another kind of commitment.
    assert (nov.due, nov.on_time, nov.late, nov.breached) == (7, 2, 1, 3)
    assert nov.rate == pytest.approx(2 / 7)


def test_closed_early_counts_once_not_again_at_its_deadline(
    seeded: Session, book: dict[str, int]
) -> None:
    dec = fulfilment_rate(seeded, start=DEC[0], end=DEC[1])
    # Only the open commitment due 2026-12-05 (not yet decided): due, none fulfilled.
    assert (dec.due, dec.on_time, dec.late, dec.breached) == (1, 0, 0, 0)
    assert dec.rate == 0
    whole = fulfilment_rate(seeded, start=NOV[0], end=DEC[1])
    # November + December, plus the force-majeure case: its extension ended by 2026-12-31.
    assert whole.due == 7 + 1 + 1


def test_nothing_due_gives_no_rate(seeded: Session, book: dict[str, int]) -> None:
    empty = fulfilment_rate(seeded, start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert (empty.due, empty.rate) == (0, None)


def test_filters_by_matter_department_subject_and_kind(
    seeded: Session, book: dict[str, int]
) -> None:
    food = fulfilment_rate(seeded, start=NOV[0], end=NOV[1], matter_code=FOOD)
    assert (food.due, food.on_time, food.late, food.breached) == (4, 1, 1, 1)
    samr = fulfilment_rate(seeded, start=NOV[0], end=NOV[1], department_code="samr")
    assert samr == food  # the food matter belongs to samr
    ndrc = fulfilment_rate(seeded, start=NOV[0], end=NOV[1], department_code="ndrc")
    assert (ndrc.due, ndrc.on_time, ndrc.breached) == (3, 1, 2)
    chengxi = fulfilment_rate(seeded, start=NOV[0], end=NOV[1], subject_uscc=CHENGXI)
    assert (chengxi.due, chengxi.on_time, chengxi.breached) == (4, 0, 3)
    only_rongque = fulfilment_rate(seeded, start=NOV[0], end=NOV[1], kinds=("rongque",))
    assert (only_rongque.due, only_rongque.on_time, only_rongque.late) == (4, 1, 1)
    repair = fulfilment_rate(seeded, start=NOV[0], end=NOV[1], kinds=("repair",))
    assert (repair.due, repair.on_time) == (1, 1)


def test_breakdown_by_matter_department_and_month(seeded: Session, book: dict[str, int]) -> None:
    by_matter = fulfilment_breakdown(seeded, NOV[0], NOV[1], by="matter")
    assert [(r["key"], r["due"], r["on_time"], r["late"], r["breached"]) for r in by_matter] == [
        (PROJECT, 3, 1, 0, 2),
        (FOOD, 4, 1, 1, 1),
    ]
    assert by_matter[1]["label"] == "食品经营许可（新办）" and by_matter[1]["rate"] == 0.25
    by_dept = fulfilment_breakdown(seeded, NOV[0], NOV[1], by="department")
    assert [(r["key"], r["due"]) for r in by_dept] == [("ndrc", 3), ("samr", 4)]
    by_month = fulfilment_breakdown(seeded, NOV[0], DEC[1], by="month")
    # Reported at 2026-12-31 the force-majeure extension has ended: due in November, open.
    assert [(r["key"], r["due"], r["on_time"]) for r in by_month] == [
        ("2026-11", 8, 2),
        ("2026-12", 1, 0),
    ]
    by_subject = fulfilment_breakdown(seeded, NOV[0], NOV[1], by="subject")
    assert {r["key"]: r["due"] for r in by_subject} == {HONGQIAO: 3, CHENGXI: 4}


def test_due_date_and_invalid_input(seeded: Session, book: dict[str, int]) -> None:
    early = seeded.get(Commitment, book["closed_early"])
    late = seeded.get(Commitment, book["late"])
    assert due_date(early) == date(2026, 11, 20) and due_date(late) == date(2026, 11, 12)
    with pytest.raises(InvalidInputError):
        fulfilment_rate(seeded, start=NOV[1], end=NOV[0])
    with pytest.raises(InvalidInputError):
        fulfilment_breakdown(seeded, NOV[0], NOV[1], by="week")
