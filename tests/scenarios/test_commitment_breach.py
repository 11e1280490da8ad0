"""违诺处置与反馈闭环 (`commitment_breach`) through the service layer and the REST API.

Paths: started by a thrown message (outbox routing) or directly by an approver → confirmed
(breach record with periods, flags, route refused, platform + feedback events, notice) or
dismissed; duplicates and invalid reports end cleanly; the confirmation deadline escalates to
the leader; `close_loop_for_record` clears the flags; `loop_metrics` measures the loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock, runner
from app.models import (
    AuditEvent,
    Commitment,
    CreditRecord,
    Department,
    Matter,
    OutboxEvent,
    ProcessInstance,
    Subject,
)
from app.services import breaches, commitments, host, instances, messages, tasks, timers
from app.services.definitions import deploy_bundle, read_bundle_dir
from app.services.errors import NotAllowedError, NotFoundError
from tests.conftest import api_token
from tests.engine_fixtures import only_task, open_tasks, user

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # a Monday after the seed day
TODAY = NOW.date()
HONGQIAO = "91310105MAAY4CL126"  # grade A: notify-and-commit allowed
CHENGXI = "91310114MA1GT8QX92"
BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


@pytest.fixture()
def db(seeded: Session) -> Iterator[Session]:
    """Seeded data, this process deployed, the engine clock at NOW."""
    files = read_bundle_dir(BPMN_DIR)
    deploy_bundle(seeded, {k: v for k, v in files.items() if k.startswith("commitment_breach")})
    seeded.commit()
    with clock.frozen_at(NOW):
        yield seeded


def _subject(session: Session, uscc: str) -> Subject:
    return session.scalar(select(Subject).where(Subject.uscc == uscc))


def _dept(session: Session, code: str) -> Department:
    return session.scalar(select(Department).where(Department.code == code))


def _commitment(
    session: Session,
    kind: str = "notify_commit",
    uscc: str = HONGQIAO,
    matter_code: str = "SAMR-SPJY-001",
    *,
    own_department: bool = True,
    status: str | None = None,
    signed_on: date = date(2026, 11, 2),
) -> Commitment:
    matter = session.scalar(select(Matter).where(Matter.code == matter_code))
    commitment = commitments.sign(
        session,
        kind=kind,
        subject=_subject(session, uscc),
        text=f"本单位承诺：{matter.name}的申请材料真实，并在期限内补齐。",
        signer_name="王某某",
        signed_by=None,
        matter_id=matter.id,
        department_id=matter.department_id if own_department else None,
        due_on=signed_on + timedelta(days=14),
    )
    commitment.signed_at = datetime.combine(signed_on, datetime.min.time(), SH).astimezone(UTC)
    if status:
        commitments.set_status(session, commitment.id, status, TODAY)
    session.commit()
    return commitment


def _throw(session: Session, commitment: Commitment, source: str = "notify_commit_approval") -> int:
    """What another process's throw leaves in the outbox; the worker routes it."""
    session.add(
        OutboxEvent(
            kind="bpmn_message",
            name="commitment_breached",
            payload={
                "commitment_id": commitment.id,
                "reason": "事后核查发现申请人不具备承诺的经营场所条件",
                "subject_uscc": session.get(Subject, commitment.subject_id).uscc,
                "source_process": source,
                "source_instance_id": 4242,
            },
            correlations={},
        )
    )
    session.commit()
    before = set(session.scalars(select(ProcessInstance.id)))
    assert messages.deliver_outbox_messages(session) >= 1
    session.commit()
    started = [
        i
        for i in session.scalars(
            select(ProcessInstance).where(ProcessInstance.process_key == "commitment_breach")
        )
        if i.id not in before
    ]
    assert len(started) == 1
    return started[0].id


def _outcome(session: Session, instance_id: int) -> dict[str, Any]:
    instance = session.get(ProcessInstance, instance_id)
    session.refresh(instance)
    return runner.snapshot(host.load(session, instance)).data


def _decide(session: Session, instance_id: int, username: str, **data: Any) -> None:
    task = open_tasks(session, instance_id)[0]
    tasks.complete(session, task.id, {"opinion": "经核查属实", **data}, user(session, username))
    session.commit()


def _outbox(session: Session, kind: str, name: str) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.kind == kind, OutboxEvent.name == name)
            .order_by(OutboxEvent.id)
        )
    )


