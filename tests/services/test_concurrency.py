"""Concurrency on PostgreSQL: row locks and lock versions keep every update, apply none twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, HumanTask, ProcessInstance
from app.services import instances, tasks, timers
from app.services.audit import verify_chain
from app.services.errors import ConflictError
from app.services.uow import transaction
from tests.engine_fixtures import deploy_test_bundle, user
from tests.live_db import live_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _once_per_run(backend: str) -> None:
    """These tests make their own PostgreSQL database; run them once, not per backend."""
    if not backend.startswith("postgresql"):
        pytest.skip("runs with the PostgreSQL backend")


def _in_threads(n: int, work: Callable[[int], object]) -> list[object]:
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the test
            results[i] = exc
        finally:
            db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _start(process_key: str, username: str, data: dict[str, object] | None = None) -> int:
    with transaction() as session:
        return instances.start_instance(
            session, process_key, data or {}, user(session, username)
        ).id


def _complete(task_id: str, username: str, data: dict[str, object]) -> str:
    with transaction() as session:
        tasks.complete(session, task_id, data, user(session, username))
    return "ok"


def _ready(instance_id: int) -> dict[str, str]:
    with transaction() as session:
        return {
            t.bpmn_id: t.id
            for t in session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == instance_id, HumanTask.state == "ready"
                )
            )
        }


def test_twenty_clicks_on_one_task_complete_it_once(app: Flask) -> None:
    with live_postgres(app):
        with transaction() as session:
            deploy_test_bundle(session, "review_case")
        instance_id = _start("review_case", "ent_chengxi")
        task_id = _ready(instance_id)["submit_application"]
        results = _in_threads(
            20, lambda i: _complete(task_id, "ent_chengxi", {"claim": f"第{i}次"})
        )
        assert results.count("ok") == 1, results
        assert all(isinstance(r, ConflictError) for r in results if r != "ok"), results
        with transaction() as session:
            done = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "task.completed")
            )
            assert done == 1
            assert list(_ready(instance_id)) == ["review_application"]
            assert verify_chain(session).ok


def test_two_tasks_of_one_instance_completed_at_once_are_both_kept(app: Flask) -> None:
    with live_postgres(app):
        with transaction() as session:
            deploy_test_bundle(session, "parallel_review")
        instance_id = _start("parallel_review", "rev_samr")
        ready = _ready(instance_id)
        jobs = [
            (ready["review_tax"], "rev_tax", "approve"),
            (ready["review_samr"], "rev_samr", "reject"),
        ]
        results = _in_threads(
            2, lambda i: _complete(jobs[i][0], jobs[i][1], {"decision": jobs[i][2]})
        )
        assert results == ["ok", "ok"]
        with transaction() as session:
            instance = session.get(ProcessInstance, instance_id)
            assert instance.status == "completed"
            from app.engine import runner
            from app.services import host

            workflow = host.load(session, instance)
            data = runner.snapshot(workflow).data
            assert (data["tax_decision"], data["samr_decision"]) == ("approve", "reject")


def test_a_due_timer_fires_exactly_once_with_two_workers(app: Flask) -> None:
    with live_postgres(app):
        with transaction() as session:
            deploy_test_bundle(session, "review_case")
        ids = [_start("review_case", "ent_chengxi") for _ in range(6)]
        for instance_id in ids:
            _complete(_ready(instance_id)["submit_application"], "ent_chengxi", {"claim": "申请"})
        with transaction() as session:
            due = session.scalar(select(func.max(ProcessInstance.next_timer_due)))
        fired = _in_threads(2, lambda i: timers.fire_due_timers(due + timedelta(seconds=1)))
        assert sum(fired) == 6, fired  # type: ignore[arg-type]
        with transaction() as session:
            audited = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "instance.timer_fired")
            )
            assert audited == 6
            statuses = set(session.scalars(select(ProcessInstance.status)))
            assert statuses == {"completed"}
