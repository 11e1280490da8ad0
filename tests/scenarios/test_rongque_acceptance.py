"""容缺受理与材料补齐 (`rongque_acceptance`): every path through the service layer, plus the API.

Time is pinned with the engine clock (tests.conftest.SEED_DAY, a Friday) and moved with
`timers.fire_due_timers(at)`, exactly as `flask timers fire --at` does.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import (
    AuditEvent,
    Commitment,
    CreditRecord,
    HumanTask,
    OutboxEvent,
    ProcessInstance,
    Subject,
)
from app.services import attachments, instances, tasks, timers
from app.services.definitions import deploy_bundle
from app.services.errors import InvalidInputError, NotFoundError
from tests.conftest import SEED_DAY, api_token
from tests.engine_fixtures import only_task, open_tasks, user

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
KEY = "rongque_acceptance"
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime.combine(SEED_DAY, datetime.min.time(), SH).replace(hour=10)  # Fri 10:00
MATTER = "SAMR-SPJY-001"  # 食品经营许可（新办）: safety_rules 5 WD, health_certificates 7 WD
PDF = b"%PDF-1.4\n% creditflow test\n"


@pytest.fixture()
def rq(seeded: Session) -> Iterator[Session]:
    """Only this process's files are deployed, so a peer's work in progress cannot break us."""
    files = {p.name: p.read_bytes() for p in BPMN_DIR.iterdir() if p.name.startswith(KEY)}
    deploy_bundle(seeded, files)
    seeded.commit()
    with clock.frozen_at(T0):
        yield seeded


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, datetime.min.time(), SH).replace(hour=hour)


def start(session: Session, username: str, matter: str, deferred: list[str]) -> ProcessInstance:
    instance = instances.start_instance(
        session,
        KEY,
        {"matter_code": matter, "deferred_materials": deferred},
        user(session, username),
    )
    session.commit()
    return instance


def complete(session: Session, task: HumanTask, data: dict[str, Any], username: str) -> None:
    tasks.complete(session, task.id, data, user(session, username))
    session.commit()


def commitment_of(session: Session, instance: ProcessInstance) -> Commitment:
    session.expire_all()
    found = session.scalar(select(Commitment).where(Commitment.instance_id == instance.id))
    assert found is not None
    return found


def upload(session: Session, instance: ProcessInstance, username: str = "ent_hongqiao") -> str:
    attachment = attachments.add_attachment(
        session,
        session.get(ProcessInstance, instance.id),
        user(session, username),
        kind="deferred_material",
        filename="材料.pdf",
        stream=io.BytesIO(PDF),
        storage_dir=Path(current_app.config["STORAGE_DIR"]),
        max_bytes=1024 * 1024,
    )
    session.commit()
    return str(attachment.id)


def accepted(session: Session, deferred: list[str] | None = None) -> ProcessInstance:
    """ent_hongqiao (grade A) applies, signs, and the window accepts."""
    instance = start(session, "ent_hongqiao", MATTER, deferred or ["safety_rules"])
    sign = only_task(session, instance.id, "sign_commitment")
    complete(session, sign, {"agree": True, "signer_name": "陈某某"}, "ent_hongqiao")
    window = only_task(session, instance.id, "accept_application")
    complete(session, window, {"decision": "approve", "opinion": "主要材料齐全"}, "clerk_window")
    return instance


def supplements(session: Session, instance: ProcessInstance) -> list[HumanTask]:
    return sorted(
        (t for t in open_tasks(session, instance.id) if t.bpmn_id == "supplement_material"),
        key=lambda t: t.due_at,
    )


def supply(session: Session, instance: ProcessInstance, task: HumanTask) -> HumanTask:
    complete(session, task, {"attachment": upload(session, instance)}, "ent_hongqiao")
    return only_review(session, instance)


def only_review(session: Session, instance: ProcessInstance) -> HumanTask:
    reviews = [t for t in open_tasks(session, instance.id) if t.bpmn_id == "review_supplement"]
    assert len(reviews) == 1
    return reviews[0]


def outcome(session: Session, instance: ProcessInstance) -> tuple[str, dict[str, Any]]:
    session.expire_all()
    row = session.get(ProcessInstance, instance.id)
    return row.status, dict(row.summary or {})


def events(session: Session, kind: str, name: str) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent).where(OutboxEvent.kind == kind, OutboxEvent.name == name)
        )
    )


def history(session: Session, instance: ProcessInstance) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(
                AuditEvent.object_type == "process_instance",
                AuditEvent.object_id == str(instance.id),
            )
            .order_by(AuditEvent.seq)
        )
    )


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matter", "deferred", "expected"),
    [
        (MATTER, ["premises_proof"], "「经营场所合法使用证明」是事项「食品经营许可（新办）」"),
        (MATTER, ["premises_proof", "safety_rules"], "主要材料"),
        (MATTER, ["no_such_material"], "不是事项「食品经营许可（新办）」"),
        (MATTER, [], "请至少选择一项容缺材料"),
        ("TAX-FPXE-003", ["invoice_need"], "不在容缺受理事项清单中"),
        ("NO-SUCH", ["x"], "不在事项目录中"),
    ],
)
def test_invalid_choices_are_refused_with_a_reason(
    rq: Session, matter: str, deferred: list[str], expected: str
) -> None:
    instance = start(rq, "ent_hongqiao", matter, deferred)
    status, summary = outcome(rq, instance)
    assert status == "completed" and summary["outcome"] == "refused"
    assert expected in summary["reason"]
    assert open_tasks(rq, instance.id) == []
    assert rq.scalar(select(Commitment).where(Commitment.instance_id == instance.id)) is None
    assert "rongque.outcome" in history(rq, instance)


def test_core_material_can_never_be_deferred(rq: Session) -> None:
    instance = start(rq, "ent_hongqiao", MATTER, ["safety_rules", "business_licence"])
    _, summary = outcome(rq, instance)
    assert summary["reason"].startswith(
        "「营业执照复印件」是事项「食品经营许可（新办）」（SAMR-SPJY-001）的主要材料"
    )
    assert "不能容缺" in summary["reason"] and "食品安全管理制度文本" in summary["reason"]


def test_grade_c_and_flags_are_refused_citing_the_grade_or_record(rq: Session) -> None:
    haian = start(rq, "ent_haian", MATTER, ["safety_rules"])  # grade C and a serious record
    status, summary = outcome(rq, haian)
    assert status == "completed" and summary["outcome"] == "refused"
    assert summary["reason"].startswith("不予容缺受理：存在未修复的严重失信信息（青税稽罚")
    assert open_tasks(rq, haian.id) == []
    record = rq.scalar(select(CreditRecord).where(CreditRecord.decision_no.like("青税稽罚%")))
    record.status = "repaired"  # with the record repaired, grade C alone decides
    rq.commit()
    _, summary = outcome(rq, start(rq, "ent_haian", MATTER, ["safety_rules"]))
    assert summary["outcome"] == "refused"
    assert summary["reason"].startswith("不予容缺受理：信用等级 C")
    assert "为 C 级" in summary["reason"] and "不适用容缺受理" in summary["reason"]
    hongqiao = rq.scalar(select(Subject).where(Subject.uscc == "91310105MAAY4CL126"))
    hongqiao.open_breach = True  # an open breach overrides grade A
    rq.commit()
    _, summary = outcome(rq, start(rq, "ent_hongqiao", MATTER, ["safety_rules"]))
    assert summary["outcome"] == "refused" and "违诺" in summary["reason"]


# --- the commitment and the window ----------------------------------------------------------


def test_signing_stores_the_exact_text_with_each_material_and_deadline(rq: Session) -> None:
    instance = start(rq, "ent_hongqiao", MATTER, ["safety_rules", "health_certificates"])
    sign = only_task(rq, instance.id, "sign_commitment")
    assert sign.lane == "enterprise"
    with pytest.raises(InvalidInputError):  # agree must be ticked
        tasks.complete(
            rq, sign.id, {"agree": False, "signer_name": "陈某某"}, user(rq, "ent_hongqiao")
        )
    rq.rollback()
    complete(rq, sign, {"agree": True, "signer_name": "陈某某"}, "ent_hongqiao")
    commitment = commitment_of(rq, instance)
    assert (commitment.kind, commitment.status, commitment.signer_name) == (
        "rongque",
        "open",
        "陈某某",
    )
    assert commitment.signed_by_id == user(rq, "ent_hongqiao").id
    assert "食品安全管理制度文本：5 个工作日内补齐" in commitment.text
    assert "从业人员健康证明：7 个工作日内补齐" in commitment.text
    assert "终止办理" in commitment.text and "违诺" in commitment.text
    window = only_task(rq, instance.id, "accept_application")
    assert (
        window.lane == "window" and window.department_id == user(rq, "clerk_window").department_id
    )


def test_window_reject_withdraws_the_commitment(rq: Session) -> None:
    instance = start(rq, "ent_hongqiao", MATTER, ["safety_rules"])
    complete(
        rq,
        only_task(rq, instance.id, "sign_commitment"),
        {"agree": True, "signer_name": "陈某某"},
        "ent_hongqiao",
    )
    window = only_task(rq, instance.id, "accept_application")
    with pytest.raises(InvalidInputError) as refused:  # a refusal needs its reason
        tasks.complete(rq, window.id, {"decision": "reject"}, user(rq, "clerk_window"))
    assert "opinion" in refused.value.fields
    rq.rollback()
    complete(
        rq, window, {"decision": "reject", "opinion": "主要材料不符合法定形式"}, "clerk_window"
    )
    status, summary = outcome(rq, instance)
    assert status == "completed" and summary["outcome"] == "rejected"
    assert "主要材料不符合法定形式" in summary["reason"]
    commitment = commitment_of(rq, instance)
    assert commitment.status == "withdrawn" and commitment.closed_on == SEED_DAY
    assert events(rq, "document", "rongque_notice") == []


# --- supplements ----------------------------------------------------------------------------


def test_all_accepted_on_time_fulfils_the_commitment(rq: Session) -> None:
    instance = accepted(rq, ["safety_rules", "health_certificates"])
    notice = events(rq, "document", "rongque_notice")
    assert len(notice) == 1 and notice[0].instance_id == instance.id
    assert [(m["name"], m["due_on"]) for m in notice[0].payload["materials"]] == [
        ("食品安全管理制度文本", "2026-11-27"),
        ("从业人员健康证明", "2026-12-01"),
    ]
    commitment = commitment_of(rq, instance)
    assert commitment.due_on == date(2026, 12, 1)
    first, second = supplements(rq, instance)
    assert first.due_at == at(date(2026, 11, 27), 23) + timedelta(minutes=59, seconds=59)
    assert second.due_at == at(date(2026, 12, 1), 23) + timedelta(minutes=59, seconds=59)
    for task in (first, second):
        review = supply(rq, instance, task)
        assert (
            review.lane == "reviewer" and review.department_id == user(rq, "rev_samr").department_id
        )
        with pytest.raises(NotFoundError):  # another department's reviewer does not see it
            tasks.complete(rq, review.id, {"decision": "accept"}, user(rq, "rev_tax"))
        rq.rollback()
        complete(rq, review, {"decision": "accept", "opinion": "合格"}, "rev_samr")
    status, summary = outcome(rq, instance)
    assert status == "completed" and summary["outcome"] == "completed"
    commitment = commitment_of(rq, instance)
    assert commitment.status == "fulfilled" and commitment.closed_on == SEED_DAY
    assert [m["status"] for m in commitment.details["materials"]] == ["accepted", "accepted"]
    assert history(rq, instance).count("rongque.material_accepted") == 2


def test_return_then_accept_one_material(rq: Session) -> None:
    instance = accepted(rq, ["safety_rules"])
    review = supply(rq, instance, only_task(rq, instance.id, "supplement_material"))
    with pytest.raises(InvalidInputError) as refused:  # a return needs its reason
        tasks.complete(rq, review.id, {"decision": "return"}, user(rq, "rev_samr"))
    assert "opinion" in refused.value.fields
    rq.rollback()
    complete(rq, review, {"decision": "return", "opinion": "制度文本缺少公章"}, "rev_samr")
    again = only_task(rq, instance.id, "supplement_material")
    assert again.due_at == at(date(2026, 11, 27), 23) + timedelta(minutes=59, seconds=59)
    material = commitment_of(rq, instance).details["materials"][0]
    assert (
        material["status"] == "returned" and material["returns"][0]["reason"] == "制度文本缺少公章"
    )
    review = supply(rq, instance, again)
    complete(rq, review, {"decision": "accept"}, "rev_samr")
    commitment = commitment_of(rq, instance)
    assert commitment.status == "fulfilled"
    assert commitment.details["materials"][0]["rounds"] == 2
    assert outcome(rq, instance)[1]["outcome"] == "completed"
    assert "rongque.material_returned" in history(rq, instance)


@pytest.mark.parametrize("foreign", [True, False])
def test_an_attachment_of_another_case_is_sent_back(rq: Session, foreign: bool) -> None:
    other = start(rq, "ent_hongqiao", MATTER, ["safety_rules"])
    instance = accepted(rq, ["safety_rules"])
    bad = upload(rq, other) if foreign else "999999"
    complete(
        rq, only_task(rq, instance.id, "supplement_material"), {"attachment": bad}, "ent_hongqiao"
    )
    again = only_task(rq, instance.id, "supplement_material")  # no review of a bad upload
    assert commitment_of(rq, instance).details["materials"][0]["status"] == "pending"
    assert "rongque.supplement_invalid" in history(rq, instance)
    complete(rq, again, {"attachment": upload(rq, instance)}, "ent_hongqiao")
    only_review(rq, instance)


def test_reminder_fires_one_working_day_before_without_cancelling(rq: Session) -> None:
    instance = accepted(rq, ["safety_rules"])
    task = only_task(rq, instance.id, "supplement_material")
    assert timers.fire_due_timers(at(date(2026, 11, 26), 23)) == 0  # not yet
    assert timers.fire_due_timers(at(date(2026, 11, 27), 9)) == 1
    rq.expire_all()
    assert only_task(rq, instance.id, "supplement_material").id == task.id  # still open
    reminders = events(rq, "notification", "rongque_supplement_reminder")
    assert len(reminders) == 1 and reminders[0].payload["due_on"] == "2026-11-27"
    assert reminders[0].payload["subject_uscc"] == "91310105MAAY4CL126"
    assert timers.fire_due_timers(at(date(2026, 11, 27), 12)) == 0  # once only
    with clock.frozen_at(at(date(2026, 11, 27), 15)):
        review = supply(rq, instance, task)
        complete(rq, review, {"decision": "accept"}, "rev_samr")
    assert commitment_of(rq, instance).status == "fulfilled"


def test_one_overdue_material_terminates_and_signals_the_breach(rq: Session) -> None:
    instance = accepted(rq, ["safety_rules", "health_certificates"])
    first, second = supplements(rq, instance)
    with clock.frozen_at(at(date(2026, 11, 25))):  # the second, in time
        supply(rq, instance, second)  # still in review when the first falls due
    timers.fire_due_timers(at(date(2026, 11, 27), 12))  # reminders only
    assert outcome(rq, instance)[0] == "running"
    assert timers.fire_due_timers(at(date(2026, 11, 28), 0) + timedelta(seconds=1)) == 1
    status, summary = outcome(rq, instance)
    assert status == "completed" and summary["outcome"] == "terminated_overdue"
    assert "「食品安全管理制度文本」（期限 2026-11-27）逾期未补齐" in summary["reason"]
    assert open_tasks(rq, instance.id) == []  # the pending review is withdrawn too
    commitment = commitment_of(rq, instance)
    assert commitment.status == "breached" and commitment.closed_on == date(2026, 11, 28)
    states = {m["code"]: m["status"] for m in commitment.details["materials"]}
    assert states == {"safety_rules": "overdue", "health_certificates": "cancelled"}
    [message] = events(rq, "bpmn_message", "commitment_breached")
    assert message.instance_id == instance.id and message.payload == {
        "commitment_id": commitment.id,
        "reason": summary["reason"],
        "subject_uscc": "91310105MAAY4CL126",
        "source_process": KEY,
        "source_instance_id": instance.id,
    }
    assert timers.fire_due_timers(at(date(2026, 12, 10))) == 0  # nothing left to fire


@pytest.mark.parametrize(
    ("fire_at", "second"),
    [(date(2026, 11, 28), "cancelled"), (date(2026, 12, 3), "overdue")],
)
def test_overdue_while_other_materials_are_still_owed(
    rq: Session, fire_at: date, second: str
) -> None:
    instance = accepted(rq, ["safety_rules", "health_certificates"])
    assert timers.fire_due_timers(at(fire_at)) == 1
    status, summary = outcome(rq, instance)
    assert status == "completed" and summary["outcome"] == "terminated_overdue"
    assert open_tasks(rq, instance.id) == []
    commitment = commitment_of(rq, instance)
    states = {m["code"]: m["status"] for m in commitment.details["materials"]}
    assert states == {"safety_rules": "overdue", "health_certificates": second}
    assert commitment.status == "breached"
    assert len(events(rq, "bpmn_message", "commitment_breached")) == 1


def test_a_late_return_allows_a_correction_that_is_recorded_late(rq: Session) -> None:
    instance = accepted(rq, ["safety_rules"])
    with clock.frozen_at(at(date(2026, 11, 26))):
        review = supply(rq, instance, only_task(rq, instance.id, "supplement_material"))
    with clock.frozen_at(at(date(2026, 11, 30))):  # returned after the deadline (Fri 11-27)
        complete(rq, review, {"decision": "return", "opinion": "健康证明过期"}, "rev_samr")
    again = only_task(rq, instance.id, "supplement_material")
    assert again.due_at == at(date(2026, 12, 1), 23) + timedelta(minutes=59, seconds=59)
    timers.fire_due_timers(at(date(2026, 11, 30), 11))  # the stale reminder: no message
    assert events(rq, "notification", "rongque_supplement_reminder") == []
    with clock.frozen_at(at(date(2026, 12, 1))):
        review = supply(rq, instance, only_task(rq, instance.id, "supplement_material"))
        complete(rq, review, {"decision": "accept"}, "rev_samr")
    commitment = commitment_of(rq, instance)
    assert commitment.status == "fulfilled_late"
    assert commitment.details["materials"][0]["late"] is True
    assert outcome(rq, instance)[1]["outcome"] == "completed"


def test_a_deadline_never_exceeds_the_promised_time(rq: Session) -> None:
    from app.models import MatterMaterial

    material = rq.scalar(select(MatterMaterial).where(MatterMaterial.code == "health_certificates"))
    material.deferral_days = 30  # beyond the matter's promised 10 working days
    rq.commit()
    instance = accepted(rq, ["health_certificates"])
    assert "从业人员健康证明：10 个工作日内补齐" in commitment_of(rq, instance).text
    assert commitment_of(rq, instance).due_on == date(2026, 12, 4)


# --- the REST API ----------------------------------------------------------------------------


def test_main_path_through_the_rest_api(rq: Session, client: FlaskClient) -> None:
    ent, window, reviewer = (
        api_token(client, u) for u in ("ent_hongqiao", "clerk_window", "rev_samr")
    )
    api = "/api/v1"

    def ready(headers: dict[str, str], bpmn_id: str) -> dict[str, Any]:
        listed = client.get(f"{api}/tasks?scope=candidate&state=ready", headers=headers)
        assert listed.status_code == 200, listed.text
        [task] = [t for t in listed.json["items"] if t["bpmn_id"] == bpmn_id]
        return task

    def finish(headers: dict[str, str], task: dict[str, Any], data: dict[str, Any]) -> None:
        done = client.post(
            f"{api}/tasks/{task['id']}/complete", headers=headers, json={"data": data}
        )
        assert done.status_code == 200, done.text

    started = client.post(
        f"{api}/process-instances",
        headers=ent,
        json={
            "process_key": KEY,
            "data": {"matter_code": MATTER, "deferred_materials": ["safety_rules"]},
        },
    )
    assert started.status_code == 201, started.text
    instance_id = started.json["id"]
    sign = ready(ent, "sign_commitment")
    form = client.get(f"{api}/tasks/{sign['id']}", headers=ent).json["form"]
    assert form["properties"]["agree"]["const"] is True
    finish(ent, sign, {"agree": True, "signer_name": "陈某某"})
    finish(window, ready(window, "accept_application"), {"decision": "approve"})
    uploaded = client.post(
        f"{api}/process-instances/{instance_id}/attachments",
        headers=ent,
        data={"kind": "deferred_material", "file": (io.BytesIO(PDF), "制度.pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.text
    finish(ent, ready(ent, "supplement_material"), {"attachment": str(uploaded.json["id"])})
    finish(
        reviewer, ready(reviewer, "review_supplement"), {"decision": "accept", "opinion": "合格"}
    )
    final = client.get(f"{api}/process-instances/{instance_id}", headers=ent)
    assert final.status_code == 200 and final.json["status"] == "completed"
    rq.expire_all()
    commitment = rq.scalar(select(Commitment).where(Commitment.instance_id == instance_id))
    assert commitment.status == "fulfilled"
