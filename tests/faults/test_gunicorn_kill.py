"""kill -9 of gunicorn workers during a load of task completions: none lost, none applied twice."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from app.db import make_engine
from app.models import AuditEvent, HumanTask
from tests.faults.conftest import (
    FLASK,
    REPO,
    Gunicorn,
    api_token,
    app_env,
    prepare_database,
    process_state,
)

pytestmark = pytest.mark.postgres  # real processes against a scratch PostgreSQL

INSTANCES = 90
CLIENTS = 6
KILLS = 3


def _complete_all(base: str, headers: dict[str, str], work: queue.Queue[str]) -> dict:
    """Complete tasks from `work` until it is empty; a failed connection is retried (new one).

    Returns, per task, the list of outcomes: HTTP status codes, or "conn" for a request that
    died with the worker."""
    outcomes: dict[str, list[object]] = {}
    lock = threading.Lock()

    def client() -> None:
        http = requests.Session()
        while True:
            try:
                task_id = work.get_nowait()
            except queue.Empty:
                return
            seen: list[object] = []
            for _attempt in range(8):
                try:
                    response = http.post(
                        f"{base}/api/v1/tasks/{task_id}/complete",
                        json={"data": {"claim": "负载测试"}},
                        headers=headers,
                        timeout=30,
                    )
                except requests.ConnectionError:
                    seen.append("conn")
                    http = requests.Session()
                    time.sleep(0.05)
                    continue
                seen.append(response.status_code)
                if response.status_code in (200, 409):
                    break
                time.sleep(0.05)
            with lock:
                outcomes[task_id] = seen

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    return {"threads": threads, "outcomes": outcomes}


def _kill_busy_worker(server: Gunicorn) -> int:
    """SIGKILL a worker, preferring one that is running right now (mid-request)."""
    deadline = time.monotonic() + 2
    pids = server.worker_pids()
    while time.monotonic() < deadline:
        busy = [pid for pid in server.worker_pids() if process_state(pid) == "R"]
        if busy:
            pids = busy
            break
        time.sleep(0.002)
    victim = pids[0]
    os.kill(victim, signal.SIGKILL)
    return victim


def test_killed_workers_lose_no_acknowledged_completion_and_apply_none_twice(
    scratch_url: str, tmp_path: Path
) -> None:
    prepared = prepare_database(
        tmp_path,
        scratch_url,
        (REPO / "tests/bpmn/review_case",),
        (("review_case", "ent_chengxi", INSTANCES),),
    )
    task_of = {item["tasks"][0]: item["instance"] for item in prepared}
    server = Gunicorn(tmp_path, app_env(tmp_path, scratch_url), workers=2)
    try:
        headers = api_token(server.base, "ent_chengxi")
        work: queue.Queue[str] = queue.Queue()
        for task_id in task_of:
            work.put(task_id)
        load = _complete_all(server.base, headers, work)
        killed = []
        for round_no in range(KILLS):
            # Kill while the load is running: after roughly a quarter, half, three quarters.
            while work.qsize() > INSTANCES * (KILLS - round_no) / (KILLS + 1):
                time.sleep(0.01)
            killed.append(_kill_busy_worker(server))
        for thread in load["threads"]:
            thread.join(120)
        outcomes: dict[str, list[object]] = load["outcomes"]
        assert not work.qsize() and len(outcomes) == INSTANCES
        assert all(pid not in server.worker_pids() for pid in killed)
        assert len(server.worker_pids()) == 2  # the master replaced them
    finally:
        server.stop()

    engine = make_engine(scratch_url)
    try:
        with engine.connect() as conn:
            states = dict(
                conn.execute(
                    select(HumanTask.id, HumanTask.state).where(HumanTask.id.in_(list(task_of)))
                ).all()
            )
            completions = Counter(
                dict(
                    conn.execute(
                        select(AuditEvent.object_id, func.count())
                        .where(AuditEvent.action == "task.completed")
                        .group_by(AuditEvent.object_id)
                    ).all()
                )
            )
            reviews = Counter(
                dict(
                    conn.execute(
                        select(HumanTask.instance_id, func.count())
                        .where(HumanTask.bpmn_id == "review_application")
                        .group_by(HumanTask.instance_id)
                    ).all()
                )
            )
    finally:
        engine.dispose()

    print(
        "killed", killed, "interrupted requests:",
        sum(seen.count("conn") for seen in outcomes.values()),
        "outcomes:", Counter(tuple(map(str, seen)) for seen in outcomes.values()),
    )  # fmt: skip
    for task_id, instance_id in task_of.items():
        seen = outcomes[task_id]
        # Every task ends answered: 200, or 409 because an interrupted attempt had committed.
        assert seen[-1] in (200, 409), (task_id, seen)
        assert seen.count(200) <= 1, (task_id, seen)
        if seen[-1] == 409:
            assert "conn" in seen, (task_id, seen)  # 409 only after a lost answer
        # Persisted exactly once, never half: task completed, one audit entry, one next task.
        assert states[task_id] == "completed", (task_id, seen)
        assert completions[str(instance_id)] == 1, (task_id, seen)
        assert reviews[instance_id] == 1, (task_id, seen)
    chain = subprocess.run(
        [FLASK, "--app", "wsgi", "audit", "verify"],
        cwd=REPO,
        env=app_env(tmp_path, scratch_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert chain.returncode == 0, chain.stdout + chain.stderr  # no torn or forked audit chain
