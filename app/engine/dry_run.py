"""Engine helpers for test runs of drafts: service calls are recorded, never executed.

A test run uses the same sandbox as real instances (RestrictedPython, the per-evaluation time
limit, the script helpers), and the same `runner` functions to start, complete, fire timers
and deliver messages. Only two things differ:

- `DryRunScriptEngine.call_service` does not look up the registered handler. It records the
  call (element, handler name, evaluated parameters) and returns the sample result the user
  gave for that handler (`service_results[handler]`, default `{}`), so nothing outside the
  workflow object is touched.
- The state is serialized with the spec embedded (the library's default converter), because
  the draft the spec came from may change or disappear while the run is kept.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from app.engine import runner
from app.engine.errors import EngineError
from app.engine.sandbox import RestrictedTaskDataEnvironment, SandboxedScriptEngine
from app.i18n import N_


@dataclass
class ServiceCall:
    element_id: str
    name: str
    handler: str
    params: dict[str, Any]
    result: Any
    stamp: float  # time.time() of the call, to order it among completed tasks


class DryRunScriptEngine(SandboxedScriptEngine):
    """The sandboxed engine whose service tasks return sample results instead of running."""

    def __init__(
        self, helpers: Mapping[str, Any] | None, service_results: Mapping[str, Any]
    ) -> None:
        super().__init__(environment=RestrictedTaskDataEnvironment(helpers))
        self.service_results = dict(service_results)
        self.calls: list[ServiceCall] = []

    def call_service(self, task: Any, **kwargs: Any) -> str:
        handler = str(kwargs.get("operation_name") or "")
        params = {
            name: param.get("value")
            for name, param in (kwargs.get("operation_params") or {}).items()
        }
        result = copy.deepcopy(self.service_results.get(handler, {}))
        spec = task.task_spec
        self.calls.append(
            ServiceCall(
                element_id=spec.bpmn_id,
                name=spec.bpmn_name or spec.bpmn_id,
                handler=handler,
                params=runner.jsonable(params),
                result=result,
                stamp=time.time(),
            )
        )
        return json.dumps(result, ensure_ascii=False, default=str)


def make_engine(
    helpers: Mapping[str, Any] | None, service_results: Mapping[str, Any]
) -> DryRunScriptEngine:
    return DryRunScriptEngine(helpers, service_results)


def _registry() -> Any:
    registry = BpmnWorkflowSerializer.configure(dict(SPIFF_CONFIG))
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"])
    )
    return registry


# The library's own workflow converter: the spec and subprocess specs travel with the state.
SERIALIZER = BpmnWorkflowSerializer(_registry())


def dumps(workflow: BpmnWorkflow) -> str:
    return SERIALIZER.serialize_json(workflow)  # type: ignore[no-any-return]


def loads(state: str, engine: DryRunScriptEngine) -> BpmnWorkflow:
    """Restore a test run's workflow with the dry-run engine attached (never the default)."""
    try:
        workflow = SERIALIZER.deserialize_json(state)
    except (KeyError, ValueError, TypeError) as exc:
        raise EngineError(N_("无法恢复测试运行状态：%(error)s") % {"error": exc}) from exc
    workflow.script_engine = engine
    return workflow


def new(
    spec: Any, subprocess_specs: dict[str, Any], data: Mapping[str, Any], engine: Any
) -> BpmnWorkflow:
    """A workflow with its start data that has not run yet."""
    return runner.new_unstarted(spec, subprocess_specs, data, engine)


def start_messages(spec: Any) -> list[str]:
    """Names of the message start events of the process (their data arrives as the message)."""
    return sorted(
        {
            ts.event_definition.name
            for ts in spec.task_specs.values()
            if isinstance(ts, StartEvent)
            and isinstance(getattr(ts, "event_definition", None), MessageEventDefinition)
        }
    )


# --- what happened: the path taken ---------------------------------------------------------


