"""The engine host through the service layer: start, complete, return, timeout, messages."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Incident, MessageSubscription, ProcessInstance, ProcessVersion
from app.services import instances, messages, operations, tasks, timers
from app.services.errors import ConflictError, InvalidInputError, NotAllowedError, NotFoundError
from tests.engine_fixtures import deploy_test_bundle, only_task, open_tasks, user


@pytest.fixture()
def review(seeded: Session) -> Session:
    deploy_test_bundle(seeded, "review_case")
    return seeded


def _submitted(session: Session) -> ProcessInstance:
    ent = user(session, "ent_chengxi")
    instance = instances.start_instance(session, "review_case", {}, ent)
    session.commit()
    submit = only_task(session, instance.id, "submit_application")
    assert submit.lane == "enterprise" and submit.subject_id == ent.subject_id
    tasks.complete(session, submit.id, {"claim": "请求修复"}, ent)
    session.commit()
    return instance


def test_deploy_is_versioned_and_idempotent(review: Session) -> None:
    deploy_test_bundle(review, "review_case")
    assert review.scalar(select(func.count()).select_from(ProcessVersion)) == 1
    deploy_test_bundle(review, "review_case", **{"review_form.json": "审核意见=>处理意见"})
    versions = review.scalars(select(ProcessVersion.version).order_by(ProcessVersion.version))
    assert list(versions) == [1, 2]


def test_instances_stay_on_their_version(review: Session) -> None:
    instance = _submitted(review)
    deploy_test_bundle(review, "review_case", **{"review_form.json": "审核意见=>处理意见"})
    review_task = only_task(review, instance.id, "review_application")
    tasks.complete(review, review_task.id, {"decision": "reject"}, user(review, "rev_samr"))
    review.commit()
    assert review.get(ProcessInstance, instance.id).version.version == 1


def test_approve_path_waits_for_confirmation_message(review: Session) -> None:
    instance = _submitted(review)
    review_task = only_task(review, instance.id, "review_application")
    assert review_task.due_at is not None  # 3 working days, from the boundary timer
    tasks.complete(
        review, review_task.id, {"decision": "approve", "opinion": "同意"}, user(review, "rev_samr")
    )
    review.commit()
    subscription = review.scalar(
        select(MessageSubscription).where(MessageSubscription.instance_id == instance.id)
    )
    assert subscription.message_name == "dept_confirmation"
    with pytest.raises(NotFoundError):
        messages.deliver(
            review, "dept_confirmation", {"case_id": instance.id + 1000}, {}, "m-wrong", None
        )
    answer = messages.deliver(
        review, "dept_confirmation", {"case_id": instance.id}, {"ok": True}, "m-1", None
    )
    review.commit()
    assert answer == {"delivered_to": [instance.id]}
    assert review.get(ProcessInstance, instance.id).status == "completed"
    # A repeated message id is a no-op with the same answer.
    assert (
        messages.deliver(review, "dept_confirmation", {"case_id": instance.id}, {}, "m-1", None)
        == answer
    )


def test_return_sends_the_application_back(review: Session) -> None:
    instance = _submitted(review)
    reviewer = user(review, "rev_samr")
    review_task = only_task(review, instance.id, "review_application")
    tasks.complete(review, review_task.id, {"decision": "return", "opinion": "补充材料"}, reviewer)
    review.commit()
    resubmit = only_task(review, instance.id, "submit_application")
    tasks.complete(review, resubmit.id, {"claim": "已补充"}, user(review, "ent_chengxi"))
    review.commit()
    only_task(review, instance.id, "review_application")


def test_reject_path_completes(review: Session) -> None:
    instance = _submitted(review)
    review_task = only_task(review, instance.id, "review_application")
    tasks.complete(review, review_task.id, {"decision": "reject"}, user(review, "rev_samr"))
    review.commit()
    assert review.get(ProcessInstance, instance.id).status == "completed"
    assert open_tasks(review, instance.id) == []


def test_invalid_form_data_is_refused_and_changes_nothing(review: Session) -> None:
    instance = _submitted(review)
    review_task = only_task(review, instance.id, "review_application")
    state = review.get(ProcessInstance, instance.id).state
    with pytest.raises(InvalidInputError) as info:
        tasks.complete(
            review, review_task.id, {"decision": "maybe", "extra": 1}, user(review, "rev_samr")
        )
    assert set(info.value.fields) == {"decision", "_form"}
    review.rollback()
    assert review.get(ProcessInstance, instance.id).state == state


def test_only_candidates_may_complete(review: Session) -> None:
    instance = _submitted(review)
    review_task = only_task(review, instance.id, "review_application")
    with pytest.raises(NotFoundError):  # another enterprise does not even see it
        tasks.complete(review, review_task.id, {"decision": "approve"}, user(review, "ent_haian"))
    with pytest.raises(NotAllowedError):  # right department, wrong role
        tasks.complete(review, review_task.id, {"decision": "approve"}, user(review, "insp_samr"))


def test_completed_task_gives_conflict_not_error(review: Session) -> None:
    instance = _submitted(review)
    review_task = only_task(review, instance.id, "review_application")
    reviewer = user(review, "rev_samr")
    tasks.complete(review, review_task.id, {"decision": "reject"}, reviewer)
    review.commit()
    with pytest.raises(ConflictError, match="办理完毕"):
        tasks.complete(review, review_task.id, {"decision": "reject"}, reviewer)


def test_claim_blocks_other_candidates(review: Session) -> None:
    instance = _submitted(review)
    review_task = only_task(review, instance.id, "review_application")
    reviewer, leader = user(review, "rev_samr"), user(review, "lead_samr")
    tasks.claim(review, review_task.id, reviewer)
    review.commit()
    with pytest.raises(ConflictError):
        tasks.unclaim(review, review_task.id, user(review, "insp_samr"))
    tasks.unclaim(review, review_task.id, leader)  # a leader may take it back
    review.commit()
    assert review_task.assignee_id is None


def test_deadline_timer_fires_once_and_cancels_the_task(review: Session) -> None:
    instance = _submitted(review)
    review_task = only_task(review, instance.id, "review_application")
    due = review.get(ProcessInstance, instance.id).next_timer_due
    assert due == review_task.due_at
    assert timers.fire_due_timers(due - timedelta(seconds=1)) == 0
    assert timers.fire_due_timers(due + timedelta(seconds=1)) == 1
    assert timers.fire_due_timers(due + timedelta(days=1)) == 0  # never twice
    review.expire_all()
    assert review.get(ProcessInstance, instance.id).status == "completed"
    assert review_task.state == "cancelled"  # gone from inboxes


def test_operations_suspend_resume_terminate(review: Session) -> None:
    instance = _submitted(review)
    owner = user(review, "owner")
    with pytest.raises(NotAllowedError):
        operations.suspend(review, instance.id, user(review, "rev_samr"))
    operations.suspend(review, instance.id, owner)
    review_task = only_task(review, instance.id, "review_application")
    with pytest.raises(ConflictError):
        tasks.complete(review, review_task.id, {"decision": "reject"}, user(review, "rev_samr"))
    operations.resume(review, instance.id, owner)
    operations.terminate(review, instance.id, owner, "申请人撤回")
    review.commit()
    assert open_tasks(review, instance.id) == []
    assert review.get(ProcessInstance, instance.id).next_timer_due is None


def test_runtime_failure_becomes_an_incident(review: Session) -> None:
    deploy_test_bundle(
        review,
        "review_case",
        **{"review_case.bpmn": "checked = True=>checked = 1 / len(claim.strip(claim))"},
    )
    ent = user(review, "ent_chengxi")
    instance = instances.start_instance(review, "review_case", {}, ent)
    review.commit()
    submit = only_task(review, instance.id, "submit_application")
    with pytest.raises(ConflictError, match="prepare_review"):
        tasks.complete(review, submit.id, {"claim": "请求修复"}, ent)
    review.commit()  # the incident is kept (the service commits it before raising)
    review.expire_all()
    instance = review.get(ProcessInstance, instance.id)
    incident = review.scalar(select(Incident).where(Incident.instance_id == instance.id))
    assert instance.status == "error" and incident.element_id == "prepare_review"
    assert "ZeroDivisionError" in incident.message or "division" in incident.message
    assert only_task(review, instance.id, "submit_application").id == submit.id  # not lost
    # Other instances carry on.
    other = instances.start_instance(review, "review_case", {}, user(review, "ent_hongqiao"))
    assert other.status == "running"


def test_unknown_process_key_is_not_found(review: Session) -> None:
    with pytest.raises(NotFoundError):
        instances.start_instance(review, "no_such_process", {}, user(review, "ent_chengxi"))


def _aware(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_start_data_cannot_shadow_engine_names(review: Session) -> None:
    ent = user(review, "ent_chengxi")
    for key in ("deadline_after_working_days", "instance_id", "_getattr_", "not-a-name"):
        with pytest.raises(InvalidInputError):
            instances.start_instance(review, "review_case", {key: 1}, ent)


def test_broken_instructions_template_is_shown_as_text() -> None:
    from app.services.task_views import render_instructions

    assert render_instructions("<b>{{ x.y( }}</b>", {}) == "&lt;b&gt;{{ x.y( }}&lt;/b&gt;"
    assert render_instructions("{{ name }}", {"name": "<script>"}) == "&lt;script&gt;"


def test_required_errors_inside_arrays_name_the_row() -> None:
    from app.services.forms import validate_form

    schema = {
        "type": "object",
        "properties": {
            "proofs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["proof"],
                    "properties": {"proof": {"type": "string"}},
                },
            }
        },
    }
    with pytest.raises(InvalidInputError) as info:
        validate_form(schema, {"proofs": [{"proof": "a"}, {}]})
    assert set(info.value.fields) == {"proofs.1.proof"}
