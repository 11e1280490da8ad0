"""信用信息异议处理 `objection_handling`: every path through the service layer, and the API.

What a user notices: the record's status (under_objection while pending, then corrected,
deleted or back as it was), the tasks in the window's, the department's and the leader's
inboxes, the outbox (platform sync, the result notice, the applicant told) and the audit log.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import runner, specs
from app.models import (
    AuditEvent,
    CreditRecord,
    Department,
    HumanTask,
    OutboxEvent,
    ProcessInstance,
    Subject,
)
from app.services import host, instances, live_workflows, objections, tasks, timers
from app.services.calendar import get_calendar
from app.services.definitions import deploy_bundle, read_bundle_dir
from app.services.errors import InvalidInputError, NotAllowedError
from tests.conftest import api_token
from tests.engine_fixtures import only_task, open_tasks, user

KEY = "objection_handling"
BPMN = Path(__file__).resolve().parents[2] / "bpmn"
CHENGXI = "91310114MA1GT8QX92"
SHANGHAI = ZoneInfo("Asia/Shanghai")
ALL_TARGETS = {"creditchina", "gsxt", "local_platform", "credit_agencies"}


@pytest.fixture()
def oh(seeded: Session) -> Session:
    """The demo data plus this process (deployed from bpmn/ on its own)."""
    files = {n: b for n, b in read_bundle_dir(BPMN).items() if n.startswith(KEY)}
    deploy_bundle(seeded, files)
    seeded.commit()
    return seeded


def _record(session: Session, seed_key: str) -> CreditRecord:
    rows = session.scalars(select(CreditRecord)).all()
    return next(r for r in rows if (r.extra or {}).get("seed_key") == seed_key)


def _start(
    session: Session,
    record_id: Any,
    ground: str = "wrong_info",
    username: str = "ent_chengxi",
    claim: str = "处罚决定书所载违法行为与事实不符，请予更正。",
) -> ProcessInstance:
    data = {"record_id": record_id, "ground": ground, "claim": claim}
    instance = instances.start_instance(session, KEY, data, user(session, username))
    session.commit()
    return instance


def _complete(session: Session, instance: ProcessInstance, bpmn_id: str, who: str, data: dict):
    task = only_task(session, instance.id, bpmn_id)
    tasks.complete(session, task.id, data, user(session, who))
    session.commit()
    return task


def _forward(session: Session, instance: ProcessInstance) -> None:
    _complete(session, instance, "platform_check", "clerk_window", {"decision": "forward"})


def _decide(session: Session, instance: ProcessInstance, data: dict, bpmn_id="decide_objection"):
    who = "lead_samr" if bpmn_id == "leader_decide_objection" else "rev_samr"
    return _complete(session, instance, bpmn_id, who, data)


def _outbox(session: Session, instance_id: int, kind: str | None = None) -> list[OutboxEvent]:
    query = select(OutboxEvent).where(OutboxEvent.instance_id == instance_id)
    rows = session.scalars(query.order_by(OutboxEvent.id)).all()
    return [r for r in rows if kind is None or r.kind == kind]


def _pushed(session: Session, instance_id: int, name: str) -> set[str]:
    return {
        e.payload["target"] for e in _outbox(session, instance_id, "platform") if e.name == name
    }


def _result_notice(session: Session, instance_id: int) -> dict[str, Any]:
    (doc,) = [e for e in _outbox(session, instance_id, "document") if e.name == "objection_result"]
    return doc.payload


def _audit(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _refusal(session: Session, instance: ProcessInstance) -> str:
    (entry,) = [a for a in _audit(session, "objection.refused") if a.object_id == str(instance.id)]
    return entry.details["reason"]


def _finished(session: Session, instance: ProcessInstance, record: CreditRecord) -> dict:
    """Assert the common end of every decided path and return the result notice."""
    session.expire_all()
    assert session.get(ProcessInstance, instance.id).status == "completed"
    assert open_tasks(session, instance.id) == []
    assert record.status != "under_objection"  # the flag is cleared
    assert record.extra["objection"]["state"] == "closed"
    told = [e for e in _outbox(session, instance.id, "platform") if e.name == "objection_decided"]
    assert len(told) == 1 and told[0].payload["subject_uscc"] == record.subject.uscc
    notice = _result_notice(session, instance.id)
    assert notice["decision_no"] == record.decision_no and notice["status"] == record.status
    return notice


def _pending_at_provider(session: Session, seed_key: str = "samr-general"):
    record = _record(session, seed_key)
    instance = _start(session, record.id)
    _forward(session, instance)
    return record, instance


# --- acceptance and the flag --------------------------------------------------------------


def test_acceptance_flags_the_record_at_once_and_routes_to_the_window(oh: Session) -> None:
    record = _record(oh, "samr-general")
    instance = _start(oh, record.id)
    oh.expire_all()
    assert record.status == "under_objection"
    objection = record.extra["objection"]
    assert objection["previous_status"] == "published" and objection["accepted_at"]
    assert objection["objection_no"].startswith("YY-") and objection["ground"] == "wrong_info"
    check = only_task(oh, instance.id, "platform_check")
    assert check.lane == "window" and check.due_at is not None
    assert check.department_id == oh.scalar(
        select(Department.id).where(Department.code == "service_center")
    )
    assert _pushed(oh, instance.id, "record_flagged") == {"gsxt", "creditchina", "local_platform"}
    assert any(a.object_id == str(record.id) for a in _audit(oh, "objection.accepted"))


def test_another_enterprises_record_is_refused_without_revealing_it(oh: Session) -> None:
    record = _record(oh, "samr-general")  # belongs to 澄溪
    instance = _start(oh, record.id, username="ent_hongqiao")
    missing = _start(oh, 999_999, username="ent_hongqiao")
    oh.expire_all()
    assert oh.get(ProcessInstance, instance.id).status == "completed"
    assert open_tasks(oh, instance.id) == [] and record.status == "published"
    reason = _refusal(oh, instance)
    assert record.decision_no not in reason
    assert reason.replace(str(record.id), "N") == _refusal(oh, missing).replace("999999", "N")
    assert _outbox(oh, instance.id) == []


def test_a_record_already_under_objection_is_refused(oh: Session) -> None:
    record = _record(oh, "samr-general")
    first = _start(oh, record.id)
    second = _start(oh, record.id, ground="expired")
    oh.expire_all()
    assert oh.get(ProcessInstance, second.id).status == "completed"
    reason = _refusal(oh, second)
    assert record.decision_no in reason and "异议处理中" in reason
    assert record.extra["objection"]["instance_id"] == first.id  # the first one is untouched
    only_task(oh, first.id, "platform_check")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"ground": "dislike", "claim": "不服"}, "异议理由"),
        ({"ground": "wrong_info", "claim": ""}, "异议内容"),
        ({"ground": "repair_result", "claim": "修复结果有误"}, "没有信用修复结果"),
    ],
)
def test_invalid_objections_end_with_a_reason(oh: Session, data: dict, fragment: str) -> None:
    record = _record(oh, "ndrc-general")
    instance = _start(oh, record.id, **data)
    oh.expire_all()
    assert oh.get(ProcessInstance, instance.id).status == "completed"
    assert fragment in _refusal(oh, instance) and record.status == "published"


def test_started_without_a_subject_ends_cleanly(oh: Session) -> None:
    instance = instances.start_instance(oh, KEY, {}, user(oh, "rev_samr"))
    oh.commit()
    assert instance.status == "completed" and "信用主体" in _refusal(oh, instance)


def test_state_survives_save_and_load_while_pending(oh: Session) -> None:
    _, instance = _pending_at_provider(oh)
    specs.clear()
    live_workflows.clear()  # a new worker: nothing cached
    workflow = host.load(oh, oh.get(ProcessInstance, instance.id))
    assert runner.dumps(workflow) == oh.get(ProcessInstance, instance.id).state
    _decide(oh, instance, {"decision": "uphold", "opinion": "记录无误。"})
    assert oh.get(ProcessInstance, instance.id).status == "completed"


# --- the platform's check ---------------------------------------------------------------


def test_window_rejects_an_out_of_scope_objection_with_written_reasons(oh: Session) -> None:
    record = _record(oh, "ndrc-general")
    instance = _start(oh, record.id, claim="对罚款数额不服，要求减少罚款。")
    check = only_task(oh, instance.id, "platform_check")
    with pytest.raises(InvalidInputError) as info:  # a rejection needs its reasons
        tasks.complete(oh, check.id, {"decision": "reject"}, user(oh, "clerk_window"))
    assert "opinion" in info.value.fields
    oh.rollback()
    reasons = "对处罚决定本身不服属于行政复议或诉讼事项，不属于信用信息异议受理范围。"
    _complete(
        oh, instance, "platform_check", "clerk_window", {"decision": "reject", "opinion": reasons}
    )
    notice = _finished(oh, instance, record)
    assert record.status == "published"
    assert notice["outcome"] == "rejected" and notice["refusal"] is True
    assert notice["reasons"] == reasons
    assert _pushed(oh, instance.id, "record_flag_cleared") == {"creditchina", "local_platform"}
    assert not oh.scalars(select(HumanTask).where(HumanTask.bpmn_id == "decide_objection")).all()


def test_window_deadline_forwards_the_objection_automatically(oh: Session) -> None:
    record = _record(oh, "tax-general")
    instance = _start(oh, record.id)
    due = oh.get(ProcessInstance, instance.id).next_timer_due
    assert timers.fire_due_timers(due - timedelta(seconds=1)) == 0
    assert timers.fire_due_timers(due + timedelta(seconds=1)) == 1
    oh.expire_all()
    decide = only_task(oh, instance.id, "decide_objection")
    assert decide.department_id == record.department_id  # 区税务局, who made the record
    assert record.extra["objection"]["forwarded_automatically"] is True


# --- the provider's decision: the four outcomes ---------------------------------------------


def test_correct_updates_the_record_and_clears_the_flag(oh: Session) -> None:
    record, instance = _pending_at_provider(oh)
    decide = only_task(oh, instance.id, "decide_objection")
    assert decide.lane == "reviewer" and decide.department_id == record.department_id
    with pytest.raises(InvalidInputError):  # `correct` needs the corrected fields
        tasks.complete(
            oh, decide.id, {"decision": "correct", "opinion": "核实有误"}, user(oh, "rev_samr")
        )
    oh.rollback()
    corrected = {
        "violation": "经营标签不符合规定的预包装食品（更正：仅一批次）",
        "severity": "minor",
    }
    _decide(
        oh, instance, {"decision": "correct", "opinion": "经核实予以更正。", "corrected": corrected}
    )
    notice = _finished(oh, instance, record)
    assert record.status == "corrected" and record.severity == "minor"
    assert record.violation == corrected["violation"]
    assert notice["outcome"] == "correct" and notice["changes"]["severity"] == ["general", "minor"]
    assert _pushed(oh, instance.id, "record_corrected") == ALL_TARGETS


def test_delete_stops_publication_and_syncs_like_a_repair(oh: Session) -> None:
    record, instance = _pending_at_provider(oh)
    _decide(oh, instance, {"decision": "delete", "opinion": "该处罚已被依法撤销，予以删除。"})
    notice = _finished(oh, instance, record)
    assert record.status == "deleted" and notice["outcome"] == "delete"
    deleted = [e for e in _outbox(oh, instance.id, "platform") if e.name == "record_deleted"]
    assert {e.payload["target"] for e in deleted} == ALL_TARGETS
    assert all(e.payload["record_id"] == record.id for e in deleted)


def test_uphold_removes_the_flag_and_gives_written_reasons(oh: Session) -> None:
    record, instance = _pending_at_provider(oh)
    reasons = "经核实，该记录与处罚决定书一致，予以维持。"
    _decide(oh, instance, {"decision": "uphold", "opinion": reasons, "corrected": {}})
    notice = _finished(oh, instance, record)
    assert record.status == "published"
    assert notice["refusal"] is True and notice["reasons"] == reasons
    assert _pushed(oh, instance.id, "record_flag_cleared")


def test_unconfirmable_records_objection_and_check_result_on_the_record(oh: Session) -> None:
    record, instance = _pending_at_provider(oh)
    check = "原始案卷已移交档案馆，暂无法确认异议所称事实。"
    _decide(oh, instance, {"decision": "unconfirmable", "opinion": check})
    notice = _finished(oh, instance, record)
    assert record.status == "published" and notice["outcome"] == "unconfirmable"
    annotation = record.extra["objection_annotation"]
    assert annotation["claim"] == record.extra["objection"]["claim"]
    assert annotation["check_result"] == check and annotation["note"]
    assert annotation["platform_check"]["decision"] == "forward"


# --- extension and escalation -------------------------------------------------------------


def test_one_extension_with_a_reason_then_a_decision(oh: Session) -> None:
    record, instance = _pending_at_provider(oh)
    first_due = only_task(oh, instance.id, "decide_objection").due_at
    reason = "需调取原始执法记录核对，申请延期。"
    _decide(oh, instance, {"decision": "extend", "opinion": reason})
    oh.expire_all()
    extended = only_task(oh, instance.id, "decide_objection_extended")
    assert extended.form_file == "objection_handling__decide_final.json"
    assert extended.due_at > first_due and extended.department_id == record.department_id
    assert record.status == "under_objection"
    assert record.extra["objection"]["extension"]["reason"] == reason
    _decide(
        oh, instance, {"decision": "uphold", "opinion": "记录无误。"}, "decide_objection_extended"
    )
    notice = _finished(oh, instance, record)
    assert notice["extension"]["reason"] == reason and record.status == "published"


def test_a_second_extension_is_not_possible(oh: Session) -> None:
    _, instance = _pending_at_provider(oh)
    _decide(oh, instance, {"decision": "extend", "opinion": "材料较多，申请延期。"})
    extended = only_task(oh, instance.id, "decide_objection_extended")
    form = oh.get(ProcessInstance, instance.id).version.forms[extended.form_file]
    assert "extend" not in form["properties"]["decision"]["enum"]
    with pytest.raises(InvalidInputError) as info:
        tasks.complete(
            oh, extended.id, {"decision": "extend", "opinion": "再次延期"}, user(oh, "rev_samr")
        )
    assert "decision" in info.value.fields


def test_provider_deadline_passes_and_the_leader_decides(oh: Session) -> None:
    record, instance = _pending_at_provider(oh)
    decide = only_task(oh, instance.id, "decide_objection")
    assert timers.fire_due_timers(decide.due_at + timedelta(seconds=1)) == 1
    oh.expire_all()
    assert decide.state == "cancelled"  # gone from the reviewer's inbox
    leader_task = only_task(oh, instance.id, "leader_decide_objection")
    assert leader_task.lane == "leader" and leader_task.department_id == record.department_id
    assert record.extra["objection"]["escalated_at"]
    assert any(a.object_id == str(record.id) for a in _audit(oh, "objection.escalated"))
    with pytest.raises(NotAllowedError):
        tasks.complete(
            oh, leader_task.id, {"decision": "delete", "opinion": "删除"}, user(oh, "rev_samr")
        )
    oh.rollback()
    _decide(
        oh,
        instance,
        {"decision": "delete", "opinion": "逾期核实，经领导督办予以删除。"},
        "leader_decide_objection",
    )
    notice = _finished(oh, instance, record)
    assert record.status == "deleted" and notice["escalated_at"]


def test_extended_deadline_passes_and_the_leader_decides(oh: Session) -> None:
    _, instance = _pending_at_provider(oh)
    _decide(oh, instance, {"decision": "extend", "opinion": "需现场核查，申请延期。"})
    extended = only_task(oh, instance.id, "decide_objection_extended")
    assert timers.fire_due_timers(extended.due_at + timedelta(seconds=1)) == 1
    oh.expire_all()
    only_task(oh, instance.id, "leader_decide_objection")


# --- other kinds of records -------------------------------------------------------------


def _extra_record(session: Session, record_type: str, status: str, department: str) -> CreditRecord:
    subject = session.scalar(select(Subject).where(Subject.uscc == CHENGXI))
    dept = session.scalar(select(Department).where(Department.code == department))
    record = CreditRecord(
        subject=subject,
        record_type=record_type,
        severity="general",
        decision_no=f"嘉测试〔2026〕{record_type[:6]}号",
        violation="测试记录（示例）",
        department=dept,
        authority=dept.authority_name,
        decided_on=date(2026, 6, 1),
        published_on=date(2026, 6, 8),
        platforms=["creditchina"],
        status=status,
        extra={},
    )
    session.add(record)
    session.commit()
    return record


def test_objection_to_a_repair_result_works_the_same_way(oh: Session) -> None:
    record = _extra_record(oh, "administrative_penalty", "repaired", "ndrc")
    instance = _start(oh, record.id, ground="repair_result", claim="修复决定遗漏了信用中国的同步。")
    oh.expire_all()
    assert record.status == "under_objection"
    _forward(oh, instance)
    _complete(
        oh,
        instance,
        "decide_objection",
        "rev_ndrc",
        {"decision": "uphold", "opinion": "修复结果无误。"},
    )
    notice = _finished(oh, instance, record)
    assert record.status == "repaired"  # back to what it was
    assert notice["ground"] == "repair_result"


def test_objection_to_a_breach_record_can_delete_it(oh: Session) -> None:
    record = _extra_record(oh, "breach_of_commitment", "published", "samr")
    record.subject.open_breach = True
    oh.commit()
    instance = _start(oh, record.id, ground="not_listable", claim="已按期补齐材料，不构成违诺。")
    _forward(oh, instance)
    _decide(oh, instance, {"decision": "delete", "opinion": "经核实不构成违诺，予以删除。"})
    _finished(oh, instance, record)
    assert record.status == "deleted" and record.subject.open_breach is False
    assert _pushed(oh, instance.id, "record_deleted") == ALL_TARGETS


# --- time limits come from the DMN table --------------------------------------------------


def test_time_limits_follow_the_locality(oh: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    calendar = get_calendar(oh)
    today = datetime.now(SHANGHAI).date()  # the objections are forwarded today

    def end_of(days: int) -> datetime:
        return datetime.combine(calendar.add_working_days(today, days), time(23, 59, 59), SHANGHAI)

    _, instance = _pending_at_provider(oh)
    assert only_task(oh, instance.id, "decide_objection").due_at == end_of(5)  # Shanghai: 5 WD
    monkeypatch.setattr(objections, "LOCALITY", "shenzhen")
    record, other = _pending_at_provider(oh, "tax-general")
    assert only_task(oh, other.id, "decide_objection").due_at == end_of(2)  # Shenzhen: 2 WD
    oh.expire_all()
    assert record.extra["objection"]["acceptance"]["locality"] == "shenzhen"
    _complete(oh, other, "decide_objection", "rev_tax", {"decision": "uphold", "opinion": "无误。"})
    assert _result_notice(oh, other.id)["limits"]["rule_set"] == "SZ-2023-49"


# --- the main path through the REST API ---------------------------------------------------


def test_main_path_through_the_rest_api(oh: Session, client: FlaskClient) -> None:
    ent, window, reviewer = (
        api_token(client, u) for u in ("ent_chengxi", "clerk_window", "rev_samr")
    )
    record = _record(oh, "samr-general")

    def status() -> str:
        response = client.get(f"/api/v1/subjects/{CHENGXI}/records", headers=ent)
        assert response.status_code == 200, response.text
        (row,) = [r for r in response.json["items"] if r["id"] == record.id]
        return row["status"]

    data = {"record_id": record.id, "ground": "wrong_info", "claim": "违法行为表述有误。"}
    started = client.post(
        "/api/v1/process-instances", json={"process_key": KEY, "data": data}, headers=ent
    )
    assert started.status_code == 201, started.text
    instance_id = started.json["id"]
    assert status() == "under_objection"

    def task(headers: dict, bpmn_id: str) -> dict:
        listed = client.get("/api/v1/tasks?scope=candidate", headers=headers)
        assert listed.status_code == 200, listed.text
        (found,) = [t for t in listed.json["items"] if t["instance_id"] == instance_id]
        assert found["bpmn_id"] == bpmn_id and found["due_at"]
        return found

    check = task(window, "platform_check")
    done = client.post(
        f"/api/v1/tasks/{check['id']}/complete",
        json={"data": {"decision": "forward"}},
        headers=window,
    )
    assert done.status_code == 200, done.text
    assert status() == "under_objection"
    decide = task(reviewer, "decide_objection")
    bad = client.post(
        f"/api/v1/tasks/{decide['id']}/complete",
        json={"data": {"decision": "maybe"}},
        headers=reviewer,
    )
    assert bad.status_code == 422
    done = client.post(
        f"/api/v1/tasks/{decide['id']}/complete",
        json={"data": {"decision": "uphold", "opinion": "经核实，记录无误，予以维持。"}},
        headers=reviewer,
    )
    assert done.status_code == 200, done.text
    assert done.json["instance"]["status"] == "completed"
    assert status() == "published"
