"""Run SpiffWorkflow instances: start, restore, complete, fire timers, deliver messages.

Callers never touch SpiffWorkflow objects beyond what these functions return. Every restore
goes through `load`, which attaches the sandboxed script engine (the library would otherwise
silently restore its unsafe default engine).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from app.engine import clock, serializer
from app.engine.errors import MessageNotWaitedError, ProcessRuntimeError, TaskNotReadyError
from app.engine.sandbox import SandboxError
from app.i18n import N_

clock.install()
MAX_TIMER_ROUNDS = 50


@dataclass(frozen=True)
class UserTaskView:
    id: str
    bpmn_id: str
    name: str
    lane: str | None
    form_file: str | None
    data: dict[str, Any]
    due_at: datetime | None
    instructions: str | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    name: str
    payload: dict[str, Any]
    correlations: dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """What the host persists after every step."""

    completed: bool
    ready_tasks: list[UserTaskView]
    known_task_ids: set[str]
    waiting_messages: list[tuple[str, dict[str, Any]]]
    next_timer_due: datetime | None
    data: dict[str, Any] = field(default_factory=dict)


def _runtime_error(exc: Exception) -> ProcessRuntimeError:
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None) or getattr(exc, "task_spec", None)
    element = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    message = str(exc)
    if isinstance(getattr(exc, "error", None), SandboxError):
        message = str(exc.error)  # type: ignore[attr-defined]
    return ProcessRuntimeError(
        message,
        element_id=element,
        line=getattr(exc, "line_number", None) or None,
        error_line=getattr(exc, "error_line", None) or None,
    )


def _guarded(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except (
        SpiffWorkflowException,
        SandboxError,
        NameError,
        TypeError,
        ValueError,
        KeyError,
        ZeroDivisionError,
        RecursionError,
        MemoryError,
    ) as exc:
        raise _runtime_error(exc) from exc


def start(
    spec: Any, subprocess_specs: dict[str, Any], data: Mapping[str, Any], engine: PythonScriptEngine
) -> BpmnWorkflow:
    """Create an instance with `data` as its start data and run it until it waits."""
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=engine)
    workflow.get_next_task(state=TaskState.READY).data.update(copy.deepcopy(dict(data)))
    _guarded(_run, workflow)
    return workflow


def new_unstarted(
    spec: Any, subprocess_specs: dict[str, Any], data: Mapping[str, Any], engine: PythonScriptEngine
) -> BpmnWorkflow:
    """An instance with its start data that has not run yet (kept when the first run fails)."""
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=engine)
    workflow.get_next_task(state=TaskState.READY).data.update(copy.deepcopy(dict(data)))
    return workflow


def run(workflow: BpmnWorkflow) -> None:
    """Run engine steps until the instance waits (used to retry a failed start)."""
    _guarded(_run, workflow)


def load(state: str, engine: PythonScriptEngine) -> BpmnWorkflow:
    """Restore an instance and attach the sandboxed engine (never the library default)."""
    workflow = serializer.loads(state)
    workflow.script_engine = engine
    return workflow


def dumps(workflow: BpmnWorkflow) -> str:
    return serializer.dumps(workflow)


def _run(workflow: BpmnWorkflow) -> None:
    workflow.do_engine_steps()
    # do_engine_steps refreshes timers only at its end; a timer that fired there needs steps.
    for _ in range(MAX_TIMER_ROUNDS):
        if not any(t for t in workflow.get_tasks(state=TaskState.READY) if not t.task_spec.manual):
            return
        workflow.do_engine_steps()


def ready_task(workflow: BpmnWorkflow, task_id: str) -> Any:
    """The READY manual task with this id, or TaskNotReadyError."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError, SpiffWorkflowException) as exc:
        raise TaskNotReadyError(N_("任务不存在。")) from exc
    if task is None or task.state != TaskState.READY or not task.task_spec.manual:
        raise TaskNotReadyError(N_("该任务已不在待办状态（可能已被处理或已取消）。"))
    return task


def complete(workflow: BpmnWorkflow, task_id: str, form_data: Mapping[str, Any]) -> None:
    """Complete a READY user task with the (validated) form data and run until waiting."""
    task = ready_task(workflow, task_id)
    task.data.update(copy.deepcopy(dict(form_data)))
    _guarded(task.run)
    _guarded(_run, workflow)


def fire_timers(workflow: BpmnWorkflow) -> None:
    """Fire whatever timers are due at the engine clock's instant."""
    for _ in range(MAX_TIMER_ROUNDS):
        due = next_timer_due(workflow)
        if due is None or due > clock.now():
            return
        _guarded(workflow.refresh_timers)
        _guarded(_run, workflow)


