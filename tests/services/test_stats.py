"""Dashboard figures (app/services/stats) from data the real services and processes leave.

Every area gets its own known data: commitments signed and closed through
`services.commitments`; repairs, objections and breach cases run through their shipped BPMN
processes with time moved on the engine clock. Database timestamps (task created/completed,
instance started/completed, audit) follow the same clock here, so "working days" are exact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

import app.models.base as model_base
from app.engine import clock
from app.models import CreditRecord, Department, Matter, ProcessInstance, Subject
from app.services import attachments, breaches, commitments, instances, tasks, timers
from app.services.definitions import deploy_bundle, read_bundle_dir
from app.services.exports import Column, to_csv, to_xlsx
from app.services.stats import Scope, dashboard, table
from app.services.stats import enterprise as enterprise_stats
from app.services.stats import fulfilment as fulfilment_stats
from tests.engine_fixtures import only_task, open_tasks, user

SH = ZoneInfo("Asia/Shanghai")
BPMN = Path(__file__).resolve().parents[2] / "bpmn"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HONGQIAO, CHENGXI = "91310105MAAY4CL126", "91310114MA1GT8QX92"
FOOD, PROJECT = "SAMR-SPJY-001", "NDRC-XMBA-002"  # matters of samr and ndrc
NOV = Scope(date(2026, 11, 1), date(2026, 11, 30))
OCT_NOV = Scope(date(2026, 10, 1), date(2026, 11, 30))


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), SH)


class _EngineTime(datetime):
    """`datetime` whose now() is the engine clock: row timestamps follow moved time."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        value = clock.now()
        return value.astimezone(tz) if tz is not None else value.replace(tzinfo=None)