def _breach_records(session: Session, subject: Subject) -> list[CreditRecord]:
    return list(
        session.scalars(
            select(CreditRecord).where(
                CreditRecord.subject_id == subject.id,
                CreditRecord.record_type == "breach_of_commitment",
            )
        )
    )


# --- started by a message, confirmed ------------------------------------------------------


def test_thrown_message_starts_a_case_and_confirmation_records_the_breach(db: Session) -> None:
    commitment = _commitment(db)
    hongqiao = _subject(db, HONGQIAO)
    assert commitments.route_for_subject(db, hongqiao).notify_commit  # grade B before
    instance_id = _throw(db, commitment)
    instance = db.get(ProcessInstance, instance_id)
    assert instance.status == "running" and instance.subject_id == hongqiao.id
    review = only_task(db, instance_id, "confirm_breach")
    assert review.lane == "reviewer" and review.department_id == _dept(db, "samr").id
    assert review.due_at.astimezone(SH).date() == date(2026, 11, 30)  # 5 working days
    with pytest.raises(NotFoundError):  # another department's reviewer does not see it
        tasks.complete(db, review.id, {"decision": "confirm", "opinion": "x"}, user(db, "rev_tax"))

    _decide(db, instance_id, "rev_samr", decision="confirm")

    assert db.get(ProcessInstance, instance_id).status == "completed"
    [record] = _breach_records(db, hongqiao)
    assert record.decision_no == "违诺认定〔2026〕1号" and record.status == "published"
    assert record.severity == "serious"  # notify-commit breach: approval revoked (DMN row 2)
    assert record.department.code == "samr" and record.decided_on == TODAY
    assert record.rule_set == "NDRC-36" and record.repairable
    assert record.repairable_from == date(2027, 11, 23) and record.public_until == date(
        2029, 11, 23
    )
    assert record.extra["severity_rule"] == "CB-SEV-2026-04"
    assert record.extra["source_process"] == "notify_commit_approval"
    db.refresh(commitment)
    assert commitment.status == "breached" and commitment.closed_on == TODAY
    assert commitment.details["breach_record_id"] == record.id
    db.refresh(hongqiao)
    assert hongqiao.open_breach and not hongqiao.false_commitment
    # Loses notify-and-commit and 容缺 until repaired; the reason cites the breach record.
    route = commitments.route_for_subject(db, hongqiao)
    assert (route.notify_commit, route.rongque, route.tier) == (False, False, "D")
    assert "违诺" in route.reason
    assert record.decision_no in breaches.route_citing_breaches(db, hongqiao).reason
    # Platform push, department feedback, notice.
    pushed = _outbox(db, "platform", "breach_recorded")
    assert sorted(e.payload["target"] for e in pushed) == ["creditchina", "local_platform"]
    assert pushed[0].payload["decision_no"] == record.decision_no
    [told] = _outbox(db, "notification", "breach_feedback")
    assert told.payload["department"] == "samr" and told.payload["result"] == "recorded"
    assert (told.payload["source_process"], told.payload["source_instance_id"]) == (
        "notify_commit_approval",
        4242,
    )
    [notice] = _outbox(db, "document", "breach_notice")
    assert notice.instance_id == instance_id and notice.payload["decision_no"] == record.decision_no
    # The subject is told its rights: object now, repair from repairable_from.
    outcome = _outcome(db, instance_id)
    assert outcome["outcome"] == "recorded" and "2027-11-23" in outcome["outcome_reason"]
    objection, repair = outcome["links"]["objection"], outcome["links"]["repair"]
    assert objection["body"] == {
        "process_key": "objection_handling",
        "data": {"record_id": record.id},
    }
    assert repair["body"]["data"] == {"record_ids": [record.id]}
    assert repair["available_from"] == "2027-11-23"
    actions = set(
        db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(instance_id)))
    )
    assert {"breach.case_opened", "breach.recorded", "task.completed"} <= actions


def test_false_commitment_is_serious_and_sets_the_flag(db: Session) -> None:
    commitment = _commitment(db, "rongque", matter_code="NDRC-XMBA-002")
    instance_id = _throw(db, commitment, "rongque_acceptance")
    _decide(db, instance_id, "rev_ndrc", decision="confirm", false_commitment=True)
    [record] = _breach_records(db, _subject(db, HONGQIAO))
    assert record.severity == "serious" and record.extra["false_commitment"] is True
    assert _subject(db, HONGQIAO).false_commitment


