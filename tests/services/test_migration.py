"""Migrating running instances to a newer process version (dry run, migrate, bulk, API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api import migration as _routes  # noqa: F401 - routes exist before the app is created
from app.engine import clock, runner, specs
from app.engine.migration import apply_migration, plan_migration
from app.engine.sandbox import make_script_engine
from app.engine.serializer import spec_to_json
from app.models import AuditEvent, ProcessInstance
from app.services import host, instances, live_workflows, messages, migration, tasks
from app.services.definitions import deploy_bundle, load_specs, read_bundle_dir
from app.services.errors import ConflictError, NotAllowedError, NotFoundError
from tests.conftest import api_token
from tests.engine_fixtures import BUNDLES, only_task, user

Replacement = tuple[str, str]

RECORD_APPROVAL: tuple[Replacement, ...] = (
    (
        'id="f_approve" sourceRef="decision_gateway" targetRef="notify_platform"',
        'id="f_approve" sourceRef="decision_gateway" targetRef="record_approval"',
    ),
    (
        "<bpmn:incoming>f_approve</bpmn:incoming>\n      <bpmn:outgoing>f_notified",
        "<bpmn:incoming>f_recorded</bpmn:incoming>\n      <bpmn:outgoing>f_notified",
    ),
    (
        '    <bpmn:serviceTask id="notify_platform"',
        """    <bpmn:scriptTask id="record_approval" name="登记通过">
      <bpmn:incoming>f_approve</bpmn:incoming>
      <bpmn:outgoing>f_recorded</bpmn:outgoing>
      <bpmn:script>approval_recorded = "v2"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f_recorded" sourceRef="record_approval" targetRef="notify_platform" />
    <bpmn:serviceTask id="notify_platform\"""",
    ),
)
RENAMED_SUBMIT: tuple[Replacement, ...] = (
    (
        '<bpmn:userTask id="submit_application" name="提交申请">',
        '<bpmn:userTask id="submit_application" name="提交修复申请">',
    ),
)
DURATION_TIMER: tuple[Replacement, ...] = (
    (
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">review_due</bpmn:timeDate>',
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P5D"</bpmn:timeDuration>',
    ),
)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _deploy(session: Session, *replacements: Replacement) -> None:
    files = read_bundle_dir(BUNDLES / "review_case")
    text = files["review_case.bpmn"].decode()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    files["review_case.bpmn"] = text.encode()
    deploy_bundle(session, files)
    session.commit()


@pytest.fixture()
def review(seeded: Session) -> Session:
    _deploy(seeded)
    return seeded


def _started(session: Session) -> ProcessInstance:
    instance = instances.start_instance(session, "review_case", {}, user(session, "ent_chengxi"))
    session.commit()
    return instance


def _submitted(session: Session) -> ProcessInstance:
    instance = _started(session)
    submit = only_task(session, instance.id, "submit_application")
    tasks.complete(session, submit.id, {"claim": "请求修复"}, user(session, "ent_chengxi"))
    session.commit()
    return instance


def _approve(session: Session, instance: ProcessInstance) -> None:
    review_task = only_task(session, instance.id, "review_application")
    tasks.complete(session, review_task.id, {"decision": "approve"}, user(session, "rev_samr"))
    session.commit()


def _confirm(session: Session, instance: ProcessInstance) -> dict[str, object]:
    messages.deliver(
        session, "dept_confirmation", {"case_id": instance.id}, {}, f"m-{instance.id}", None
    )
    session.commit()
    instance = session.get(ProcessInstance, instance.id)
    assert instance.status == "completed"
    return runner.snapshot(host.load(session, instance)).data


def _fresh(session: Session, instance_id: int) -> ProcessInstance:
    session.expire_all()
    return session.get(ProcessInstance, instance_id)


def test_added_script_task_runs_after_migration(review: Session) -> None:
    instance = _submitted(review)
    waiting = only_task(review, instance.id, "review_application")
    _deploy(review, *RECORD_APPROVAL)
    owner = user(review, "owner")
    state = instance.state

    report = migration.dry_run(review, instance.id, owner)
    assert report["allowed"] and report["blocking"] == []
    assert (report["from_version"], report["to_version"]) == (1, 2)
    assert report["added"] == ["record_approval"]
    assert "decision_gateway" in report["changed"]
    assert _fresh(review, instance.id).state == state  # a dry run changes nothing

    result = migration.migrate(review, instance.id, owner)
    review.commit()
    assert result["migrated"] and result["to_version"] == 2
    instance = _fresh(review, instance.id)
    assert instance.version.version == 2 and instance.status == "running"
    assert only_task(review, instance.id, "review_application").id == waiting.id  # same inbox row
    entry = review.scalar(select(AuditEvent).where(AuditEvent.action == "instance.migrated"))
    assert entry.object_id == str(instance.id) and entry.details["to_version"] == 2

    specs.clear()  # a new worker: specs come back from the stored version
    _approve(review, instance)
    data = _confirm(review, instance)
    assert data["approval_recorded"] == "v2" and data["notified"]


