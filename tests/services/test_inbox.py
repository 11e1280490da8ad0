"""The approver's inbox queries: tabs, filters, counts, urgency, and leaders' reassignment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import AuditEvent, CreditRecord, Department, HumanTask, ProcessInstance
from app.services import attachments, inbox, instances, tasks
from app.services.definitions import deploy_bundle, read_bundle_dir
from app.services.errors import ConflictError, InvalidInputError, NotAllowedError, NotFoundError
from tests.conftest import SEED_DAY
from tests.engine_fixtures import only_task, open_tasks, user

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime.combine(SEED_DAY, time(10, 0), TZ)  # Friday 2026-11-20
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
CHENGXI = "91310114MA1GT8QX92"


def record(session: Session, key: str) -> CreditRecord:
    rows = session.scalars(select(CreditRecord)).all()
    return next(r for r in rows if (r.extra or {}).get("seed_key") == key)


def dept_id(session: Session, code: str) -> int:
    found = session.scalar(select(Department.id).where(Department.code == code))
    assert found is not None
    return found


def upload(session: Session, app: Flask, instance: ProcessInstance, body: bytes = PDF) -> int:
    found = attachments.add_attachment(
        session,
        instance,
        user(session, "ent_chengxi"),
        kind="履行义务证明",
        filename="证明.pdf" if body is PDF else "照片.png",
        stream=BytesIO(body),
        storage_dir=Path(app.config["STORAGE_DIR"]),
        max_bytes=10 * 1024 * 1024,
    )
    return found.id


def start_repair(session: Session, app: Flask) -> ProcessInstance:
    """credit_repair for two records, submitted and accepted: samr and ndrc review tasks."""
    keys = ("samr-general", "ndrc-general")
    instance = instances.start_instance(
        session,
        "credit_repair",
        {"record_ids": [record(session, k).id for k in keys]},
        user(session, "ent_chengxi"),
    )
    session.commit()
    proofs = [
        {
            "record_id": record(session, k).id,
            "discharged": True,
            "proof": str(upload(session, app, instance)),
        }
        for k in keys
    ]
    task = only_task(session, instance.id, "submit_application")
    tasks.complete(
        session,
        task.id,
        {"proofs": proofs, "agree": True, "signer_name": "王某某"},
        user(session, "ent_chengxi"),
    )
    session.commit()
    task = only_task(session, instance.id, "accept_application")
    tasks.complete(
        session,
        task.id,
        {"decision": "accept", "opinion": "材料齐全"},
        user(session, "clerk_window"),
    )
    session.commit()
    return instance


def start_objection(session: Session, key: str = "samr-abnormal") -> ProcessInstance:
    """objection_handling forwarded by the window: a samr decide task."""
    data = {
        "record_id": record(session, key).id,
        "ground": "wrong_info",
        "claim": "信息有误，请更正。",
    }
    instance = instances.start_instance(
        session, "objection_handling", data, user(session, "ent_chengxi")
    )
    session.commit()
    task = only_task(session, instance.id, "platform_check")
    tasks.complete(session, task.id, {"decision": "forward"}, user(session, "clerk_window"))
    session.commit()
    return instance


def seed_cases(session: Session, app: Flask) -> tuple[ProcessInstance, ProcessInstance]:
    deploy_bundle(session, read_bundle_dir(ROOT / "bpmn"))
    session.commit()
    return start_repair(session, app), start_objection(session)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture()
def cases(seeded: Session, app: Flask) -> tuple[ProcessInstance, ProcessInstance]:
    return seed_cases(seeded, app)


def _ids(page: inbox.InboxPage) -> list[tuple[str, str]]:
    return [(r.instance.process_key, r.task.bpmn_id) for r in page.rows]


def test_tabs_counts_and_due_order(seeded: Session, cases) -> None:
    rev = user(seeded, "rev_samr")
    page = inbox.inbox_page(seeded, rev, "candidate")
    assert page.counts == {"candidate": 2, "mine": 0, "done": 0}
    # soonest due first: the objection (27 Nov) before the repair review (1 Dec)
    assert _ids(page) == [
        ("objection_handling", "decide_objection"),
        ("credit_repair", "review_records"),
    ]
    assert all(r.subject and r.subject.uscc == CHENGXI for r in page.rows)
    tasks.claim(seeded, page.rows[0].task.id, rev)
    seeded.commit()
    assert inbox.counts(seeded, rev) == {"candidate": 1, "mine": 1, "done": 0}
    assert _ids(inbox.inbox_page(seeded, rev, "mine")) == [
        ("objection_handling", "decide_objection")
    ]
    window = user(seeded, "clerk_window")
    done = inbox.inbox_page(seeded, window, "done")
    assert {b for _, b in _ids(done)} == {"accept_application", "platform_check"}
    assert all(r.urgency is None for r in done.rows)


def test_other_departments_see_only_their_own(seeded: Session, cases) -> None:
    assert inbox.counts(seeded, user(seeded, "rev_tax")) == {"candidate": 0, "mine": 0, "done": 0}
    ndrc = inbox.inbox_page(seeded, user(seeded, "rev_ndrc"), "candidate")
    assert [r.task.department_id for r in ndrc.rows] == [dept_id(seeded, "ndrc")]
    # a samr inspector holds another lane: nothing to claim
    assert inbox.counts(seeded, user(seeded, "insp_samr"))["candidate"] == 0
    with pytest.raises(NotAllowedError):
        inbox.counts(seeded, user(seeded, "ent_chengxi"))


def test_filters(seeded: Session, cases) -> None:
    rev = user(seeded, "rev_samr")

    def keys(**kw: object) -> list[str]:
        page = inbox.inbox_page(seeded, rev, "candidate", inbox.InboxFilters(**kw))
        return [r.instance.process_key for r in page.rows]

    assert keys(process_key="objection_handling") == ["objection_handling"]
    assert keys(process_key="rongque_acceptance") == []
    assert len(keys(subject=CHENGXI)) == 2
    assert len(keys(subject=CHENGXI.lower())) == 2  # normalised like any USCC input
    assert len(keys(subject="澄溪")) == 2
    assert keys(subject="虹桥") == [] and keys(subject="%") == []
    assert keys(due_before=date(2026, 11, 27)) == ["objection_handling"]
    assert keys(due_before=date(2026, 11, 26)) == []
    assert keys(overdue=True) == []
    assert keys(matter_code="no-such-matter") == []
    later = datetime(2026, 11, 28, 10, 0, tzinfo=TZ)
    page = inbox.inbox_page(seeded, rev, "candidate", inbox.InboxFilters(overdue=True), now=later)
    assert _ids(page) == [("objection_handling", "decide_objection")]
    assert page.rows[0].urgency == "overdue"
    assert page.counts["candidate"] == 1  # counts follow the filters


def test_filters_from_query_args() -> None:
    f = inbox.InboxFilters.from_args(
        {"process": "credit_repair", "q": " 澄溪 ", "overdue": "1", "due_before": "not-a-date"}
    )
    assert (f.process_key, f.subject, f.overdue, f.due_before) == (
        "credit_repair",
        "澄溪",
        True,
        None,
    )
    assert f.as_args() == {"process": "credit_repair", "q": "澄溪", "overdue": "1"}


def test_urgency_uses_working_days(seeded: Session, cases) -> None:
    rev = user(seeded, "rev_samr")
    thursday = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
    rows = inbox.inbox_page(seeded, rev, "candidate", now=thursday).rows
    assert [r.urgency for r in rows] == ["due_soon", None]  # due Fri 27 Nov; Tue 1 Dec
    # Friday 27 Nov: the next working day is Monday 30 Nov, so Tuesday 1 Dec is not yet due soon
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=TZ)
    assert [r.urgency for r in inbox.inbox_page(seeded, rev, now=friday).rows] == ["due_soon", None]
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
    assert [r.urgency for r in inbox.inbox_page(seeded, rev, now=monday).rows] == [
        "overdue",
        "due_soon",
    ]


def test_pagination(seeded: Session, cases) -> None:
    rev = user(seeded, "rev_samr")
    first = inbox.inbox_page(seeded, rev, "candidate", per_page=1)
    second = inbox.inbox_page(seeded, rev, "candidate", page=2, per_page=1)
    beyond = inbox.inbox_page(seeded, rev, "candidate", page=9, per_page=1)
    assert (first.pages, first.total, second.page, beyond.page) == (2, 2, 2, 2)
    assert first.rows[0].task.id != second.rows[0].task.id


def test_leader_department_tab_and_reassign(seeded: Session, cases) -> None:
    leader = user(seeded, "lead_samr")
    assert inbox.tabs_for(leader)[-1] == "department"
    page = inbox.inbox_page(seeded, leader, "department")
    assert page.total == 2
    task = page.rows[0].task
    assert [u.username for u in inbox.reassign_candidates(seeded, task)] == ["rev_samr"]
    inbox.reassign(seeded, task.id, user(seeded, "rev_samr").id, leader)
    seeded.commit()
    assert task.assignee_id == user(seeded, "rev_samr").id
    entry = seeded.scalars(select(AuditEvent).where(AuditEvent.action == "task.reassigned")).one()
    assert entry.actor_name == "lead_samr" and entry.object_id == str(task.instance_id)
    assert inbox.counts(seeded, user(seeded, "rev_samr"))["mine"] == 1
    with pytest.raises(NotFoundError):
        inbox.tab_query(user(seeded, "rev_samr"), "department")


def test_reassign_refusals(seeded: Session, cases) -> None:
    repair, _objection = cases
    samr_task = next(
        t for t in open_tasks(seeded, repair.id) if t.department_id == dept_id(seeded, "samr")
    )
    ndrc_task = next(
        t for t in open_tasks(seeded, repair.id) if t.department_id == dept_id(seeded, "ndrc")
    )
    leader = user(seeded, "lead_samr")
    with pytest.raises(NotAllowedError):  # not a leader
        inbox.reassign(seeded, samr_task.id, user(seeded, "rev_samr").id, user(seeded, "rev_samr"))
    with pytest.raises(InvalidInputError):  # another department's approver
        inbox.reassign(seeded, samr_task.id, user(seeded, "rev_ndrc").id, leader)
    with pytest.raises(InvalidInputError):  # same department, another lane
        inbox.reassign(seeded, samr_task.id, user(seeded, "insp_samr").id, leader)
    with pytest.raises(InvalidInputError):
        inbox.reassign(seeded, samr_task.id, "abc", leader)
    with pytest.raises(NotFoundError):  # another department's task
        inbox.reassign(seeded, ndrc_task.id, user(seeded, "rev_ndrc").id, leader)
    tasks.complete(
        seeded, samr_task.id, {"decision": "approve", "opinion": "已履行"}, user(seeded, "rev_samr")
    )
    seeded.commit()
    with pytest.raises(ConflictError):
        inbox.reassign(seeded, samr_task.id, user(seeded, "rev_samr").id, leader)
    assert seeded.get(HumanTask, samr_task.id).state == "completed"