def test_false_commitment_flagged_by_the_source_is_lifted_by_repair(db: Session) -> None:
    commitment = _commitment(db)
    hongqiao = _subject(db, HONGQIAO)
    hongqiao.false_commitment = True  # notify_commit_approval flags it before it throws
    db.commit()
    _decide(db, _throw(db, commitment), "rev_samr", decision="confirm")
    [record] = _breach_records(db, hongqiao)
    assert record.extra["false_commitment"] is True
    record.status = "repaired"
    breaches.close_loop_for_record(db, record)
    assert not hongqiao.false_commitment and not hongqiao.open_breach


# --- started directly by an approver -------------------------------------------------------


def test_approver_starts_a_rongque_case_through_the_service(db: Session) -> None:
    # 容缺 commitment without its own department: the matter's department (ndrc) decides.
    commitment = _commitment(db, "rongque", matter_code="NDRC-XMBA-002", own_department=False)
    instance = instances.start_instance(
        db,
        "commitment_breach",
        {"commitment_id": commitment.id, "reason": "容缺材料逾期未补齐"},
        user(db, "insp_samr"),
    )
    db.commit()
    assert instance.subject_id == commitment.subject_id  # the subject may follow its case
    review = only_task(db, instance.id, "confirm_breach")
    assert review.department_id == _dept(db, "ndrc").id
    with pytest.raises(NotFoundError):
        tasks.complete(db, review.id, {"decision": "confirm", "opinion": "x"}, user(db, "rev_samr"))
    _decide(db, instance.id, "rev_ndrc", decision="confirm")
    [record] = _breach_records(db, _subject(db, HONGQIAO))
    assert record.severity == "general"  # 容缺 overdue (DMN row 3, DOMAIN §3)
    assert record.department.code == "ndrc" and record.rule_set == "NDRC-36"
    assert (record.repairable_from, record.public_until) == (date(2027, 2, 23), date(2027, 11, 23))
    assert "容缺" in record.violation and "35号" in record.legal_basis
    assert _outcome(db, instance.id)["outcome"] == "recorded"


def test_main_path_through_the_rest_api(db: Session, client: FlaskClient) -> None:
    commitment = _commitment(db)
    reviewer = api_token(client, "rev_samr")
    started = client.post(
        "/api/v1/process-instances",
        json={
            "process_key": "commitment_breach",
            "data": {"commitment_id": commitment.id, "reason": "核查发现承诺不实"},
        },
        headers=reviewer,
    )
    assert started.status_code == 201, started.text
    instance_id = started.json["id"]
    assert started.json["subject_uscc"] == HONGQIAO and started.json["status"] == "running"
    inbox = client.get("/api/v1/tasks?scope=candidate&state=ready", headers=reviewer)
    [task] = [t for t in inbox.json["items"] if t["instance_id"] == instance_id]
    assert task["bpmn_id"] == "confirm_breach" and task["department"] == _dept(db, "samr").id
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=reviewer)
    assert detail.json["form"]["properties"]["decision"]["enum"] == ["confirm", "dismiss"]
    refused = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"decision": "maybe"}},
        headers=reviewer,
    )
    assert refused.status_code == 422
    done = client.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": {"decision": "confirm", "opinion": "承诺不实，予以认定"}},
        headers=reviewer,
    )
    assert done.status_code == 200, done.text
    assert done.json["instance"]["status"] == "completed" and done.json["next_tasks"] == []
    enterprise = api_token(client, "ent_hongqiao")
    records = client.get(f"/api/v1/subjects/{HONGQIAO}/records", headers=enterprise).json["items"]
    [breach] = [r for r in records if r["type"] == "breach_of_commitment"]
    assert breach["decision_no"].startswith("违诺认定〔2026〕") and breach["status"] == "published"
    assert breach["repairable_from"] == "2027-11-23"
    # The subject sees its case.
    seen = client.get(f"/api/v1/process-instances/{instance_id}", headers=enterprise)
    assert seen.status_code == 200 and seen.json["status"] == "completed"


# --- dismissed, duplicate, invalid ----------------------------------------------------------