def test_changed_completed_task_blocks_migration(review: Session) -> None:
    blocked = _submitted(review)
    early = _started(review)  # submit_application not done yet: may move
    _deploy(review, *RENAMED_SUBMIT)
    owner = user(review, "owner")

    report = migration.dry_run(review, blocked.id, owner)
    assert not report["allowed"]
    assert report["changed"] == {"submit_application": ["bpmn_name"]}
    assert any("已完成的环节 submit_application 在新版本中被修改" in r for r in report["blocking"])

    state = blocked.state
    with pytest.raises(ConflictError, match="submit_application") as info:
        migration.migrate(review, blocked.id, owner)
    assert info.value.details["blocking"] == report["blocking"]
    review.rollback()
    blocked = _fresh(review, blocked.id)
    assert blocked.version.version == 1 and blocked.state == state

    assert migration.dry_run(review, early.id, owner)["allowed"]
    migration.migrate(review, early.id, owner)
    review.commit()
    task = only_task(review, early.id, "submit_application")
    assert task.name == "提交修复申请"  # the inbox row shows the new version's name
    assert _fresh(review, early.id).version.version == 2


def test_migrate_many_reports_each_instance(review: Session) -> None:
    movable = _submitted(review)
    past_gateway = _submitted(review)
    _approve(review, past_gateway)  # decision_gateway completed, and it changes in v2
    finished = _submitted(review)
    tasks.complete(
        review,
        only_task(review, finished.id, "review_application").id,
        {"decision": "reject"},
        user(review, "rev_samr"),
    )
    review.commit()
    _deploy(review, *RECORD_APPROVAL)

    ids = [movable.id, past_gateway.id, finished.id, 999_999]
    results = migration.migrate_many(review, ids, user(review, "admin"))
    review.commit()
    outcomes = {r["instance_id"]: r["outcome"] for r in results}
    assert outcomes == {
        movable.id: "migrated",
        past_gateway.id: "refused",
        finished.id: "refused",
        999_999: "refused",
    }
    by_id = {r["instance_id"]: r for r in results}
    assert any("decision_gateway" in r for r in by_id[past_gateway.id]["blocking"])
    assert "completed" in by_id[finished.id]["reason"]
    assert _fresh(review, movable.id).version.version == 2
    assert _fresh(review, past_gateway.id).version.version == 1
    data = _confirm(review, past_gateway)  # the refused one finishes on v1
    assert "approval_recorded" not in data


def test_only_process_owners_and_admins(review: Session) -> None:
    instance = _submitted(review)
    _deploy(review, *RECORD_APPROVAL)
    reviewer = user(review, "rev_samr")
    with pytest.raises(NotAllowedError):
        migration.dry_run(review, instance.id, reviewer)
    with pytest.raises(NotAllowedError):
        migration.migrate(review, instance.id, reviewer)
    with pytest.raises(NotAllowedError):
        migration.migrate_many(review, [instance.id], reviewer)
    assert migration.dry_run(review, instance.id, user(review, "admin"))["allowed"]


def test_target_version_checks(review: Session) -> None:
    instance = _submitted(review)
    owner = user(review, "owner")
    with pytest.raises(ConflictError, match="已在版本 1"):
        migration.migrate(review, instance.id, owner)
    with pytest.raises(NotFoundError):
        migration.migrate(review, instance.id, owner, target_version=9)
    with pytest.raises(NotFoundError):
        migration.dry_run(review, 999_999, owner)


def test_round_trip_after_migration_then_continue(review: Session) -> None:
    instance = _submitted(review)
    _deploy(review, *RECORD_APPROVAL)
    migration.migrate(review, instance.id, user(review, "owner"))
    review.commit()
    instance = _fresh(review, instance.id)

    specs.clear()
    live_workflows.clear()
    workflow = host.load(review, instance)
    assert workflow.spec is load_specs(instance.version)[0]  # the cached v2 spec, with its key
    assert workflow.spec.spec_key == load_specs(instance.version)[0].spec_key is not None
    assert runner.dumps(workflow) == instance.state  # stable: save → load → save

    review_task = only_task(review, instance.id, "review_application")
    tasks.complete(review, review_task.id, {"decision": "return"}, user(review, "rev_samr"))
    review.commit()
    specs.clear()
    live_workflows.clear()
    resubmit = only_task(review, instance.id, "submit_application")
    tasks.complete(review, resubmit.id, {"claim": "已补充"}, user(review, "ent_chengxi"))
    review.commit()
    specs.clear()
    live_workflows.clear()
    _approve(review, instance)
    assert _confirm(review, instance)["approval_recorded"] == "v2"


