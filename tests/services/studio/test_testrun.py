"""Test runs of drafts: sandboxed runs with sample data that never touch real data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import (
    AuditEvent,
    CreditRecord,
    Document,
    DraftTestRun,
    HumanTask,
    Incident,
    MessageSubscription,
    Notification,
    OutboxEvent,
    ProcessDraft,
    ProcessInstance,
    User,
)
from app.services.errors import (
    ConflictError,
    InvalidInputError,
    NotAllowedError,
    NotFoundError,
)
from app.services.handlers import HANDLERS
from app.services.process_handlers import load_all
from app.services.studio import testrun
from tests.engine_fixtures import user

SHIPPED = Path(__file__).parents[3] / "bpmn"
TEST_BUNDLES = Path(__file__).parents[2] / "bpmn"
START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # Friday 09:00 in Shanghai
REAL_ROWS = (
    ProcessInstance,
    HumanTask,
    OutboxEvent,
    Document,
    CreditRecord,
    Incident,
    MessageSubscription,
    Notification,
)

ELIGIBLE = {
    "eligible_count": 1,
    "eligible_ids": [11],
    "eligible": [
        {
            "id": 11,
            "department": "samr",
            "rule_set": "samr_58",
            "decision_no": "市监罚〔2025〕1号",
            "violation": "未按期年报",
        }
    ],
    "refusal_reasons": [],
}
CREDIT_REPAIR_RESULTS: dict[str, Any] = {
    "repair.check_eligibility": ELIGIBLE,
    "repair.sign_commitment": {"proof_problems": []},
    "repair.apply_results": {
        "outcome": "approved",
        "results": [{"record_id": 11, "decision": "approve"}],
        "document_context": {},
    },
}
SUBMIT_FORM = {
    "proofs": [{"record_id": 11, "discharged": True, "proof": "att-1"}],
    "agree": True,
    "signer_name": "张三",
}
MATTER = {
    "ok": True,
    "code": "M001",
    "name": "食品经营许可",
    "department": "samr",
    "notice_text": "告知内容",
    "commitment_text": "承诺内容",
    "verification_days": 40,
}
NCA_RESULTS: dict[str, Any] = {
    "notify_commit.load_matter": MATTER,
    "subjects.route": {"notify_commit": True, "tier": "A", "reason": ""},
    "commitments.sign_notify": {"id": 7, "signed_at": "2026-11-20T09:00:00+08:00", "sha256": "ab"},
    "notify_commit.sample_verification": {"sampled": True, "rule": "sha256", "rate": 0.2},
    "notify_commit.revoke_approval": {"reason": "核查发现承诺不实"},
}


def bundle_files(process_key: str, root: Path = SHIPPED) -> dict[str, str]:
    """The process's .bpmn plus every .dmn and .json of its folder, as draft files."""
    return {
        p.name: p.read_text("utf-8")
        for p in sorted(root.iterdir())
        if p.suffix in (".dmn", ".json") or p.name == f"{process_key}.bpmn"
    }


def make_draft(
    session: Session, process_key: str, actor: User, files: dict[str, str] | None = None
) -> ProcessDraft:
    draft = ProcessDraft(
        key=process_key,
        name=process_key,
        files=files if files is not None else bundle_files(process_key),
        status="open",
        created_by_id=actor.id,
        updated_by_id=actor.id,
    )
    session.add(draft)
    session.flush()
    return draft


def review_case_draft(session: Session, actor: User) -> ProcessDraft:
    return make_draft(
        session, "review_case", actor, bundle_files("review_case", TEST_BUNDLES / "review_case")
    )


def count_real_rows(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in REAL_ROWS
    }


def ready(session: Session, run: DraftTestRun) -> list[testrun.ReadyTask]:
    return testrun.describe(session, run).ready


def only_ready(session: Session, run: DraftTestRun, element_id: str) -> testrun.ReadyTask:
    tasks = ready(session, run)
    assert [t.element_id for t in tasks] == [element_id], [t.element_id for t in tasks]
    return tasks[0]


def events(run: DraftTestRun, kind: str) -> list[dict[str, Any]]:
    return [s for s in run.steps if s["event"] == kind]


@pytest.fixture()
def owner(seeded: Session) -> User:
    return user(seeded, "owner")