@pytest.fixture()
def db(seeded: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    files = read_bundle_dir(BPMN)
    wanted = ("credit_repair", "objection_handling", "commitment_breach")
    deploy_bundle(seeded, {k: v for k, v in files.items() if k.startswith(wanted)})
    seeded.commit()
    monkeypatch.setattr(model_base, "datetime", _EngineTime)
    with clock.frozen_at(at(date(2026, 11, 20))):  # the seed day, a Friday
        yield seeded


def _subject(session: Session, uscc: str) -> Subject:
    return session.scalar(select(Subject).where(Subject.uscc == uscc))


def _record(session: Session, key: str) -> CreditRecord:
    rows = session.scalars(select(CreditRecord)).all()
    return next(r for r in rows if (r.extra or {}).get("seed_key") == key)


def _commit(
    session: Session,
    uscc: str,
    matter_code: str,
    due: date,
    status: str | None = None,
    closed: date | None = None,
    kind: str = "rongque",
) -> int:
    matter = session.scalar(select(Matter).where(Matter.code == matter_code))
    made = commitments.sign(
        session,
        kind=kind,
        subject=_subject(session, uscc),
        text=f"测试承诺：{matter.name}，{due.isoformat()} 前补齐。",
        signer_name="王某某",
        signed_by=None,
        matter_id=matter.id,
        department_id=matter.department_id,
        due_on=due,
    )
    if status:
        commitments.set_status(session, made.id, status, closed or due)
    session.commit()
    return made.id


def _complete(session: Session, instance_id: int, bpmn_id: str, who: str, data: dict) -> None:
    task = only_task(session, instance_id, bpmn_id)
    tasks.complete(session, task.id, data, user(session, who))
    session.commit()


def _key(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(r for r in rows if r["key"] == key)


# --- 践诺率 -------------------------------------------------------------------------------------


@pytest.fixture()
def promised(db: Session) -> Session:
    _commit(db, HONGQIAO, FOOD, date(2026, 11, 10), "fulfilled", date(2026, 11, 10))
    _commit(db, HONGQIAO, FOOD, date(2026, 11, 12), "fulfilled_late", date(2026, 11, 15))
    _commit(db, CHENGXI, FOOD, date(2026, 11, 14), "breached", date(2026, 11, 15), "notify_commit")
    _commit(db, HONGQIAO, PROJECT, date(2026, 10, 5), "fulfilled", date(2026, 10, 5))
    _commit(db, CHENGXI, PROJECT, date(2026, 11, 18))  # open after its deadline
    _commit(db, HONGQIAO, PROJECT, date(2026, 12, 3))  # not due yet
    _commit(db, HONGQIAO, FOOD, date(2026, 11, 16), "withdrawn", date(2026, 11, 2))  # excluded
    return db


def _counts(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["due"], row["on_time"], row["late"], row["breached"], row["open"], row["rate"])


def test_fulfilment_by_month_department_and_matter(promised: Session) -> None:
    tables = dashboard(promised, OCT_NOV)
    assert [(r["key"], *_counts(r)) for r in tables["fulfilment_month"]] == [
        ("2026-10", 1, 1, 0, 0, 0, 1.0),
        ("2026-11", 4, 1, 1, 1, 1, 0.25),
    ]
    by_dept = tables["fulfilment_department"]
    assert [r["key"] for r in by_dept] == ["ndrc", "samr"]
    assert _counts(by_dept[0]) == (2, 1, 0, 0, 1, 0.5)
    assert _counts(by_dept[1]) == (3, 1, 1, 1, 0, pytest.approx(1 / 3))
    assert {r["key"]: r["due"] for r in tables["fulfilment_matter"]} == {FOOD: 3, PROJECT: 2}
    assert _key(tables["fulfilment_matter"], FOOD)["label"] == "食品经营许可（新办）"
    whole = fulfilment_stats.totals(promised, OCT_NOV)
    assert _counts(whole) == (5, 2, 1, 1, 1, 0.4)


def test_fulfilment_for_one_department_and_empty_months(promised: Session) -> None:
    samr = Scope(date(2026, 9, 1), date(2026, 11, 30), "samr")
    months = table(promised, samr, "fulfilment_month")
    assert [(r["key"], r["due"], r["rate"]) for r in months] == [
        ("2026-09", 0, None),  # every month of the period is listed, nothing due → no rate
        ("2026-10", 0, None),
        ("2026-11", 3, pytest.approx(1 / 3)),
    ]
    assert [r["key"] for r in table(promised, samr, "fulfilment_department")] == ["samr"]
    assert [r["key"] for r in table(promised, samr, "fulfilment_matter")] == [FOOD]
    assert fulfilment_stats.totals(promised, samr)["due"] == 3


# --- repairs -------------------------------------------------------------------------------


def _upload(session: Session, instance_id: int, tmp: Path) -> str:
    attachment = attachments.add_attachment(
        session,
        session.get(ProcessInstance, instance_id),
        user(session, "ent_chengxi"),
        kind="履行义务证明",
        filename="证明.pdf",
        stream=io.BytesIO(PDF),
        storage_dir=tmp,
        max_bytes=10 * 1024 * 1024,
    )
    return str(attachment.id)


def _apply(session: Session, tmp: Path, *keys: str, accept_on: date | None = None) -> int:
    """Apply for repair of the records, submit with proofs; the window accepts."""
    ids = [_record(session, k).id for k in keys]
    instance = instances.start_instance(
        session, "credit_repair", {"record_ids": ids}, user(session, "ent_chengxi")
    )
    session.commit()
    if not open_tasks(session, instance.id):
        return instance.id  # refused at the eligibility check
    proofs = [
        {"record_id": i, "discharged": True, "proof": _upload(session, instance.id, tmp)}
        for i in ids
    ]
    form = {"proofs": proofs, "agree": True, "signer_name": "王某某"}
    _complete(session, instance.id, "submit_application", "ent_chengxi", form)
    with clock.frozen_at(at(accept_on or clock.now().astimezone(SH).date())):
        accept = {"decision": "accept", "opinion": "材料齐全"}
        _complete(session, instance.id, "accept_application", "clerk_window", accept)
    return instance.id


def _review(session: Session, instance_id: int, code: str, who: str, form: dict) -> None:
    dept = session.scalar(select(Department).where(Department.code == code))
    found = [t for t in open_tasks(session, instance_id) if t.department_id == dept.id]
    assert len(found) == 1, [(t.bpmn_id, t.department_id) for t in open_tasks(session, instance_id)]
    tasks.complete(session, found[0].id, form, user(session, who))
    session.commit()


@pytest.fixture()
def repaired(db: Session, tmp_path: Path) -> dict[str, int]:
    """A approved by samr and ndrc on the day; B rejected by tax's leader after the deadline;
    C refused at once (a serious record not yet repairable)."""
    a = _apply(db, tmp_path, "samr-general", "ndrc-general")
    _review(db, a, "samr", "rev_samr", {"decision": "approve", "opinion": "已履行"})
    _review(db, a, "ndrc", "rev_ndrc", {"decision": "approve", "opinion": "已履行"})
    b = _apply(db, tmp_path, "tax-general")
    review = only_task(db, b, "review_records")
    assert review.due_at.astimezone(SH).date() == date(2026, 11, 25)  # 3 WD, 36号令
    assert timers.fire_due_timers(review.due_at + timedelta(seconds=1)) == 1
    with clock.frozen_at(at(date(2026, 11, 26))):
        db.expire_all()
        form = {"decision": "reject", "opinion": "未提供完税证明"}
        _complete(db, b, "expedite_review", "lead_tax", form)
    c = _apply(db, tmp_path, "samr-serious")
    return {"approved": a, "rejected": b, "refused": c}


def test_repairs_by_outcome_and_department_against_the_limit(
    db: Session, repaired: dict[str, int]
) -> None:
    tables = dashboard(db, NOV)
    outcomes = {r["key"]: r for r in tables["repairs_outcome"]}
    assert {k: r["applications"] for k, r in outcomes.items()} == {
        "approved": 1,
        "partly_approved": 0,
        "rejected": 1,
        "refused": 1,
        "in_progress": 0,
    }
    # Friday 11-20 → Thursday 11-26: 23, 24, 25, 26 = 4 working days.
    assert outcomes["rejected"]["avg_working_days"] == 4.0
    assert outcomes["approved"]["avg_working_days"] == 0.0
    by_dept = {r["key"]: r for r in tables["repairs_department"]}
    assert set(by_dept) == {"ndrc", "samr", "tax"}
    samr, tax = by_dept["samr"], by_dept["tax"]
    assert (samr["applications"], samr["records_approved"], samr["share_approved"]) == (1, 1, 1.0)
    assert (samr["limit_days"], samr["within_limit"], samr["over_limit"]) == (7, 1, 0)
    assert by_dept["ndrc"]["limit_days"] == 3 and by_dept["ndrc"]["within_limit"] == 1
    assert (tax["records_rejected"], tax["share_approved"]) == (1, 0.0)
    assert (tax["avg_working_days"], tax["limit_days"]) == (4.0, 3)
    assert (tax["within_limit"], tax["over_limit"], tax["reviews_open"]) == (0, 1, 0)


def test_repairs_for_one_department_and_another_period(
    db: Session, repaired: dict[str, int]
) -> None:
    tax = Scope(NOV.start, NOV.end, "tax")
    outcomes = {r["key"]: r["applications"] for r in table(db, tax, "repairs_outcome")}
    assert outcomes["rejected"] == 1 and outcomes["approved"] == 0
    assert outcomes["refused"] == 0  # refused before any department saw it
    assert [r["key"] for r in table(db, tax, "repairs_department")] == ["tax"]
    december = Scope(date(2026, 12, 1), date(2026, 12, 31))
    assert sum(r["applications"] for r in table(db, december, "repairs_outcome")) == 0


def test_enterprise_overview_lists_its_own_repairs(db: Session, repaired: dict[str, int]) -> None:
    chengxi, hongqiao = _subject(db, CHENGXI), _subject(db, HONGQIAO)
    rows = enterprise_stats.repair_table(db, chengxi, NOV)
    assert {r["key"]: r["outcome"] for r in rows} == {v: k for k, v in repaired.items()}
    rejected = next(r for r in rows if r["key"] == repaired["rejected"])
    assert (rejected["decided_on"], rejected["working_days"]) == (date(2026, 11, 26), 4)
    assert enterprise_stats.repair_table(db, hongqiao, NOV) == []


# --- objections ----------------------------------------------------------------------------


def _object(session: Session, key: str, ground: str, who: str) -> int:
    data = {"record_id": _record(session, key).id, "ground": ground, "claim": "记录有误，请核实。"}
    instance = instances.start_instance(session, "objection_handling", data, user(session, who))
    session.commit()
    return instance.id


@pytest.fixture()
def objected(db: Session) -> dict[str, int]:
    """Upheld in time (samr), deleted by the leader after the deadline (ndrc), refused by the
    window (tax), and one still with the provider (samr)."""
    forward = {"decision": "forward"}
    upheld = _object(db, "samr-abnormal", "wrong_info", "ent_chengxi")
    _complete(db, upheld, "platform_check", "clerk_window", forward)
    _complete(db, upheld, "decide_objection", "rev_samr", {"decision": "uphold", "opinion": "无误"})
    late = _object(db, "hq-general", "expired", "ent_hongqiao")
    _complete(db, late, "platform_check", "clerk_window", forward)
    decide = only_task(db, late, "decide_objection")
    assert timers.fire_due_timers(decide.due_at + timedelta(seconds=1)) == 1
    assert decide.due_at.astimezone(SH).date() == date(2026, 11, 27)  # 5 WD after forwarding
    with clock.frozen_at(at(date(2026, 11, 30))):  # the leader decides on Monday
        db.expire_all()
        delete = {"decision": "delete", "opinion": "期满应停止公示，予以删除。"}
        _complete(db, late, "leader_decide_objection", "lead_ndrc", delete)
    refused = _object(db, "ha-serious", "privacy", "ent_haian")
    reject = {"decision": "reject", "opinion": "不属于异议受理范围。"}
    _complete(db, refused, "platform_check", "clerk_window", reject)
    pending = _object(db, "hq-minor", "wrong_info", "ent_hongqiao")
    _complete(db, pending, "platform_check", "clerk_window", forward)
    return {"upheld": upheld, "late": late, "refused": refused, "pending": pending}


def test_objections_by_ground_and_outcome_within_the_limit(
    db: Session, objected: dict[str, int]
) -> None:
    rows = {r["key"]: r for r in table(db, NOV, "objections_ground")}
    assert list(rows) == ["wrong_info", "expired", "not_listable", "privacy", "repair_result"]
    wrong = rows["wrong_info"]
    assert (wrong["received"], wrong["uphold"], wrong["pending"]) == (2, 1, 1)
    assert (wrong["within_limit"], wrong["over_limit"]) == (1, 0)
    expired = rows["expired"]
    assert (expired["received"], expired["delete"], expired["over_limit"]) == (1, 1, 1)
    assert expired["avg_working_days"] == 6.0  # Friday 11-20 → Monday 11-30
    privacy = rows["privacy"]
    assert (privacy["received"], privacy["rejected"], privacy["within_limit"]) == (1, 1, 1)
    assert rows["not_listable"]["received"] == 0
    samr = {
        r["key"]: r["received"]
        for r in table(db, Scope(NOV.start, NOV.end, "samr"), "objections_ground")
    }
    assert samr == {
        "wrong_info": 2,
        "expired": 0,
        "not_listable": 0,
        "privacy": 0,
        "repair_result": 0,
    }
    october = table(db, Scope(date(2026, 10, 1), date(2026, 10, 31)), "objections_ground")
    assert sum(r["received"] for r in october) == 0


def test_enterprise_sees_only_its_own_objections(db: Session, objected: dict[str, int]) -> None:
    rows = enterprise_stats.objection_table(db, _subject(db, HONGQIAO), NOV)
    assert {r["key"]: r["outcome"] for r in rows} == {
        objected["late"]: "delete",
        objected["pending"]: "pending",
    }
    assert next(r for r in rows if r["key"] == objected["late"])["within_limit"] is False


# --- breaches ------------------------------------------------------------------------------


def _breach_case(session: Session, commitment_id: int, confirmer: str) -> CreditRecord:
    instance = instances.start_instance(
        session,
        "commitment_breach",
        {"commitment_id": commitment_id, "reason": "事后核查发现承诺不实"},
        user(session, "insp_samr"),
    )
    session.commit()
    _complete(
        session,
        instance.id,
        "confirm_breach",
        confirmer,
        {"decision": "confirm", "opinion": "经核查属实"},
    )
    rows = session.scalars(
        select(CreditRecord).where(CreditRecord.record_type == "breach_of_commitment")
    ).all()
    return next(r for r in rows if r.extra["commitment_id"] == commitment_id)


def test_breach_loop_open_breaches_and_resolutions(db: Session) -> None:
    samr_open = _breach_case(db, _commit(db, HONGQIAO, FOOD, date(2026, 12, 4)), "rev_samr")
    ndrc_fixed = _breach_case(db, _commit(db, HONGQIAO, PROJECT, date(2026, 12, 4)), "rev_ndrc")
    ndrc_fixed.status = "repaired"  # what credit_repair's result handler sets
    assert breaches.close_loop_for_record(db, ndrc_fixed, date(2026, 11, 20))
    db.commit()
    rows = {r["key"]: r for r in table(db, NOV, "breaches_department")}
    assert set(rows) == {"ndrc", "samr"}  # departments with nothing are left out
    assert (rows["samr"]["made"], rows["samr"]["breached"], rows["samr"]["open_now"]) == (1, 1, 1)
    ndrc = rows["ndrc"]
    assert (ndrc["breached"], ndrc["repaired"], ndrc["closed_repaired"], ndrc["open_now"]) == (
        1,
        1,
        1,
        0,
    )
    (listed,) = table(db, NOV, "breaches_open")
    assert listed["decision_no"] == samr_open.decision_no and listed["subject_uscc"] == HONGQIAO
    assert table(db, Scope(NOV.start, NOV.end, "ndrc"), "breaches_open") == []


# --- tasks ---------------------------------------------------------------------------------


def test_overdue_and_late_tasks_by_department(db: Session, tmp_path: Path) -> None:
    # The window accepts on Tuesday 11-24, a day after its 1 WD limit (Monday 11-23).
    instance = _apply(db, tmp_path, "tax-general", accept_on=date(2026, 11, 24))
    review = only_task(db, instance, "review_records")
    assert review.due_at.astimezone(SH).date() == date(2026, 11, 27)
    with clock.frozen_at(at(date(2026, 11, 30))):
        rows = {r["key"]: r for r in table(db, NOV, "tasks_department")}
    assert (rows["tax"]["open"], rows["tax"]["overdue"], rows["tax"]["completed"]) == (1, 1, 0)
    window = rows["service_center"]
    assert (window["completed"], window["completed_late"], window["share_on_time"]) == (1, 1, 0.0)
    with clock.frozen_at(at(date(2026, 11, 26))):
        assert table(db, NOV, "tasks_department")[-1]["overdue"] == 0  # not due yet
    # The applicant's own submit task (completed too) is no department's work.
    assert sum(r["completed"] for r in rows.values()) == 1


# --- exports -------------------------------------------------------------------------------


COLUMNS = [
    Column("name", "名称"),
    Column("count", "数量", "int"),
    Column("rate", "践诺率", "rate"),
    Column("days", "平均用时", "number"),
    Column("on", "日期", "date"),
    Column("ok", "按时", "bool"),
]
ROWS = [
    {
        "name": "上海虹桥示例商贸有限公司",
        "count": 3,
        "rate": 2 / 3,
        "days": 1.25,
        "on": date(2026, 11, 20),
        "ok": True,
    },
    {
        "name": '=HYPERLINK("http://x")',
        "count": 0,
        "rate": None,
        "days": None,
        "on": None,
        "ok": False,
    },
]


def test_csv_has_bom_header_and_neutralised_formulas() -> None:
    body = to_csv(COLUMNS, ROWS)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["名称", "数量", "践诺率", "平均用时", "日期", "按时"]
    assert rows[1] == ["上海虹桥示例商贸有限公司", "3", "66.7%", "1.2", "2026-11-20", "是"]
    assert rows[2] == ['\'=HYPERLINK("http://x")', "0", "", "", "", "否"]


def test_xlsx_has_typed_cells_a_header_and_widths() -> None:
    body = to_xlsx("践诺率", COLUMNS, ROWS, notes=[("统计期间", "2026-11-01 — 2026-11-30")])
    book = load_workbook(io.BytesIO(body))
    sheet = book["践诺率"]
    assert [c.value for c in sheet[1]] == ["名称", "数量", "践诺率", "平均用时", "日期", "按时"]
    assert sheet[1][0].font.bold and sheet.freeze_panes == "A2"
    name, count, rate, days, on, ok = sheet[2]
    assert (count.value, rate.value, rate.number_format) == (3, pytest.approx(2 / 3), "0.0%")
    assert on.is_date and on.value.date() == date(2026, 11, 20)
    assert ok.value == "是" and days.value == 1.25
    formula = sheet[3][0]
    assert formula.data_type == "s" and formula.value == '=HYPERLINK("http://x")'
    assert sheet.column_dimensions["A"].width >= 2 * len("上海虹桥示例商贸有限公司")
    assert book["说明"]["B1"].value == "2026-11-01 — 2026-11-30"