@dataclass(frozen=True)
class TaskEvent:
    task_id: str
    element_id: str
    name: str
    type: str
    event: str  # completed | timer_fired | message
    stamp: float
    message: str | None = None  # the message name of a message event
    throwing: bool = False


def _all_tasks(workflow: BpmnWorkflow) -> list[Any]:
    tasks = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        tasks.extend(subprocess.tasks.values())
    return tasks


def element_type(spec: Any) -> str:
    """The BPMN element type of a task spec, e.g. userTask, exclusiveGateway."""
    name = type(spec).__name__
    aliases = {
        "SubWorkflowTask": "subProcess",
        "TransactionSubprocess": "subProcess",
        "CallActivity": "callActivity",
        "NoneTask": "task",
    }
    if name in aliases:
        return aliases[name]
    return name[:1].lower() + name[1:]


def _event_kind(spec: Any) -> tuple[str, str | None]:
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition):
        return "timer_fired", None
    if isinstance(definition, MessageEventDefinition):
        return "message", definition.name
    return "completed", None


def completed_ids(workflow: BpmnWorkflow) -> set[str]:
    """Ids of every completed task of the workflow and its subprocesses."""
    return {str(t.id) for t in _all_tasks(workflow) if t.state == TaskState.COMPLETED}


def newly_completed(workflow: BpmnWorkflow, before: set[str]) -> list[TaskEvent]:
    """BPMN elements completed since `before` was taken, oldest first."""
    events = []
    for task in _all_tasks(workflow):
        spec = task.task_spec
        bpmn_id = getattr(spec, "bpmn_id", None)
        if task.state != TaskState.COMPLETED or str(task.id) in before or not bpmn_id:
            continue
        if isinstance(spec, LoopTask):  # the loop/multi-instance wrapper of logged children
            continue
        kind, message = _event_kind(spec)
        events.append(
            TaskEvent(
                task_id=str(task.id),
                element_id=bpmn_id,
                name=spec.bpmn_name or bpmn_id,
                type=element_type(spec),
                event=kind,
                stamp=task.last_state_change,
                message=message,
                throwing=isinstance(spec, ThrowingEvent),
            )
        )
    return sorted(events, key=lambda e: e.stamp)


def path_ids(workflow: BpmnWorkflow) -> list[str]:
    """BPMN ids of every completed element (the path taken), for the diagram."""
    return sorted(
        {
            t.task_spec.bpmn_id
            for t in _all_tasks(workflow)
            if t.state == TaskState.COMPLETED and getattr(t.task_spec, "bpmn_id", None)
        }
    )


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The data as it stands: at the end, or of the most recently completed task."""
    if workflow.is_completed() and workflow.last_task is not None:
        return dict(workflow.last_task.data)
    done = [t for t in _all_tasks(workflow) if t.state == TaskState.COMPLETED]
    if not done:
        return dict(workflow.task_tree.data) if workflow.task_tree is not None else {}
    latest = max(done, key=lambda t: t.last_state_change)
    return dict(latest.data)


def find_task(workflow: BpmnWorkflow, task_id: str) -> Any | None:
    """Any task (any state) of the workflow or its subprocesses with this id, else None."""
    for task in _all_tasks(workflow):
        if str(task.id) == task_id:
            return task
    return None


def errored_task(workflow: BpmnWorkflow, element_id: str | None) -> Any | None:
    """The task in ERROR state (preferring `element_id`), else any task of that element."""
    tasks = _all_tasks(workflow)
    failed = [t for t in tasks if t.state == TaskState.ERROR]
    for task in failed:
        if task.task_spec.bpmn_id == element_id:
            return task
    if failed:
        return failed[0]
    return next((t for t in tasks if t.task_spec.bpmn_id == element_id), None)


def is_ready_user_task(task: Any) -> bool:
    return bool(task.state == TaskState.READY and task.task_spec.manual)