def test_waiting_duration_timer_keeps_its_due_time(seeded: Session) -> None:
    _deploy(seeded, *DURATION_TIMER)
    with clock.frozen_at(T0):
        instance = _submitted(seeded)
    due = _fresh(seeded, instance.id).next_timer_due
    assert due == T0 + timedelta(days=5)
    _deploy(seeded, *DURATION_TIMER, *RECORD_APPROVAL)

    with clock.frozen_at(T0 + timedelta(days=2)):  # resetting the timer would restart it here
        migration.migrate(seeded, instance.id, user(seeded, "owner"))
    seeded.commit()
    instance = _fresh(seeded, instance.id)
    assert instance.version.version == 2 and instance.next_timer_due == due
    assert only_task(seeded, instance.id, "review_application").due_at == due


def test_api_dry_run_and_migrate(client: FlaskClient, review: Session) -> None:
    instance = _submitted(review)
    _deploy(review, *RECORD_APPROVAL)
    owner = api_token(client, "owner")
    url = f"/api/v1/process-instances/{instance.id}"

    response = client.get(f"{url}/migration?to=2", headers=owner)
    assert response.status_code == 200, response.text
    assert response.json["allowed"] and response.json["added"] == ["record_approval"]
    assert client.get(f"{url}/migration?to=x", headers=owner).status_code == 422
    reviewer = api_token(client, "rev_samr")
    assert client.post(f"{url}/migrate", headers=reviewer).status_code == 403

    response = client.post(f"{url}/migrate", json={"to": 2}, headers=owner)
    assert response.status_code == 200, response.text
    assert response.json["migrated"] and response.json["to_version"] == 2
    response = client.post(f"{url}/migrate", headers=owner)  # already on the latest
    assert response.status_code == 409
    assert response.json["error"]["details"]["blocking"]


def _call_bundle(child_tail: str) -> tuple[object, dict[str, object]]:
    ns = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t"'
    parent = f"""<bpmn:definitions {ns}><bpmn:process id="parent" isExecutable="true">
      <bpmn:startEvent id="ps"/><bpmn:sequenceFlow id="p1" sourceRef="ps" targetRef="call"/>
      <bpmn:callActivity id="call" calledElement="child"/>
      <bpmn:sequenceFlow id="p2" sourceRef="call" targetRef="pe"/><bpmn:endEvent id="pe"/>
    </bpmn:process></bpmn:definitions>"""
    child = f"""<bpmn:definitions {ns}><bpmn:process id="child" isExecutable="true">
      <bpmn:startEvent id="cs"/><bpmn:sequenceFlow id="c1" sourceRef="cs" targetRef="fill"/>
      <bpmn:userTask id="fill"/>{child_tail}<bpmn:endEvent id="ce"/>
    </bpmn:process></bpmn:definitions>"""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(parent.encode(), "parent.bpmn")
    parser.add_bpmn_str(child.encode(), "child.bpmn")
    text = spec_to_json(parser.get_spec("parent"), parser.get_subprocess_specs("parent"))
    return specs.ensure(f"test-call-{hash(text)}", lambda: text)


def test_engine_migrates_a_live_subprocess() -> None:
    spec, deps = _call_bundle('<bpmn:sequenceFlow id="c2" sourceRef="fill" targetRef="ce"/>')
    new_spec, new_deps = _call_bundle(
        '<bpmn:sequenceFlow id="c2" sourceRef="fill" targetRef="extra"/>'
        '<bpmn:scriptTask id="extra"><bpmn:script>child_extra = 1</bpmn:script></bpmn:scriptTask>'
        '<bpmn:sequenceFlow id="c3" sourceRef="extra" targetRef="ce"/>'
    )
    script_engine = make_script_engine()
    workflow = runner.load(runner.dumps(runner.start(spec, deps, {}, script_engine)), script_engine)

    plan = plan_migration(workflow, new_spec, new_deps)
    assert plan.allowed and plan.added == ["child/extra"]
    apply_migration(workflow, plan, new_spec, new_deps)
    workflow = runner.load(runner.dumps(workflow), script_engine)  # lean state, new spec key
    assert workflow.spec is new_spec
    (task,) = runner.snapshot(workflow).ready_tasks
    runner.complete(workflow, task.id, {})
    assert runner.snapshot(workflow).data["child_extra"] == 1