def test_dismissal_reopens_the_commitment_and_records_nothing(db: Session) -> None:
    commitment = _commitment(db, status="breached")  # the verification had marked it
    _subject(db, HONGQIAO).false_commitment = True  # and flagged a false commitment
    db.commit()
    instance_id = _throw(db, commitment)
    _decide(db, instance_id, "rev_samr", decision="dismiss", opinion="核查记录有误，线索不成立")
    db.refresh(commitment)
    assert commitment.status == "open" and commitment.closed_on is None
    assert commitment.details["breach_case"]["state"] == "dismissed"
    assert _breach_records(db, _subject(db, HONGQIAO)) == []
    assert not _subject(db, HONGQIAO).open_breach and not _subject(db, HONGQIAO).false_commitment
    assert commitments.route_for_subject(db, _subject(db, HONGQIAO)).notify_commit
    [told] = _outbox(db, "notification", "breach_feedback")
    assert told.payload["result"] == "dismissed" and told.payload["commitment_status"] == "open"
    assert _outbox(db, "platform", "breach_recorded") == []
    assert _outbox(db, "document", "breach_notice") == []
    outcome = _outcome(db, instance_id)
    assert (
        outcome["outcome"] == "dismissed"
        and outcome["outcome_reason"] == "核查记录有误，线索不成立"
    )


def test_a_second_case_for_the_same_commitment_ends_duplicate(db: Session) -> None:
    commitment = _commitment(db)
    first = _throw(db, commitment)
    second = _throw(db, commitment, "rongque_acceptance")  # while the first is open
    assert db.get(ProcessInstance, second).status == "completed"
    assert open_tasks(db, second) == []
    outcome = _outcome(db, second)
    assert outcome["outcome"] == "duplicate" and f"#{first}" in outcome["outcome_reason"]
    _decide(db, first, "rev_samr", decision="confirm")
    third = _throw(db, commitment)  # after it was recorded
    reason = _outcome(db, third)["outcome_reason"]
    assert _outcome(db, third)["outcome"] == "duplicate" and "违诺认定〔2026〕1号" in reason
    assert len(_breach_records(db, _subject(db, HONGQIAO))) == 1
    assert len(_outbox(db, "notification", "breach_feedback")) == 1


def test_a_new_case_is_allowed_after_a_dismissal(db: Session) -> None:
    commitment = _commitment(db)
    _decide(db, _throw(db, commitment), "rev_samr", decision="dismiss")
    again = _throw(db, commitment)
    only_task(db, again, "confirm_breach")


@pytest.mark.parametrize("case", ["unknown", "other_subject", "withdrawn", "enterprise", "empty"])
def test_invalid_reports_end_cleanly_with_a_reason(db: Session, case: str) -> None:
    commitment = _commitment(db, status="withdrawn" if case == "withdrawn" else None)
    data: dict[str, Any] = {"commitment_id": commitment.id, "reason": "逾期"}
    actor, subject = user(db, "rev_samr"), None
    expected = {
        "unknown": "不存在",
        "other_subject": "不一致",
        "withdrawn": "已撤回",
        "enterprise": "不能自行发起",
        "empty": "commitment_id",
    }[case]
    if case == "unknown":
        data["commitment_id"] = commitment.id + 999
    elif case == "other_subject":
        subject = _subject(db, CHENGXI)
    elif case == "enterprise":
        actor = user(db, "ent_hongqiao")
    elif case == "empty":
        data = {}
    instance = instances.start_instance(db, "commitment_breach", data, actor, subject=subject)
    db.commit()
    assert instance.status == "completed" and open_tasks(db, instance.id) == []
    outcome = _outcome(db, instance.id)
    assert outcome["outcome"] == "invalid" and expected in outcome["outcome_reason"]
    db.refresh(commitment)
    assert "breach_case" not in commitment.details
    assert _breach_records(db, _subject(db, HONGQIAO)) == []


# --- confirmation deadline ----------------------------------------------------------------


def test_confirmation_deadline_escalates_to_the_leader(db: Session) -> None:
    commitment = _commitment(db)
    instance_id = _throw(db, commitment)
    review = only_task(db, instance_id, "confirm_breach")
    assert timers.fire_due_timers(review.due_at - timedelta(minutes=1)) == 0
    assert timers.fire_due_timers(review.due_at + timedelta(seconds=1)) == 1
    db.expire_all()
    assert review.state == "cancelled"
    leader_task = only_task(db, instance_id, "confirm_breach_escalated")
    assert leader_task.lane == "leader" and leader_task.department_id == _dept(db, "samr").id
    with pytest.raises(NotAllowedError):  # the reviewer's chance has passed
        tasks.complete(
            db, leader_task.id, {"decision": "confirm", "opinion": "x"}, user(db, "rev_samr")
        )
    with pytest.raises(NotFoundError):  # another department's leader
        tasks.complete(
            db, leader_task.id, {"decision": "confirm", "opinion": "x"}, user(db, "lead_ndrc")
        )
    _decide(db, instance_id, "lead_samr", decision="confirm")
    assert len(_breach_records(db, _subject(db, HONGQIAO))) == 1
    [told] = _outbox(db, "notification", "breach_feedback")
    assert told.payload["escalated"] is True


