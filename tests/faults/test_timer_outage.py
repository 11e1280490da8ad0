"""Timers that fall due while the background worker is down fire once it is back — once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db import make_engine
from app.models import AuditEvent, HumanTask, ProcessInstance
from tests.faults.conftest import FLASK, REPO, app_env, prepare_database

pytestmark = pytest.mark.postgres  # real processes against a scratch PostgreSQL

INSTANCES = 4
DUE_AFTER_S = 12
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  id="defs_outage_timer" targetNamespace="http://creditflow.example/bpmn">
  <bpmn:process id="outage_timer" name="故障测试：定时器" isExecutable="true">
    <bpmn:laneSet id="lanes_outage_timer">
      <bpmn:lane id="lane_enterprise" name="enterprise">
        <bpmn:flowNodeRef>confirm</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="confirm" />
    <bpmn:userTask id="confirm" name="确认">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="confirm_form.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="confirm" targetRef="end_done" />
    <bpmn:endEvent id="end_done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:boundaryEvent id="deadline" name="到期" attachedToRef="confirm">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="deadline_timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT__S"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="deadline" targetRef="mark" />
    <bpmn:scriptTask id="mark" name="记录超时">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>outcome = "timeout"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="mark" targetRef="end_timeout" />
    <bpmn:endEvent id="end_timeout"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
FORM = """{"type": "object", "properties": {"claim": {"type": "string"}},
 "additionalProperties": false}"""


def _worker(tmp: Path, url: str, name: str) -> subprocess.Popen[str]:
    log = (tmp / f"worker-{name}.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [FLASK, "--app", "wsgi", "worker", "--interval", "0.3"],
        cwd=REPO,
        env=app_env(tmp, url),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    log.close()
    return proc


def _wait_started(tmp: Path, name: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    log = tmp / f"worker-{name}.log"
    while "worker started" not in log.read_text(encoding="utf-8"):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)


def _state(url: str) -> dict[str, object]:
    """Instance statuses, timer-fired audit entries per instance, task states, latest due."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "instances": Counter(conn.scalars(select(ProcessInstance.status)).all()),
                "fired": Counter(
                    conn.scalars(
                        select(AuditEvent.object_id).where(
                            AuditEvent.action == "instance.timer_fired"
                        )
                    ).all()
                ),
                "tasks": Counter(conn.scalars(select(HumanTask.state)).all()),
                "due": conn.scalar(select(func.max(ProcessInstance.next_timer_due))),
            }
    finally:
        engine.dispose()


def test_timers_due_while_the_worker_is_down_fire_once_after_restart(
    scratch_url: str, tmp_path: Path
) -> None:
    bundle = tmp_path / "outage_timer"
    bundle.mkdir()
    (bundle / "outage_timer.bpmn").write_text(BPMN.replace("__", str(DUE_AFTER_S)), "utf-8")
    (bundle / "confirm_form.json").write_text(FORM, "utf-8")
    prepare_database(tmp_path, scratch_url, (bundle,))

    first = _worker(tmp_path, scratch_url, "first")
    try:
        _wait_started(tmp_path, "first", first)
        started = time.monotonic()
        prepare_database(
            tmp_path, scratch_url, starts=(("outage_timer", "ent_chengxi", INSTANCES),), setup=False
        )
        os.killpg(first.pid, signal.SIGKILL)  # the worker dies before anything is due
        first.wait(10)
        assert time.monotonic() - started < DUE_AFTER_S, "machine too slow for this timing"
        state = _state(scratch_url)
        assert state["instances"] == Counter(running=INSTANCES) and not state["fired"], state
    finally:
        _stop(first)

    # Every timer falls due while no worker runs.
    due = state["due"]
    assert isinstance(due, datetime)
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds() + 1.0))
    state = _state(scratch_url)
    assert state["instances"] == Counter(running=INSTANCES) and not state["fired"], state

    # Back up: two workers at once (as after a restart with several nodes).
    workers = [_worker(tmp_path, scratch_url, name) for name in ("second", "third")]
    try:
        deadline = time.monotonic() + 60
        while _state(scratch_url)["instances"] != Counter(completed=INSTANCES):
            assert time.monotonic() < deadline, _state(scratch_url)
            time.sleep(0.3)
        time.sleep(1.5)  # a few more rounds: nothing fires twice
        state = _state(scratch_url)
    finally:
        for proc in workers:
            _stop(proc)
    assert state["fired"] == Counter({str(i): 1 for i in range(1, INSTANCES + 1)}), state
    assert state["tasks"] == Counter(cancelled=INSTANCES), state  # the deadline path was taken
