"""Background jobs as Celery tasks: a real worker and beat on Redis and PostgreSQL.

The test process only writes work into the database (instances with timers, document
requests) and watches it get done by the Celery worker the beat schedule drives.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, Document, OutboxEvent, ProcessInstance, Subject, User
from app.services import documents, instances
from app.services.documents.issue import request_document
from app.services.uow import transaction
from tests.prod.conftest import ROOT, Stack

pytestmark = pytest.mark.postgres

CHENGXI = "91310114MA1GT8QX92"  # a seeded subject the notices are addressed to
NOTICE = {
    "matter_name": "食品经营许可",
    "authority": "上海市嘉定区市场监督管理局",
    "materials": [{"name": "卫生检测报告", "days": 20, "due_on": "2026-12-18"}],
    "consequences": "逾期未补齐的，终止办理。",
}


def start_waiting(stack: Stack, wait: str, count: int = 1) -> list[int]:
    """Instances of the test process `prod_wait`, each waiting on a timer of `wait`."""
    with stack.app.app_context(), transaction() as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        subject = session.scalar(select(Subject).where(Subject.uscc == CHENGXI))
        return [
            instances.start_instance(
                session, "prod_wait", {"wait": wait}, admin, subject=subject
            ).id
            for _ in range(count)
        ]


def request_notices(stack: Stack, instance_ids: list[int]) -> None:
    with stack.app.app_context(), transaction() as session:
        for instance_id in instance_ids:
            request_document(session, "rongque_notice", instance_id=instance_id, payload=NOTICE)


def query(stack: Stack, statement: Any) -> list[Any]:
    with stack.app.app_context(), transaction() as session:
        return list(session.execute(statement).all())


def statuses(stack: Stack, ids: list[int]) -> dict[int, str]:
    rows = query(stack, select(ProcessInstance.id, ProcessInstance.status).where(_in(ids)))
    return dict(rows)  # type: ignore[arg-type]


def _in(ids: list[int]) -> Any:
    return ProcessInstance.id.in_(ids)


def timer_fired_counts(stack: Stack, ids: list[int]) -> dict[int, int]:
    rows = query(
        stack,
        select(AuditEvent.object_id, func.count())
        .where(
            AuditEvent.action == "instance.timer_fired",
            AuditEvent.object_id.in_([str(i) for i in ids]),
        )
        .group_by(AuditEvent.object_id),
    )
    return {i: dict(rows).get(str(i), 0) for i in ids}  # type: ignore[arg-type]


def notices(stack: Stack, ids: list[int]) -> list[Any]:
    return query(
        stack,
        select(Document.instance_id, Document.serial, Document.sha256, Document.status).where(
            Document.instance_id.in_(ids), Document.kind == "rongque_notice"
        ),
    )


def outbox_states(stack: Stack, ids: list[int]) -> list[str]:
    rows = query(
        stack,
        select(OutboxEvent.state).where(
            OutboxEvent.instance_id.in_(ids), OutboxEvent.kind == "document"
        ),
    )
    return sorted(state for (state,) in rows)


def test_a_due_timer_fires_from_the_beat_schedule(stack: Stack) -> None:
    [instance_id] = start_waiting(stack, "PT2S")
    assert statuses(stack, [instance_id]) == {instance_id: "running"}

    stack.wait(
        "beat → worker to fire the timer",
        lambda: statuses(stack, [instance_id])[instance_id] == "completed",
        timeout=25,
    )
    assert timer_fired_counts(stack, [instance_id]) == {instance_id: 1}


def test_a_document_request_is_rendered_into_a_signed_pdf(stack: Stack) -> None:
    [instance_id] = start_waiting(stack, "P1D")
    request_notices(stack, [instance_id])

    [(_, serial, sha256, status)] = stack.wait(
        "the worker to issue the notice", lambda: notices(stack, [instance_id]), timeout=30
    )
    assert status == "valid" and serial
    pdf = documents.file_path(stack.storage, sha256).read_bytes()
    assert pdf.startswith(b"%PDF") and b"/ByteRange" in pdf  # signed (PAdES signature dict)
    assert outbox_states(stack, [instance_id]) == ["done"]

    # The platform event of the issue reaches the loopback receiver, signed, from the worker.
    def delivered() -> list[Any]:
        return [
            r
            for r in stack.receiver.accepted()
            if r.body["event"] == "document_issued" and r.body["data"]["serial"] == serial
        ]

    [delivery] = stack.wait("the webhook delivery of the issued notice", delivered, timeout=20)
    assert delivery.signature_ok and delivery.body["data"]["sha256"] == sha256
    assert delivery.headers["User-Agent"].startswith("CreditFlow")


def test_kill_9_of_the_worker_loses_nothing_and_repeats_nothing(stack: Stack) -> None:
    carriers = start_waiting(stack, "P1D", count=5)
    timers = start_waiting(stack, "PT4S", count=3)
    timers_due = time.monotonic() + 4
    request_notices(stack, carriers)

    # Crash the worker (main process and pool children) while it is issuing the documents.
    stack.wait("the first documents", lambda: notices(stack, carriers), timeout=30)
    stack.kill("worker")
    issued_before = len(notices(stack, carriers))
    assert issued_before < len(carriers), "the worker finished before the crash; use more work"

    # The timers fall due during the outage; beat keeps sending, nobody runs the sweeps.
    time.sleep(max(timers_due - time.monotonic(), 0) + 1.5)
    assert set(statuses(stack, timers).values()) == {"running"}
    assert len(notices(stack, carriers)) == issued_before

    stack.start_worker()
    stack.wait(
        "every document and timer after the restart",
        lambda: (
            len(notices(stack, carriers)) == len(carriers)
            and set(statuses(stack, timers).values()) == {"completed"}
            and outbox_states(stack, carriers) == ["done"] * len(carriers)
        ),
        timeout=40,
    )
    # Exactly once: one valid notice per request, distinct serials, each timer fired once.
    issued = notices(stack, carriers)
    assert sorted(row[0] for row in issued) == sorted(carriers)
    assert len({row[1] for row in issued}) == len(carriers)
    assert {row[3] for row in issued} == {"valid"}
    assert timer_fired_counts(stack, timers) == {i: 1 for i in timers}
    # Every issued notice's platform event is delivered; none under two delivery ids.
    serials = {row[1] for row in issued}

    def delivered() -> dict[str, set[str]]:
        keys: dict[str, set[str]] = {}
        for r in stack.receiver.accepted():
            if r.body["data"].get("serial") in serials:
                keys.setdefault(r.body["data"]["serial"], set()).add(r.key)
        return keys if set(keys) == serials else {}

    keys = stack.wait("the webhook deliveries of every notice", delivered, timeout=20)
    assert all(len(ids) == 1 for ids in keys.values()), keys


def test_run_prod_refuses_to_start_without_its_services() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL")}
    result = subprocess.run(
        ["scripts/run-prod.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr and "BROKER_URL" in result.stderr
    env["DATABASE_URL"] = "sqlite:///instance/creditflow.db"
    env["BROKER_URL"] = "redis://127.0.0.1:6379/11"
    result = subprocess.run(
        ["scripts/run-prod.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2 and "PostgreSQL" in result.stderr


def test_run_prod_serves_and_stops_cleanly_on_sigterm(stack: Stack) -> None:
    """scripts/run-prod.sh: migrate, gunicorn + worker + beat; SIGTERM ends every child."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **stack.env,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "CELERY_CONCURRENCY": "1",
        "CELERY_BEAT_SCHEDULE": str(stack.tmp / "run-prod-beat"),
    }
    log = stack.tmp / "run-prod.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["scripts/run-prod.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    return r.status == 200 and json.load(r)["db"] == "ok"
            except OSError:
                return proc.poll() is not None

        stack.wait("gunicorn to answer /healthz", healthy, timeout=40)
        assert proc.poll() is None, log.read_text()
        children = _descendants(proc.pid)
        assert len(children) >= 3  # gunicorn, the Celery worker, beat (and their children)

        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
        stack.wait("every child to exit", lambda: not [p for p in children if _alive(p)], 15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found += [int(child), *_descendants(int(child))]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
