"""告知承诺制审批 (`notify_commit_approval`): every path through the service layer, plus the
main path through the REST API (CONTRACT §5).

Only this process's files are deployed from bpmn/, so the tests do not depend on the state of
the other processes. Sampling is made deterministic by patching the draw where needed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock, runner
from app.models import (
    Commitment,
    CreditRecord,
    Department,
    OutboxEvent,
    ProcessInstance,
    Subject,
    User,
)
from app.services import host, instances, messages, notify_commit, tasks, timers
from app.services.calendar import add_working_days
from app.services.definitions import deploy_bundle, read_bundle_dir
from app.services.errors import InvalidInputError, NotAllowedError, NotFoundError
from tests.conftest import api_token
from tests.engine_fixtures import only_task, open_tasks, user

KEY = "notify_commit_approval"
FOOD = "SAMR-SPJY-001"  # samr, notify-and-commit, 40 WD verification
HONGQIAO, HAIAN, PUDONG = "91310105MAAY4CL126", "91370200MADD272H4F", "91310115MAC4R7LN0W"
BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


@pytest.fixture()
def nca(seeded: Session) -> Session:
    files = {k: v for k, v in read_bundle_dir(BPMN_DIR).items() if k.startswith(KEY)}
    deploy_bundle(seeded, files)
    seeded.commit()
    return seeded


def _subject(session: Session, uscc: str) -> Subject:
    return session.scalars(select(Subject).where(Subject.uscc == uscc)).one()


def _haian_grade_c(session: Session) -> None:
    """ent_haian is grade C; its serious tax record is repaired so the grade decides the route."""
    subject = _subject(session, HAIAN)
    for record in session.scalars(
        select(CreditRecord).where(CreditRecord.subject_id == subject.id)
    ):
        record.status = "repaired"
    session.commit()


def _start(session: Session, username: str, matter: str | None = FOOD) -> ProcessInstance:
    data = {} if matter is None else {"matter_code": matter}
    instance = instances.start_instance(session, KEY, data, user(session, username))
    session.commit()
    return instance


def _data(session: Session, instance: ProcessInstance, task_id: str) -> dict[str, Any]:
    return runner.task_data(host.load(session, instance), task_id)


def _complete(session: Session, bpmn_id: str, instance: ProcessInstance, username: str, **form):
    task = only_task(session, instance.id, bpmn_id)
    tasks.complete(session, task.id, form, user(session, username))
    session.commit()
    return task


def _sign(session: Session, instance: ProcessInstance, username: str, signer: str = "陈某某"):
    return _complete(session, "sign_commitment", instance, username, agree=True, signer_name=signer)


def _approved(session: Session, username: str) -> ProcessInstance:
    instance = _start(session, username)
    _sign(session, instance, username)
    _complete(session, "decide_application", instance, "clerk_window", decision="approve")
    return instance


def _refresh(session: Session, instance: ProcessInstance) -> ProcessInstance:
    session.expire_all()
    return session.get(ProcessInstance, instance.id)


def _commitments(session: Session, instance: ProcessInstance) -> list[Commitment]:
    return notify_commit.instance_commitments(session, instance.id)


def _outbox(session: Session, instance: ProcessInstance, kind: str) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.instance_id == instance.id, OutboxEvent.kind == kind)
            .where(OutboxEvent.name != "commitment")  # the signed commitment's own document
            .order_by(OutboxEvent.id)
        )
    )


def _history(session: Session, instance: ProcessInstance, actor: User) -> list[dict[str, Any]]:
    return instances.instance_dict(session, instance, actor)["history"]


def _ended(session: Session, instance: ProcessInstance, outcome: str) -> ProcessInstance:
    instance = _refresh(session, instance)
    assert instance.status == "completed"
    assert open_tasks(session, instance.id) == []
    assert instance.summary["outcome"] == outcome, instance.summary
    return instance


def _dept_id(session: Session, code: str) -> int:
    return session.scalars(select(Department.id).where(Department.code == code)).one()


# --- eligibility and the matter check --------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "cited"),
    [
        ("grade_d", "D 级"),
        ("pudong_serious_list", "浦发改信"),
        ("haian_serious_record", "青税稽罚"),
        ("open_breach", "违诺"),
        ("false_commitment", "虚假承诺"),
    ],
)
def test_ineligible_subjects_go_to_the_ordinary_route(nca: Session, case: str, cited: str) -> None:
    username = {"haian_serious_record": "ent_haian"}.get(case, "ent_hongqiao")
    hongqiao = _subject(nca, HONGQIAO)
    if case == "grade_d":
        hongqiao.grade = "D"
    elif case in ("open_breach", "false_commitment"):
        setattr(hongqiao, case, True)
    nca.commit()
    if case == "pudong_serious_list":  # grade D and listed, no account: an approver starts it
        instance = instances.start_instance(
            nca,
            KEY,
            {"matter_code": FOOD},
            user(nca, "clerk_window"),
            subject=_subject(nca, PUDONG),
        )
        nca.commit()
    else:
        instance = _start(nca, username)
    instance = _ended(nca, instance, "ordinary_route")
    reason = instance.summary["outcome_reason"]
    assert cited in reason and "食品经营许可" in reason, reason
    assert _commitments(nca, instance) == []
    viewer = user(nca, "clerk_window" if case == "pudong_serious_list" else username)
    outcome = [h for h in _history(nca, instance, viewer) if h["action"] == "notify_commit.outcome"]
    assert outcome[0]["details"] == {"outcome": "ordinary_route", "reason": reason}


@pytest.mark.parametrize(
    ("matter", "expected"),
    [
        ("SAMR-TZSB-004", "不在告知承诺事项清单内"),
        ("NO-SUCH-001", "没有编码为 NO-SUCH-001 的事项"),
        (None, "缺少 matter_code"),
        ("inactive", "已停止办理"),
    ],
)
def test_matter_must_exist_be_active_and_allow_notify_commit(
    nca: Session, matter: str | None, expected: str
) -> None:
    if matter == "inactive":
        from app.models import Matter

        nca.scalars(select(Matter).where(Matter.code == "NDRC-XMBA-002")).one().active = False
        nca.commit()
        matter = "NDRC-XMBA-002"
    instance = _ended(nca, _start(nca, "ent_hongqiao", matter), "invalid")
    assert expected in instance.summary["outcome_reason"]


def test_started_without_a_subject_ends_cleanly(nca: Session) -> None:
    instance = _start(nca, "rev_samr")  # an approver without a subject (as the round-trip test)
    instance = _ended(nca, instance, "invalid")
    assert "企业" in instance.summary["outcome_reason"]


# --- signing, withdrawal, return, reject -----------------------------------------------------


def test_signing_shows_the_notice_and_stores_the_exact_text(nca: Session) -> None:
    instance = _start(nca, "ent_hongqiao")
    sign_task = only_task(nca, instance.id, "sign_commitment")
    assert sign_task.lane == "enterprise" and sign_task.due_at is None
    shown = _data(nca, instance, sign_task.id)
    assert shown["notice_text"].startswith("一、证明义务")
    assert "承诺人：上海虹桥示例商贸有限公司" in shown["commitment_text"]
    assert notify_commit.COMMITMENT_WORDING in shown["commitment_text"]
    with pytest.raises(InvalidInputError):  # agree must be ticked
        tasks.complete(nca, sign_task.id, {"signer_name": "陈某某"}, user(nca, "ent_hongqiao"))
    nca.rollback()
    with pytest.raises(InvalidInputError):  # a blank name is no signature
        tasks.complete(
            nca, sign_task.id, {"agree": True, "signer_name": "  "}, user(nca, "ent_hongqiao")
        )
    nca.rollback()
    with pytest.raises((NotAllowedError, NotFoundError)):  # the window cannot sign for it
        tasks.complete(
            nca, sign_task.id, {"agree": True, "signer_name": "x"}, user(nca, "clerk_window")
        )
    nca.rollback()
    _sign(nca, instance, "ent_hongqiao")
    (commitment,) = _commitments(nca, instance)
    assert commitment.text == shown["commitment_text"]
    assert commitment.signer_name == "陈某某" and commitment.status == "open"
    assert commitment.signed_by_id == user(nca, "ent_hongqiao").id
    assert commitment.kind == "notify_commit" and commitment.department_id == _dept_id(nca, "samr")
    assert commitment.due_on is not None and commitment.signed_at is not None
    window = only_task(nca, instance.id, "decide_application")
    assert window.lane == "window" and window.department_id == _dept_id(nca, "service_center")
    on_the_spot = add_working_days(nca, notify_commit.local_today(), 1)  # 1 WD
    assert window.due_at.astimezone(ZoneInfo("Asia/Shanghai")).date() == on_the_spot


def test_withdraw_before_signing_ends_without_a_commitment(nca: Session) -> None:
    instance = _start(nca, "ent_hongqiao")
    _complete(
        nca,
        "sign_commitment",
        instance,
        "ent_hongqiao",
        sign_action="withdraw",
        withdraw_reason="改走一般程序",
    )
    instance = _ended(nca, instance, "withdrawn")
    assert "一般程序" in instance.summary["outcome_reason"]
    assert _commitments(nca, instance) == []


def test_return_and_resubmit_then_withdraw(nca: Session) -> None:
    instance = _start(nca, "ent_hongqiao")
    _sign(nca, instance, "ent_hongqiao")
    _complete(
        nca,
        "decide_application",
        instance,
        "clerk_window",
        decision="return",
        opinion="请核对经营场所地址",
    )
    resign = only_task(nca, instance.id, "sign_commitment")
    assert _data(nca, instance, resign.id)["return_opinion"] == "请核对经营场所地址"
    _sign(nca, instance, "ent_hongqiao", signer="陈某某（法定代表人）")
    first, second = _commitments(nca, instance)
    assert first.status == "withdrawn" and second.status == "open"  # the new one supersedes
    assert (first.details["round"], second.details["round"]) == (1, 2)
    assert second.signer_name == "陈某某（法定代表人）"
    _complete(
        nca, "decide_application", instance, "clerk_window", decision="return", opinion="再核对"
    )
    _complete(nca, "sign_commitment", instance, "ent_hongqiao", sign_action="withdraw")
    _ended(nca, instance, "withdrawn")
    assert [c.status for c in _commitments(nca, instance)] == ["withdrawn", "withdrawn"]


def test_return_and_resubmit_then_approve(nca: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify_commit, "sampling_draw", lambda instance_id: 0.99)
    instance = _start(nca, "ent_hongqiao")
    _sign(nca, instance, "ent_hongqiao")
    _complete(
        nca, "decide_application", instance, "clerk_window", decision="return", opinion="补正"
    )
    _sign(nca, instance, "ent_hongqiao")
    _complete(nca, "decide_application", instance, "clerk_window", decision="approve")
    instance = _ended(nca, instance, "verification_waived")
    assert instance.summary["decision"]["opinion"] == ""  # the return opinion is not carried on
    assert [c.status for c in _commitments(nca, instance)] == ["withdrawn", "fulfilled"]


def test_reject_withdraws_the_commitment(nca: Session) -> None:
    instance = _start(nca, "ent_hongqiao")
    _sign(nca, instance, "ent_hongqiao")
    decide = only_task(nca, instance.id, "decide_application")
    with pytest.raises(InvalidInputError):  # a refusal needs its reason
        tasks.complete(nca, decide.id, {"decision": "reject"}, user(nca, "clerk_window"))
    nca.rollback()
    _complete(
        nca,
        "decide_application",
        instance,
        "clerk_window",
        decision="reject",
        opinion="经营场所不符合要求",
    )
    instance = _ended(nca, instance, "rejected")
    assert instance.summary["outcome_reason"] == "不予许可：经营场所不符合要求"
    (commitment,) = _commitments(nca, instance)
    assert commitment.status == "withdrawn" and commitment.details["decision"] == "reject"
    assert _outbox(nca, instance, "document") == [] and _outbox(nca, instance, "platform") == []


def test_credit_is_checked_again_at_the_decision(nca: Session) -> None:
    instance = _start(nca, "ent_hongqiao")
    _subject(nca, HONGQIAO).open_breach = True  # a breach recorded while the form was open
    nca.commit()
    _sign(nca, instance, "ent_hongqiao")
    instance = _ended(nca, instance, "ordinary_route")
    assert (
        "决定前复核" in instance.summary["outcome_reason"]
        and "违诺" in (instance.summary["outcome_reason"])
    )
    assert [c.status for c in _commitments(nca, instance)] == ["withdrawn"]


def test_window_deadline_escalates_to_the_department_leader(
    nca: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify_commit, "sampling_draw", lambda instance_id: 0.99)
    instance = _start(nca, "ent_hongqiao")
    _sign(nca, instance, "ent_hongqiao")
    window = only_task(nca, instance.id, "decide_application")
    assert timers.fire_due_timers(window.due_at + timedelta(seconds=1)) == 1
    nca.expire_all()
    assert window.state == "cancelled"
    leader_task = only_task(nca, instance.id, "escalate_decision")
    assert leader_task.lane == "leader" and leader_task.department_id == _dept_id(nca, "samr")
    assert [o.name for o in _outbox(nca, instance, "notification")] == ["decision_escalated"]
    _complete(nca, "escalate_decision", instance, "lead_samr", decision="approve", opinion="同意")
    instance = _ended(nca, instance, "verification_waived")
    assert instance.summary["decision"]["by"] == "leader"


# --- approval and verification ---------------------------------------------------------------


def test_approve_not_sampled_fulfils_without_verification(
    nca: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify_commit, "sampling_draw", lambda instance_id: 0.5)  # A: rate 0.2
    instance = _approved(nca, "ent_hongqiao")
    instance = _ended(nca, instance, "verification_waived")
    (commitment,) = _commitments(nca, instance)
    assert commitment.status == "fulfilled" and commitment.details["closing_note"] == "免予核查"
    sampling = commitment.details["sampling"]
    assert sampling["rate"] == 0.2 and sampling["rule"] == "NC-SAMPLING-2026-01"
    assert sampling["sampled"] is False
    (document,) = _outbox(nca, instance, "document")
    assert document.name == "notify_commit_decision"
    assert document.payload["commitment_id"] == commitment.id
    pushes = _outbox(nca, instance, "platform")
    assert {p.name for p in pushes} == {"commitment_recorded"}
    assert {p.payload["target"] for p in pushes} == {"creditchina", "local_platform"}
    assert pushes[0].payload["text_sha256"] == commitment.text_sha256
    verification_due = datetime.fromisoformat(document.payload["verification_due"])
    assert commitment.due_on == verification_due.date()  # due_on = the verification deadline


def test_sampling_is_deterministic_and_versioned_by_date(
    nca: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws = [notify_commit.sampling_draw(i) for i in range(1, 2001)]
    assert draws == [notify_commit.sampling_draw(i) for i in range(1, 2001)]
    assert all(0 <= d < 1 for d in draws)
    assert 0.17 < sum(notify_commit.is_sampled(0.2, d) for d in draws) / len(draws) < 0.23
    assert notify_commit.is_sampled(1.0, 0.999999) and not notify_commit.is_sampled(0.0, 0.0)
    # Before the first version of the rates (2026-01-01) the catch-all row verifies everything.
    monkeypatch.setattr(notify_commit, "sampling_draw", lambda instance_id: 0.5)
    instance = _start(nca, "ent_hongqiao")
    _sign(nca, instance, "ent_hongqiao")
    with clock.frozen_at(datetime(2025, 6, 2, 10, 0, tzinfo=UTC)):
        _complete(nca, "decide_application", instance, "clerk_window", decision="approve")
    instance = _refresh(nca, instance)
    assert instance.summary["sampling"]["rule"] == "NC-SAMPLING-DEFAULT"
    assert instance.summary["sampling"]["rate"] == 1.0
    only_task(nca, instance.id, "verify_commitment")


def test_grade_c_is_always_sampled_and_fulfilled(nca: Session) -> None:
    _haian_grade_c(nca)
    instance = _approved(nca, "ent_haian")
    verify = only_task(nca, instance.id, "verify_commitment")
    assert verify.lane == "inspector" and verify.department_id == _dept_id(nca, "samr")
    (commitment,) = _commitments(nca, instance)
    assert (
        commitment.details["sampling"]["rate"] == 1.0 and commitment.details["sampling"]["sampled"]
    )
    assert verify.due_at.astimezone(ZoneInfo("Asia/Shanghai")).date() == commitment.due_on
    # The reminder fires two working days before the deadline; the task stays open.
    reminder_due = _refresh(nca, instance).next_timer_due
    assert reminder_due < verify.due_at
    assert timers.fire_due_timers(reminder_due + timedelta(seconds=1)) == 1
    nca.expire_all()
    (reminder,) = _outbox(nca, instance, "notification")
    assert reminder.name == "verification_reminder" and reminder.payload["department"] == "samr"
    assert only_task(nca, instance.id, "verify_commitment").id == verify.id
    with pytest.raises(NotAllowedError):  # only inspectors verify
        tasks.complete(
            nca, verify.id, {"decision": "fulfilled", "method": "written"}, user(nca, "rev_samr")
        )
    nca.rollback()
    _complete(
        nca, "verify_commitment", instance, "insp_samr", decision="fulfilled", method="on_site"
    )
    instance = _ended(nca, instance, "fulfilled")
    assert _commitments(nca, instance)[0].status == "fulfilled"
    assert _subject(nca, HAIAN).false_commitment is False


def test_breach_revokes_flags_the_subject_and_starts_commitment_breach(nca: Session) -> None:
    _haian_grade_c(nca)
    instance = _approved(nca, "ent_haian")
    verify = only_task(nca, instance.id, "verify_commitment")
    with pytest.raises(InvalidInputError):  # a breach needs the finding
        tasks.complete(
            nca, verify.id, {"decision": "breached", "method": "on_site"}, user(nca, "insp_samr")
        )
    nca.rollback()
    _complete(
        nca,
        "verify_commitment",
        instance,
        "insp_samr",
        decision="breached",
        method="on_site",
        opinion="实地调查发现经营场所与承诺不符",
    )
    instance = _ended(nca, instance, "breached")
    (commitment,) = _commitments(nca, instance)
    assert commitment.status == "breached" and commitment.closed_on is not None
    revocation = commitment.details["revocation"]
    assert "实地调查" in revocation["reason"] and "经营场所与承诺不符" in revocation["reason"]
    assert instance.summary["approval_revoked"] is True
    assert instance.summary["revocation"] == revocation
    assert _subject(nca, HAIAN).false_commitment is True
    (message,) = _outbox(nca, instance, "bpmn_message")
    assert message.name == "commitment_breached" and message.state == "pending"
    assert message.payload == {
        "commitment_id": commitment.id,
        "reason": revocation["reason"],
        "subject_uscc": HAIAN,
        "source_process": KEY,
        "source_instance_id": instance.id,
    }
    # The false commitment now excludes the subject from notify-and-commit.
    again = _ended(nca, _start(nca, "ent_haian"), "ordinary_route")
    assert "虚假承诺" in again.summary["outcome_reason"]


def test_verification_deadline_escalates_to_the_leader(nca: Session) -> None:
    _haian_grade_c(nca)
    instance = _approved(nca, "ent_haian")
    verify = only_task(nca, instance.id, "verify_commitment")
    assert timers.fire_due_timers(verify.due_at + timedelta(seconds=1)) >= 1  # reminder, deadline
    nca.expire_all()
    assert verify.state == "cancelled"
    escalation = only_task(nca, instance.id, "escalate_verification")
    assert escalation.lane == "leader" and escalation.department_id == _dept_id(nca, "samr")
    names = [o.name for o in _outbox(nca, instance, "notification")]
    assert names == ["verification_reminder", "verification_escalated"]
    with pytest.raises(NotFoundError):  # a leader of another department does not even see it
        tasks.complete(
            nca,
            escalation.id,
            {"decision": "fulfilled", "method": "online"},
            user(nca, "lead_ndrc"),
        )
    nca.rollback()
    _complete(
        nca, "escalate_verification", instance, "lead_samr", decision="fulfilled", method="online"
    )
    instance = _ended(nca, instance, "fulfilled_late")
    assert _commitments(nca, instance)[0].status == "fulfilled_late"


def test_signing_is_idempotent_per_round(nca: Session) -> None:
    instance = _start(nca, "ent_hongqiao")
    _sign(nca, instance, "ent_hongqiao")
    (commitment,) = _commitments(nca, instance)
    again = notify_commit.sign(
        nca,
        instance,
        matter_code=FOOD,
        text=commitment.text,
        signer_name="陈某某",
        sign_round=1,
        verification_days=40,
    )
    assert again.id == commitment.id and len(_commitments(nca, instance)) == 1


# --- REST API (CONTRACT §5) -------------------------------------------------------------------


def test_main_path_through_the_rest_api(client: FlaskClient, nca: Session) -> None:
    _haian_grade_c(nca)
    api = "/api/v1"
    ent, window, inspector = (
        api_token(client, u) for u in ("ent_haian", "clerk_window", "insp_samr")
    )
    started = client.post(
        f"{api}/process-instances",
        json={"process_key": KEY, "data": {"matter_code": FOOD}},
        headers=ent,
    )
    assert started.status_code == 201, started.text
    instance_id = started.json["id"]

    def inbox(headers: dict[str, str], bpmn_id: str) -> dict[str, Any]:
        response = client.get(f"{api}/tasks?scope=candidate", headers=headers)
        assert response.status_code == 200, response.text
        mine = [t for t in response.json["items"] if t["instance_id"] == instance_id]
        assert [t["bpmn_id"] for t in mine] == [bpmn_id], mine
        return mine[0]

    sign = inbox(ent, "sign_commitment")
    detail = client.get(f"{api}/tasks/{sign['id']}", headers=ent)
    assert detail.status_code == 200 and detail.json["form"]["title"] == "签署告知承诺书"
    bad = client.post(
        f"{api}/tasks/{sign['id']}/complete", json={"data": {"agree": False}}, headers=ent
    )
    assert bad.status_code == 422, bad.text
    done = client.post(
        f"{api}/tasks/{sign['id']}/complete",
        json={"data": {"agree": True, "signer_name": "刘某某"}},
        headers=ent,
    )
    assert done.status_code == 200, done.text
    decide = inbox(window, "decide_application")
    assert decide["due_at"] is not None
    done = client.post(
        f"{api}/tasks/{decide['id']}/complete",
        json={"data": {"decision": "approve"}},
        headers=window,
    )
    assert done.status_code == 200, done.text
    verify = inbox(inspector, "verify_commitment")
    done = client.post(
        f"{api}/tasks/{verify['id']}/complete",
        json={"data": {"decision": "fulfilled", "method": "written", "opinion": "材料核对无误"}},
        headers=inspector,
    )
    assert done.status_code == 200, done.text
    body = client.get(f"{api}/process-instances/{instance_id}", headers=ent).json
    assert body["status"] == "completed" and body["subject_uscc"] == HAIAN
    outcome = [h for h in body["history"] if h["action"] == "notify_commit.outcome"]
    assert outcome[0]["details"]["outcome"] == "fulfilled"
    nca.expire_all()
    commitment = nca.scalars(select(Commitment).where(Commitment.instance_id == instance_id)).one()
    assert commitment.status == "fulfilled" and commitment.signer_name == "刘某某"


def test_breach_message_starts_commitment_breach(nca: Session) -> None:
    breach_files = {
        k: v for k, v in read_bundle_dir(BPMN_DIR).items() if k.startswith("commitment_breach")
    }
    if "commitment_breach.bpmn" not in breach_files:
        pytest.skip("commitment_breach is not shipped yet")
    deploy_bundle(nca, breach_files)
    nca.commit()
    _haian_grade_c(nca)
    instance = _approved(nca, "ent_haian")
    _complete(
        nca,
        "verify_commitment",
        instance,
        "insp_samr",
        decision="breached",
        method="written",
        opinion="书面核查发现提交的场所证明系伪造",
    )
    assert messages.deliver_outbox_messages(nca) == 1
    nca.commit()
    (message,) = _outbox(nca, instance, "bpmn_message")
    assert message.state == "done", message.last_error
    started = nca.scalars(
        select(ProcessInstance).where(ProcessInstance.process_key == "commitment_breach")
    ).all()
    assert [s.subject_id for s in started] == [_subject(nca, HAIAN).id]