def deliver_message(
    workflow: BpmnWorkflow, name: str, payload: Mapping[str, Any], correlation: Mapping[str, Any]
) -> None:
    """Deliver a message; correlation values are matched against the instance's keys."""
    correlations = {
        key: {prop: correlation[prop] for prop in props}
        for key, props in workflow.correlations.items()
        if all(prop in correlation for prop in props)
    }
    event = BpmnEvent(
        _message_definition(workflow, name),
        payload={**correlation, **payload},
        correlations=correlations,
    )
    try:
        workflow.send_event(event)
    except SpiffWorkflowException as exc:
        if "not waiting" in str(exc):
            raise MessageNotWaitedError(
                N_("该流程实例当前不在等待消息 %(name)s。") % {"name": name}
            ) from exc
        raise _runtime_error(exc) from exc
    except (NameError, KeyError) as exc:
        raise MessageNotWaitedError(N_("消息缺少关联字段：%(error)s") % {"error": exc}) from exc
    _guarded(_run, workflow)


def _message_definition(workflow: BpmnWorkflow, name: str) -> Any:
    for task in workflow.event_manager.tasks.values():
        for definition in _definitions(task.task_spec.event_definition):
            if isinstance(definition, MessageEventDefinition) and definition.name == name:
                return type(definition)(name)
    raise MessageNotWaitedError(N_("该流程实例当前不在等待消息 %(name)s。") % {"name": name})


def _definitions(event_definition: Any) -> list[Any]:
    if isinstance(event_definition, MultipleEventDefinition):
        return list(event_definition.event_definitions)
    return [event_definition]


def drain_messages(workflow: BpmnWorkflow) -> list[OutgoingMessage]:
    """Messages thrown that nothing in this instance catches (routed by the host)."""
    return [
        OutgoingMessage(
            event.event_definition.name, dict(event.payload or {}), dict(event.correlations or {})
        )
        for event in workflow.get_events()
        if isinstance(event.event_definition, MessageEventDefinition)
    ]


def next_timer_due(workflow: BpmnWorkflow) -> datetime | None:
    """The earliest due time among waiting timers (incl. event-based gateways)."""
    dues = []
    for task in workflow.event_manager.tasks.values():
        definitions = _definitions(task.task_spec.event_definition)
        if not any(isinstance(d, TimerEventDefinition) for d in definitions):
            continue
        value = task.internal_data.get("event_value")
        if isinstance(value, dict):
            value = value.get("next") if value.get("cycles") != 0 else None
        if isinstance(value, str):
            dues.append(TimerEventDefinition.parse_time_or_duration(value))
    return min(dues) if dues else None


def _all_tasks(workflow: BpmnWorkflow) -> list[Any]:
    tasks = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        tasks.extend(subprocess.tasks.values())
    return tasks


def _due_at(task: Any) -> datetime | None:
    """The due time of an interrupting boundary timer attached to the task."""
    parent = task.parent
    if parent is None:
        return None
    dues = []
    for sibling in parent.children:
        spec = sibling.task_spec
        definition = getattr(spec, "event_definition", None)
        if sibling is task or not isinstance(definition, TimerEventDefinition):
            continue
        if not getattr(spec, "cancel_activity", False):
            continue
        value = sibling.internal_data.get("event_value")
        if isinstance(value, str):
            dues.append(TimerEventDefinition.parse_time_or_duration(value))
    return min(dues) if dues else None


def _view(task: Any) -> UserTaskView:
    spec = task.task_spec
    extensions = getattr(spec, "extensions", {}) or {}
    properties = extensions.get("properties", {}) or {}
    return UserTaskView(
        id=str(task.id),
        bpmn_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane,
        form_file=properties.get("formJsonSchemaFilename"),
        data=task.data,
        due_at=_due_at(task),
        instructions=extensions.get("instructionsForEndUser"),
    )


def snapshot(workflow: BpmnWorkflow) -> Snapshot:
    """Everything the host projects into its tables after a step."""
    tasks = _all_tasks(workflow)
    ready = [_view(t) for t in tasks if t.state == TaskState.READY and t.task_spec.manual]
    waiting = []
    for task in workflow.event_manager.tasks.values():
        for definition in _definitions(task.task_spec.event_definition):
            if isinstance(definition, MessageEventDefinition):
                waiting.append((definition.name, dict(workflow.correlations)))
    completed = workflow.is_completed()
    data = dict(workflow.last_task.data) if completed and workflow.last_task else {}
    return Snapshot(
        completed=completed,
        ready_tasks=ready,
        known_task_ids={str(t.id) for t in tasks if t.task_spec.manual},
        waiting_messages=waiting,
        next_timer_due=None if completed else next_timer_due(workflow),
        data=data,
    )


def task_data(workflow: BpmnWorkflow, task_id: str) -> dict[str, Any]:
    return dict(ready_task(workflow, task_id).data)


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Task data as plain JSON values (dates, Decimals and UUIDs as strings)."""
    import json

    return json.loads(json.dumps(data, ensure_ascii=False, default=str))  # type: ignore[no-any-return]
