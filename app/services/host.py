"""The unit of work around one engine step: lock, load, act, project, save.

Projections (inbox rows, message subscriptions, outbox, next timer due) are rewritten in the
same transaction as the instance state, so they can never disagree with it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import runner
from app.engine.errors import ProcessRuntimeError
from app.engine.sandbox import make_script_engine
from app.engine.scripts import script_helpers
from app.engine.serializer import SERIALIZER_VERSION
from app.i18n import translate_stored
from app.models import (
    Department,
    HumanTask,
    Incident,
    InstanceStatus,
    MessageSubscription,
    OutboxEvent,
    ProcessInstance,
    User,
)
from app.models.base import utcnow
from app.services import audit, live_workflows, notifications
from app.services.calendar import get_calendar
from app.services.definitions import load_specs
from app.services.errors import ConflictError, NotFoundError
from app.services.handlers import HANDLERS, HandlerContext

logger = logging.getLogger(__name__)


@dataclass
class HostSettings:
    timezone: str = "Asia/Shanghai"


SETTINGS = HostSettings()


class ProcessIncidentError(ConflictError):
    """The engine failed; the incident was recorded and must be kept (commit, then raise)."""

    code = "process_incident"
    commit_before_raise = True


def script_engine_for(
    session: Session, instance: ProcessInstance, actor: User | None = None
) -> PythonScriptEngine:
    """The sandboxed engine with helpers and the service-task bridge of this unit of work."""

    def call_service(
        context: dict[str, Any], operation_name: str, operation_params: dict[str, Any]
    ) -> str:
        handler = HANDLERS.get(operation_name)
        if handler is None:
            raise ValueError(f"unknown service task handler {operation_name!r}")
        params = {name: p.get("value") for name, p in operation_params.items()}
        result = handler(HandlerContext(session, instance, context, actor), params)
        return json.dumps(result, ensure_ascii=False, default=str)

    helpers = script_helpers(get_calendar(session), SETTINGS.timezone)
    return make_script_engine(helpers, call_service)


def lock_instance(session: Session, instance_id: int) -> ProcessInstance:
    """The instance row, locked for this transaction (SELECT … FOR UPDATE)."""
    instance = session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update(of=ProcessInstance)
        .execution_options(populate_existing=True)
    )
    if instance is None:
        raise NotFoundError(_("流程实例不存在。"))
    return instance


def load(session: Session, instance: ProcessInstance, actor: User | None = None) -> BpmnWorkflow:
    """The only way to restore a workflow: specs from the cache, the sandboxed engine attached.

    A workflow this worker saved and committed is reused when the stored state is exactly
    what it saved (no deserialization); anything else is restored from the stored state.
    """
    load_specs(instance.version)
    engine = script_engine_for(session, instance, actor)
    workflow = live_workflows.take(instance.id, instance.state)
    if workflow is not None:
        workflow.script_engine = engine
        return workflow
    return runner.load(instance.state, engine)


@contextmanager
def engine_step(
    session: Session, instance: ProcessInstance, action: dict[str, Any], actor: User | None
) -> Iterator[None]:
    """Run the block in a savepoint; a runtime failure becomes an incident on the instance."""
    try:
        with session.begin_nested():
            yield
    except ProcessRuntimeError as exc:
        record_incident(session, instance, exc, action, actor)
        raise ProcessIncidentError(
            _(
                "流程运行出错（%(element)s）：%(error)s。已记录为运行事件，"
                "流程管理员处理后可重试；您提交的内容未丢失。",
                element=exc.element_id or _("未知环节"),
                error=translate_stored(exc.message),
            ),
            details={"element_id": exc.element_id, "line": exc.line},
        ) from exc


def record_incident(
    session: Session,
    instance: ProcessInstance,
    exc: ProcessRuntimeError,
    action: dict[str, Any],
    actor: User | None,
) -> Incident:
    incident = Incident(
        instance_id=instance.id,
        element_id=exc.element_id,
        line=exc.line,
        message=exc.message[:4000],
        action=action,
    )
    session.add(incident)
    instance.status = InstanceStatus.ERROR.value
    session.flush()
    audit.record(
        session,
        "instance.incident",
        actor=actor,
        object_type="process_instance",
        object_id=str(instance.id),
        details={"element_id": exc.element_id, "line": exc.line, "message": exc.message[:500]},
    )
    logger.warning("incident on instance %s at %s: %s", instance.id, exc.element_id, exc.message)
    return incident


def save(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> runner.Snapshot:
    """Persist state and rewrite every projection from it."""
    for message in runner.drain_messages(workflow):
        session.add(
            OutboxEvent(
                instance_id=instance.id,
                kind="bpmn_message",
                name=message.name,
                payload=_jsonable(message.payload),
                correlations=_jsonable(message.correlations),
            )
        )
    snap = runner.snapshot(workflow)
    instance.state = runner.dumps(workflow)
    live_workflows.keep_after_commit(session, instance.id, instance.state, workflow)
    instance.serializer_version = SERIALIZER_VERSION
    instance.next_timer_due = snap.next_timer_due
    instance.updated_at = utcnow()
    if snap.completed:
        instance.status = InstanceStatus.COMPLETED.value
        instance.completed_at = utcnow()
        notifications.instance_finished(session, instance)
    _project_tasks(session, instance, snap)
    _project_subscriptions(session, instance, snap)
    session.flush()
    return snap


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _department_ids(session: Session) -> dict[str, int]:
    return {d.code: d.id for d in session.scalars(select(Department))}


def _project_tasks(session: Session, instance: ProcessInstance, snap: runner.Snapshot) -> None:
    open_rows = {
        row.id: row
        for row in session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance.id, HumanTask.state == "ready"
            )
        )
    }
    ready = {view.id: view for view in snap.ready_tasks}
    for task_id, row in open_rows.items():
        if task_id not in ready:  # cancelled by the engine (timer, terminate, cancelled branch)
            row.state = "cancelled"
            row.completed_at = utcnow()
    departments: dict[str, int] | None = None
    for task_id, view in ready.items():
        row = open_rows.get(task_id) or session.get(HumanTask, task_id)
        if row is not None:
            row.due_at = view.due_at
            continue
        department_id = instance.department_id
        code = view.data.get("department")
        if isinstance(code, str):
            departments = departments or _department_ids(session)
            department_id = departments.get(code, department_id)
        new_task = HumanTask(
            id=task_id,
            instance_id=instance.id,
            process_key=instance.process_key,
            bpmn_id=view.bpmn_id,
            name=view.name[:200],  # the column's size: a long BPMN name must not fail
            lane=view.lane,
            department_id=department_id,
            subject_id=instance.subject_id,
            state="ready",
            form_file=view.form_file,
            due_at=view.due_at,
        )
        session.add(new_task)
        notifications.task_created(session, new_task)


def _project_subscriptions(
    session: Session, instance: ProcessInstance, snap: runner.Snapshot
) -> None:
    """Make the subscription rows match what the instance waits for (unchanged rows stay)."""
    wanted = [(name, _jsonable(correlations)) for name, correlations in snap.waiting_messages]
    for row in session.scalars(
        select(MessageSubscription).where(MessageSubscription.instance_id == instance.id)
    ):
        key = (row.message_name, row.correlations)
        if key in wanted:
            wanted.remove(key)
        else:
            session.delete(row)
    for name, correlations in wanted:
        session.add(
            MessageSubscription(
                instance_id=instance.id, message_name=name, correlations=correlations
            )
        )


def run_step(
    session: Session,
    instance: ProcessInstance,
    actor: User | None,
    action: dict[str, Any],
    act: Callable[[BpmnWorkflow], None],
) -> runner.Snapshot:
    """Load, act, save inside a savepoint; failures become incidents (see engine_step)."""
    with engine_step(session, instance, action, actor):
        workflow = load(session, instance, actor)
        act(workflow)
        return save(session, instance, workflow)
