"""Loops the supported way, restarts between timers, and the sandbox in a running instance."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from app.engine import runner, specs
from app.models import Incident, ProcessInstance
from app.services import host, instances, tasks, timers
from tests.engine_fixtures import deploy_test_bundle, only_task, user


def test_a_loop_of_two_thousand_iterations_completes(seeded: Session) -> None:
    deploy_test_bundle(seeded, "loop_counter")
    instance = instances.start_instance(
        seeded, "loop_counter", {"counter": 0, "limit": 2000}, user(seeded, "rev_samr")
    )
    seeded.commit()
    assert instance.status == "completed"
    data = runner.snapshot(host.load(seeded, instance)).data
    assert data["counter"] == 2000


def test_a_restart_between_steps_loses_nothing(seeded: Session) -> None:
    deploy_test_bundle(seeded, "review_case")
    ent = user(seeded, "ent_chengxi")
    instance = instances.start_instance(seeded, "review_case", {}, ent)
    seeded.commit()
    tasks.complete(
        seeded, only_task(seeded, instance.id, "submit_application").id, {"claim": "申请"}, ent
    )
    seeded.commit()
    due = instance.next_timer_due
    specs.clear()  # a new worker process: nothing cached
    seeded.expire_all()
    assert timers.fire_due_timers(due + timedelta(minutes=5)) == 1
    seeded.expire_all()
    assert seeded.get(ProcessInstance, instance.id).status == "completed"


def test_an_endless_script_becomes_an_incident(seeded: Session) -> None:
    deploy_test_bundle(
        seeded, "review_case", **{"review_case.bpmn": "checked = True=>while True:\n    pass"}
    )
    ent = user(seeded, "ent_chengxi")
    instance = instances.start_instance(seeded, "review_case", {}, ent)
    seeded.commit()
    submit = only_task(seeded, instance.id, "submit_application")
    try:
        tasks.complete(seeded, submit.id, {"claim": "申请"}, ent)
    except host.ProcessIncidentError as exc:
        assert "时限" in exc.message
    else:  # pragma: no cover - the sandbox must stop the loop
        raise AssertionError("endless loop was not stopped")
    seeded.commit()
    incident = seeded.query(Incident).filter_by(instance_id=instance.id).one()
    assert incident.element_id == "prepare_review"


def test_memoized_serialization_matches_a_plain_serializer(seeded: Session) -> None:
    """The per-worker workflow cache and task memo must never change what is stored."""
    from datetime import date
    from decimal import Decimal
    from pathlib import Path

    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    from app.engine import serializer
    from app.services import live_workflows
    from app.services.definitions import deploy_bundle, read_bundle_dir

    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = serializer._LeanWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"])
    )
    plain = BpmnWorkflowSerializer(registry)

    deploy_bundle(seeded, read_bundle_dir(Path(__file__).parents[2] / "bench" / "bpmn"))
    reviewer = user(seeded, "rev_samr")
    instance = instances.start_instance(seeded, "bench_review", {}, reviewer)
    seeded.commit()
    for round_no in range(25):
        task = only_task(seeded, instance.id, "review_round")
        tasks.complete(
            seeded, task.id, {"decision": "return", "opinion": f"第{round_no}轮"}, reviewer
        )
        seeded.commit()
        # Every few rounds: the stored state equals a plain (memo-free) serialization of the
        # cached object, while the loop task is still running and its data keeps changing.
        if round_no % 6 == 5 or round_no == 24:
            stored = seeded.get(ProcessInstance, instance.id).state
            workflow = live_workflows.take(instance.id, stored)
            assert workflow is not None  # the committed object was cached
            assert plain.serialize_json(workflow) == stored
            live_workflows.keep_after_commit(seeded, instance.id, stored, workflow)
            seeded.commit()


def test_memory_and_cpu_bombs_at_run_time_become_incidents(seeded: Session) -> None:
    """Scripts that only misbehave when they run are stopped by the sandbox's guards."""
    bombs = {
        "memory": "blob = 'x' * 10**10",
        "bignum": "n = 10**10**10",
        "amplify": "s = 'a'.ljust(10**10)",
    }
    ent = user(seeded, "ent_chengxi")
    for name, script in bombs.items():
        deploy_test_bundle(
            seeded, "review_case", **{"review_case.bpmn": f"checked = True=>{script}"}
        )
        instance = instances.start_instance(seeded, "review_case", {}, ent)
        seeded.commit()
        submit = only_task(seeded, instance.id, "submit_application")
        try:
            tasks.complete(seeded, submit.id, {"claim": "申请"}, ent)
        except host.ProcessIncidentError as exc:
            assert "sandbox limit" in exc.message, (name, exc.message)
        else:  # pragma: no cover
            raise AssertionError(f"{name} bomb was not stopped")
        seeded.commit()
        assert seeded.get(ProcessInstance, instance.id).status == "error"


def test_a_failing_service_handler_names_its_element_and_error(seeded: Session) -> None:
    from app.services.handlers import HANDLERS

    def broken(ctx, params):  # type: ignore[no-untyped-def]
        raise LookupError("平台接口不可用")

    original = HANDLERS["system.echo"]
    HANDLERS["system.echo"] = broken
    try:
        deploy_test_bundle(seeded, "review_case")
        ent, reviewer = user(seeded, "ent_chengxi"), user(seeded, "rev_samr")
        instance = instances.start_instance(seeded, "review_case", {}, ent)
        tasks.complete(
            seeded, only_task(seeded, instance.id, "submit_application").id, {"claim": "申请"}, ent
        )
        review = only_task(seeded, instance.id, "review_application")
        try:
            tasks.complete(seeded, review.id, {"decision": "approve"}, reviewer)
        except host.ProcessIncidentError as exc:
            assert "平台接口不可用" in exc.message and "notify_platform" in exc.message
        else:  # pragma: no cover
            raise AssertionError("handler failure was not reported")
    finally:
        HANDLERS["system.echo"] = original