@pytest.fixture()
def spy_handlers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every registered handler replaced by a spy that records its name if it ever runs."""
    load_all()
    called: list[str] = []
    for name in list(HANDLERS):
        monkeypatch.setitem(
            HANDLERS, name, lambda ctx, params, _name=name: called.append(_name) or {}
        )
    return called


def start_credit_repair(session: Session, owner: User, **results: Any) -> DraftTestRun:
    draft = make_draft(session, "credit_repair", owner)
    with clock.frozen_at(START):
        return testrun.start_run(
            session, draft.id, {"record_ids": [11]}, {**CREDIT_REPAIR_RESULTS, **results}, owner
        )


def test_start_runs_to_first_user_task_and_logs_service_calls(seeded: Session, owner: User) -> None:
    run = start_credit_repair(seeded, owner)

    assert run.status == "running"
    task = only_ready(seeded, run, "submit_application")
    assert task.lane == "enterprise"
    assert task.schema is not None and task.schema["title"] == "提交信用修复申请"
    calls = events(run, "service_call")
    assert [c["details"]["handler"] for c in calls] == ["repair.check_eligibility"]
    assert calls[0]["element_id"] == "check_eligibility"
    assert calls[0]["details"]["params"]["record_ids"] == [11]
    assert calls[0]["details"]["result"] == ELIGIBLE
    path = [s["element_id"] for s in run.steps]
    assert path[:5] == [
        "start",
        "prepare_application",
        "decide_reapplication_policy",
        "check_eligibility",
        "gw_eligible",
    ]
    assert path.count("check_eligibility") == 1  # one step per service task: the call
    assert run.steps[0]["at"].startswith("2026-11-20T09:00:00")
    view = testrun.describe(seeded, run)
    assert "check_eligibility" in view.completed and "gw_eligible" in view.completed
    assert view.active == ["submit_application"]
    assert view.data["record_ids"] == [11]
    assert view.data["eligibility"] == ELIGIBLE
    assert 'id="credit_repair"' in view.diagram


def test_approve_path_completes_without_touching_real_data(
    seeded: Session, owner: User, spy_handlers: list[str]
) -> None:
    before = count_real_rows(seeded)
    record_status = {r.id: r.status for r in seeded.scalars(select(CreditRecord))}
    run = start_credit_repair(seeded, owner)

    testrun.complete_task(
        seeded, run.id, only_ready(seeded, run, "submit_application").id, SUBMIT_FORM, owner
    )
    testrun.complete_task(
        seeded,
        run.id,
        only_ready(seeded, run, "accept_application").id,
        {"decision": "accept"},
        owner,
    )
    review = only_ready(seeded, run, "review_records")
    assert review.lane == "reviewer" and review.data["department"] == "samr"
    testrun.complete_task(seeded, run.id, review.id, {"decision": "approve"}, owner)

    assert run.status == "completed"
    assert ready(seeded, run) == []
    with pytest.raises(ConflictError, match="已结束"):
        testrun.complete_task(seeded, run.id, review.id, {"decision": "approve"}, owner)
    handlers = [c["details"]["handler"] for c in events(run, "service_call")]
    assert handlers == [
        "repair.check_eligibility",
        "repair.sign_commitment",
        "repair.apply_results",
        "documents.request",
        "repair.notify_applicant",
    ]
    apply = events(run, "service_call")[2]["details"]
    assert apply["params"]["department_results"][0]["decision"] == "approve"
    assert apply["result"]["outcome"] == "approved"
    notify = events(run, "service_call")[4]["details"]
    assert notify["result"] == {}  # no sample given: the default
    view = testrun.describe(seeded, run)
    assert "end_repaired" in view.completed and "end_not_repaired" not in view.completed
    assert view.data["outcome"] == "approved"
    submitted = next(s for s in run.steps if s["element_id"] == "submit_application")
    assert submitted["details"]["form"]["signer_name"] == "张三"
    assert submitted["details"]["lane"] == "enterprise"
    # Nothing real: no handler ran, no instance, task, outbox, document or record row changed.
    assert spy_handlers == []
    assert count_real_rows(seeded) == before
    assert {r.id: r.status for r in seeded.scalars(select(CreditRecord))} == record_status


def test_return_and_reject_paths(seeded: Session, owner: User) -> None:
    results = {
        "repair.apply_results": {"outcome": "rejected", "results": [], "document_context": {}}
    }
    run = start_credit_repair(seeded, owner, **results)
    first = only_ready(seeded, run, "submit_application")
    testrun.complete_task(seeded, run.id, first.id, SUBMIT_FORM, owner)
    accept = only_ready(seeded, run, "accept_application")
    testrun.complete_task(
        seeded, run.id, accept.id, {"decision": "return", "missing_items": ["缴款凭证"]}, owner
    )

    again = only_ready(seeded, run, "submit_application")  # the intake loop's second round
    assert again.id != first.id
    assert again.data["window_missing_items"] == ["缴款凭证"]
    assert again.data["intake_round"] == 2
    assert "窗口已退回补正" in (again.instructions or "")
    testrun.complete_task(seeded, run.id, again.id, SUBMIT_FORM, owner)
    testrun.complete_task(
        seeded,
        run.id,
        only_ready(seeded, run, "accept_application").id,
        {"decision": "accept"},
        owner,
    )
    testrun.complete_task(
        seeded,
        run.id,
        only_ready(seeded, run, "review_records").id,
        {"decision": "reject", "opinion": "证明材料不足"},
        owner,
    )

    assert run.status == "completed"
    apply = next(
        c for c in events(run, "service_call") if c["details"]["handler"] == "repair.apply_results"
    )
    assert apply["details"]["params"]["department_results"][0]["decision"] == "reject"
    view = testrun.describe(seeded, run)
    assert "end_not_repaired" in view.completed and "end_repaired" not in view.completed


def test_firing_a_timer_moves_only_the_runs_clock(seeded: Session, owner: User) -> None:
    run = start_credit_repair(seeded, owner)
    testrun.complete_task(
        seeded, run.id, only_ready(seeded, run, "submit_application").id, SUBMIT_FORM, owner
    )
    view = testrun.describe(seeded, run)
    assert view.next_timer is not None
    due = view.next_timer  # end of the next working day (Monday 23:59:59 in Shanghai)
    assert due.isoformat() == "2026-11-23T23:59:59+08:00"
    real_before = clock.now()

    testrun.fire_timer(seeded, run.id, owner)

    assert abs(clock.now() - real_before) < timedelta(minutes=5)  # the real clock: untouched
    fired = events(run, "timer_fired")
    assert [s["element_id"] for s in fired] == ["accept_deadline"]
    assert fired[0]["details"]["due"] == "2026-11-23T23:59:59+08:00"
    view = testrun.describe(seeded, run)
    assert view.clock - due < timedelta(seconds=1)
    assert "deem_accepted" in view.completed and "accept_application" not in view.completed
    review = only_ready(seeded, run, "review_records")
    assert review.data["accepted_by_default"] is True
    assert review.data["received_on"] == "2026-11-23"  # today() follows the run's clock


def test_fire_timer_without_a_waiting_timer_is_a_conflict(seeded: Session, owner: User) -> None:
    run = start_credit_repair(seeded, owner)
    steps = list(run.steps)
    with pytest.raises(ConflictError, match="没有等待中的定时器"):
        testrun.fire_timer(seeded, run.id, owner)
    assert run.steps == steps


def test_notify_commit_walk_logs_the_thrown_message_without_outbox(
    seeded: Session, owner: User, spy_handlers: list[str]
) -> None:
    before = count_real_rows(seeded)
    draft = make_draft(seeded, "notify_commit_approval", owner)
    with clock.frozen_at(START):
        run = testrun.start_run(seeded, draft.id, {"matter_code": "M001"}, NCA_RESULTS, owner)
    testrun.complete_task(
        seeded,
        run.id,
        only_ready(seeded, run, "sign_commitment").id,
        {"sign_action": "sign", "agree": True, "signer_name": "李四"},
        owner,
    )
    decide = only_ready(seeded, run, "decide_application")
    assert decide.lane == "window"
    testrun.complete_task(seeded, run.id, decide.id, {"decision": "approve"}, owner)
    verify = only_ready(seeded, run, "verify_commitment")
    assert verify.lane == "inspector"
    form = {"decision": "breached", "opinion": "现场核查发现承诺不实", "method": "on_site"}
    testrun.complete_task(seeded, run.id, verify.id, form, owner)

    assert run.status == "completed", run.error
    thrown = [s for s in events(run, "message") if s["details"].get("direction") == "sent"]
    assert [s["element_id"] for s in thrown] == ["throw_breach"]
    assert thrown[0]["details"]["name"] == "commitment_breached"
    assert thrown[0]["details"]["payload"]["commitment_id"] == 7
    assert spy_handlers == []
    assert count_real_rows(seeded) == before


def test_message_start_event_gets_the_sample_data_as_message(seeded: Session, owner: User) -> None:
    draft = make_draft(seeded, "commitment_breach", owner)
    case = {"status": "ok", "department": "samr", "kind": "notify_commit", "commitment_id": 7}
    results = {"breaches.open_case": case}
    sample = {"commitment_id": 7, "reason": "逾期未补齐材料", "subject_uscc": "91310000MA1FL0001X"}
    with clock.frozen_at(START):
        run = testrun.start_run(seeded, draft.id, sample, results, owner)

    received = events(run, "message")
    assert [s["element_id"] for s in received] == ["breach_reported"]
    assert received[0]["details"]["direction"] == "received"
    assert received[0]["details"]["payload"]["commitment_id"] == 7
    call = events(run, "service_call")[0]["details"]
    assert call["handler"] == "breaches.open_case"
    assert call["params"]["message"]["reason"] == "逾期未补齐材料"
    assert run.status == "running", run.error
    assert [t.lane for t in ready(seeded, run)] == ["reviewer"]


def test_message_path_with_correlation(seeded: Session, owner: User) -> None:
    draft = review_case_draft(seeded, owner)
    run = testrun.start_run(seeded, draft.id, {}, {"system.echo": {"ok": True}}, owner)
    testrun.complete_task(
        seeded,
        run.id,
        only_ready(seeded, run, "submit_application").id,
        {"claim": "申请修复"},
        owner,
    )
    testrun.complete_task(
        seeded,
        run.id,
        only_ready(seeded, run, "review_application").id,
        {"decision": "approve"},
        owner,
    )
    view = testrun.describe(seeded, run)
    assert view.waiting_messages == ["dept_confirmation"]
    assert view.ready == [] and not view.stuck

    with pytest.raises(InvalidInputError) as wrong:
        testrun.send_message(seeded, run.id, "other_message", {"case_id": 0}, owner)
    assert "dept_confirmation" in wrong.value.fields["name"][0]
    testrun.send_message(
        seeded, run.id, "dept_confirmation", {"case_id": 0, "confirmed": True}, owner
    )

    assert run.status == "completed"
    step = events(run, "message")[-1]
    assert step["element_id"] == "wait_confirmation"
    assert step["details"]["payload"] == {"case_id": 0, "confirmed": True}
    assert testrun.describe(seeded, run).data["confirmation"]["confirmed"] is True


def test_reject_path_of_review_case(seeded: Session, owner: User) -> None:
    draft = review_case_draft(seeded, owner)
    run = testrun.start_run(seeded, draft.id, {}, {}, owner)
    submit = only_ready(seeded, run, "submit_application")
    testrun.complete_task(seeded, run.id, submit.id, {"claim": "申请修复"}, owner)
    review = only_ready(seeded, run, "review_application")
    testrun.complete_task(seeded, run.id, review.id, {"decision": "return"}, owner)
    again = only_ready(seeded, run, "submit_application")
    testrun.complete_task(seeded, run.id, again.id, {"claim": "补正后再次申请"}, owner)
    testrun.complete_task(
        seeded,
        run.id,
        only_ready(seeded, run, "review_application").id,
        {"decision": "reject"},
        owner,
    )
    assert run.status == "completed"
    assert events(run, "service_call") == []
    view = testrun.describe(seeded, run)
    assert "end_rejected" in view.completed and "notify_platform" not in view.completed


def test_script_error_becomes_the_error_state(seeded: Session, owner: User) -> None:
    draft = make_draft(seeded, "notify_commit_approval", owner)
    run = testrun.start_run(seeded, draft.id, {"matter_code": "M001"}, {}, owner)  # no samples

    assert run.status == "error"
    assert "matter" in (run.error or "")
    error = run.steps[-1]
    assert error["event"] == "error"
    assert error["element_id"] == "gw_matter"
    assert error["type"] == "exclusiveGateway"
    view = testrun.describe(seeded, run)
    assert view.errored == ["gw_matter"]
    assert "load_matter" in view.completed
    assert view.ready == []
    with pytest.raises(ConflictError, match="出错"):
        testrun.fire_timer(seeded, run.id, owner)


def test_form_errors_change_nothing(seeded: Session, owner: User) -> None:
    run = start_credit_repair(seeded, owner)
    task = only_ready(seeded, run, "submit_application")
    steps, state = list(run.steps), run.state

    with pytest.raises(InvalidInputError) as bad:
        testrun.complete_task(seeded, run.id, task.id, {"agree": True}, owner)

    assert "signer_name" in bad.value.fields and "proofs" in bad.value.fields
    assert run.steps == steps and run.state == state
    assert only_ready(seeded, run, "submit_application").id == task.id


def test_double_submit_is_a_conflict_and_unknown_ids_are_not_found(
    seeded: Session, owner: User
) -> None:
    run = start_credit_repair(seeded, owner)
    task = only_ready(seeded, run, "submit_application")
    testrun.complete_task(seeded, run.id, task.id, SUBMIT_FORM, owner)
    steps = list(run.steps)

    with pytest.raises(ConflictError):
        testrun.complete_task(seeded, run.id, task.id, SUBMIT_FORM, owner)
    assert run.steps == steps
    with pytest.raises(NotFoundError):
        testrun.complete_task(
            seeded, run.id, "00000000-0000-0000-0000-000000000000", SUBMIT_FORM, owner
        )
    with pytest.raises(NotFoundError):
        testrun.complete_task(seeded, run.id, "not-a-task", SUBMIT_FORM, owner)
    with pytest.raises(NotFoundError):
        testrun.complete_task(seeded, run.id + 1000, task.id, SUBMIT_FORM, owner)


def test_invalid_draft_cannot_be_test_run(seeded: Session, owner: User) -> None:
    files = bundle_files("credit_repair")
    files["credit_repair.bpmn"] = files["credit_repair.bpmn"].replace(
        'eligibility["eligible_count"] &gt; 0', "eligibility[&quot;eligible_count&quot; &gt; 0"
    )
    draft = make_draft(seeded, "credit_repair", owner, files)

    with pytest.raises(testrun.DraftInvalidError) as invalid:
        testrun.start_run(seeded, draft.id, {}, {}, owner)

    problems = invalid.value.problems
    assert any(p["element_id"] == "f_some_eligible" for p in problems), problems
    assert seeded.scalar(select(func.count()).select_from(DraftTestRun)) == 0


def test_start_input_is_checked(seeded: Session, owner: User) -> None:
    draft = make_draft(seeded, "credit_repair", owner)
    with pytest.raises(InvalidInputError) as bad_results:
        testrun.start_run(seeded, draft.id, {}, {"repair.check_eligibilty": {}}, owner)
    assert "repair.check_eligibility" in bad_results.value.fields["service_results"][0]
    with pytest.raises(InvalidInputError) as bad_data:
        testrun.start_run(seeded, draft.id, {"_secret": 1, "today": 2}, {}, owner)
    assert "_secret" in bad_data.value.fields["sample_data"][0]
    with pytest.raises(InvalidInputError):
        testrun.parse_json_object("[1, 2]", "sample_data", "样例数据")
    with pytest.raises(InvalidInputError) as not_json:
        testrun.parse_json_object("{'a': 1}", "sample_data", "样例数据")
    assert "不是有效的 JSON" in not_json.value.fields["sample_data"][0]
    assert testrun.parse_json_object("  ", "sample_data", "样例数据") == {}


def test_closed_draft_and_other_roles_are_refused(seeded: Session, owner: User) -> None:
    draft = make_draft(seeded, "credit_repair", owner)
    with pytest.raises(NotAllowedError):
        testrun.start_run(seeded, draft.id, {}, {}, user(seeded, "rev_samr"))
    draft.status = "discarded"
    seeded.flush()
    with pytest.raises(ConflictError):
        testrun.start_run(seeded, draft.id, {}, {}, owner)
    with pytest.raises(NotFoundError):
        testrun.start_run(seeded, draft.id + 1000, {}, {}, owner)


def test_run_keeps_its_own_copy_of_the_draft(seeded: Session, owner: User) -> None:
    run = start_credit_repair(seeded, owner)
    draft = seeded.get(ProcessDraft, run.draft_id)
    assert draft is not None
    draft.files = {"credit_repair.bpmn": "<broken"}
    seeded.flush()

    view = testrun.describe(seeded, run)
    assert view.draft_changed
    assert 'id="credit_repair"' in view.diagram
    testrun.complete_task(
        seeded, run.id, only_ready(seeded, run, "submit_application").id, SUBMIT_FORM, owner
    )
    assert only_ready(seeded, run, "accept_application").schema is not None


def test_every_action_is_audited_and_delete_removes_the_run(seeded: Session, owner: User) -> None:
    draft = review_case_draft(seeded, owner)
    run = testrun.start_run(seeded, draft.id, {}, {}, owner)
    testrun.complete_task(
        seeded, run.id, only_ready(seeded, run, "submit_application").id, {"claim": "申请"}, owner
    )
    testrun.fire_timer(seeded, run.id, owner)
    run_id = run.id

    assert testrun.delete_run(seeded, run_id, owner) == draft.id

    assert seeded.get(DraftTestRun, run_id) is None
    actions = list(
        seeded.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "draft_test_run", AuditEvent.object_id == str(run_id))
            .order_by(AuditEvent.seq)
        )
    )
    assert actions == [
        "studio.testrun.started",
        "studio.testrun.completed_task",
        "studio.testrun.fired_timer",
        "studio.testrun.deleted",
    ]
    with pytest.raises(NotFoundError):
        testrun.get_run(seeded, run_id, owner)