# --- closing the loop ---------------------------------------------------------------------


def _recorded(db: Session, **data: Any) -> CreditRecord:
    commitment = _commitment(db)
    _decide(db, _throw(db, commitment), "rev_samr", decision="confirm", **data)
    return db.scalar(
        select(CreditRecord)
        .where(CreditRecord.record_type == "breach_of_commitment")
        .order_by(CreditRecord.id.desc())
    )


def test_repair_closes_the_loop_and_restores_the_routes(db: Session) -> None:
    record = _recorded(db, false_commitment=True)
    hongqiao = _subject(db, HONGQIAO)
    assert hongqiao.open_breach and hongqiao.false_commitment
    assert breaches.close_loop_for_record(db, record) is False  # still published: nothing to do
    record.status = "repaired"  # what credit_repair's apply-results handler does
    assert breaches.close_loop_for_record(db, record, date(2027, 11, 25)) is True
    db.commit()
    assert not hongqiao.open_breach and not hongqiao.false_commitment
    assert commitments.route_for_subject(db, hongqiao).notify_commit
    commitment = db.get(Commitment, record.extra["commitment_id"])
    assert commitment.status == "repaired" and commitment.details["loop_closed_by"] == "repaired"
    [closed] = _outbox(db, "notification", "breach_loop_closed")
    assert closed.payload["result"] == "repaired" and closed.payload["department"] == "samr"
    assert breaches.close_loop_for_record(db, record) is False  # idempotent


def test_deleted_record_annuls_the_breach_but_another_open_one_keeps_the_flag(
    db: Session,
) -> None:
    first, second = _recorded(db), _recorded(db)
    assert {first.decision_no, second.decision_no} == {"违诺认定〔2026〕1号", "违诺认定〔2026〕2号"}
    first.status = "deleted"  # objection_handling outcome `delete`
    assert breaches.close_loop_for_record(db, first) is True
    hongqiao = _subject(db, HONGQIAO)
    assert hongqiao.open_breach  # the second record still excludes it
    assert db.get(Commitment, first.extra["commitment_id"]).status == "open"
    route = breaches.route_citing_breaches(db, hongqiao)
    assert not route.notify_commit and second.decision_no in route.reason
    assert first.decision_no not in route.reason
    second.status = "repaired"
    breaches.close_loop_for_record(db, second)
    assert not hongqiao.open_breach


# --- measuring the loop -------------------------------------------------------------------


def test_loop_metrics_count_made_fulfilled_breached_and_repaired(db: Session) -> None:
    on_time = _commitment(db, status="fulfilled")
    _commitment(db, "rongque", status="fulfilled_late")
    _commitment(db)  # still open
    _commitment(db, signed_on=date(2026, 9, 1))  # made before the period
    _commitment(db, "rongque", matter_code="NDRC-XMBA-002", status="fulfilled")  # ndrc
    repaired_record = _recorded(db)  # samr, made in the period, breached on TODAY
    _recorded(db)
    repaired_record.status = "repaired"
    breaches.close_loop_for_record(db, repaired_record, TODAY)
    db.commit()
    november = breaches.loop_metrics(db, date(2026, 11, 1), date(2026, 11, 30))
    assert november.as_dict() == {
        "made": 6,
        "fulfilled_on_time": 2,
        "fulfilled_late": 1,
        "breached": 2,
        "repaired": 1,
    }
    samr = breaches.loop_metrics(db, date(2026, 11, 1), date(2026, 11, 30), "samr")
    assert (samr.made, samr.fulfilled_on_time, samr.breached) == (5, 1, 2)
    assert breaches.loop_metrics(db, date(2026, 10, 1), date(2026, 10, 31)).made == 0
    assert breaches.loop_metrics(db, date(2026, 11, 1), date(2026, 11, 30), "tax").made == 0
    assert on_time.status == "fulfilled"
