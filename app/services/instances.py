"""Starting instances and reading them, scoped by the actor's permissions."""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.engine import runner
from app.engine.scripts import HELPER_NAMES
from app.models import (
    HumanTask,
    Incident,
    InstanceStatus,
    ProcessInstance,
    Role,
    Subject,
    User,
)
from app.services import audit, host
from app.services.definitions import get_version, load_specs
from app.services.errors import InvalidInputError, NotAllowedError, NotFoundError

logger = logging.getLogger(__name__)


RESERVED_KEYS = frozenset({"instance_id", "subject_uscc", "started_by", *HELPER_NAMES})


def check_start_data(data: Any) -> dict[str, Any]:
    """Start data is an object whose keys are plain names that shadow nothing of the engine."""
    if not isinstance(data, dict):
        raise InvalidInputError(_("data 必须是对象。"), {"data": [_("data 必须是对象。")]})
    bad = sorted(
        str(k)
        for k in data
        if not isinstance(k, str) or k in RESERVED_KEYS or k.startswith("_") or not k.isidentifier()
    )
    if bad:
        raise InvalidInputError(
            _("data 含有保留或无效的字段名。"),
            {k: [_("保留或无效的字段名，请改名。")] for k in bad},
        )
    return data


def start_instance(
    session: Session,
    process_key: str,
    data: dict[str, Any],
    actor: User,
    *,
    subject: Subject | None = None,
    department_id: int | None = None,
) -> ProcessInstance:
    """Start the latest version of `process_key` and run it until it waits."""
    check_start_data(data)
    if actor.role == Role.ENTERPRISE:
        subject = actor.subject
    elif actor.role not in (Role.APPROVER, Role.ADMIN):
        raise NotAllowedError(_("当前账号不能发起流程。"))
    extra = {"subject_uscc": subject.uscc if subject else None, "started_by": actor.username}
    department = department_id if department_id is not None else actor.department_id
    return _launch(session, process_key, data, extra, subject, department, actor, "user")


def _launch(
    session: Session,
    process_key: str,
    data: dict[str, Any],
    extra: dict[str, Any],
    subject: Subject | None,
    department_id: int | None,
    actor: User | None,
    started_via: str,
) -> ProcessInstance:
    """Create the instance row, start the workflow in a savepoint, save, audit.

    If the first run fails, the instance is kept unrun with an incident, so an operator can
    retry after fixing the cause (the caller commits before the error is raised).
    """
    version = get_version(session, process_key)
    spec, subprocess_specs = load_specs(version)
    instance = ProcessInstance(
        version_id=version.id,
        process_key=process_key,
        version=version,
        subject_id=subject.id if subject else None,
        department_id=department_id,
        status=InstanceStatus.RUNNING.value,
        state="",
        serializer_version="",
        started_by_id=actor.id if actor else None,
    )
    session.add(instance)
    session.flush()
    start_data = {**data, "instance_id": instance.id, **extra}
    try:
        with host.engine_step(session, instance, {"type": "start"}, actor):
            workflow = _start_workflow(session, instance, spec, subprocess_specs, start_data, actor)
            host.save(session, instance, workflow)
    except host.ProcessIncidentError:
        workflow = runner.new_unstarted(
            spec, subprocess_specs, start_data, host.script_engine_for(session, instance, actor)
        )
        instance.state = runner.dumps(workflow)
        raise
    audit.record(
        session,
        "instance.started",
        actor=actor,
        object_type="process_instance",
        object_id=str(instance.id),
        details={"process_key": process_key, "version": version.version, "via": started_via},
    )
    logger.info("instance %s of %s started via %s", instance.id, process_key, started_via)
    return instance


def _start_workflow(
    session: Session,
    instance: ProcessInstance,
    spec: Any,
    subprocess_specs: dict[str, Any],
    start_data: dict[str, Any],
    actor: User | None,
) -> Any:
    """Start; a process that begins with a message start event gets its data as that message."""
    workflow = runner.start(
        spec, subprocess_specs, start_data, host.script_engine_for(session, instance, actor)
    )
    for name in instance.version.start_messages or []:
        if any(waiting == name for waiting, _ in runner.snapshot(workflow).waiting_messages):
            runner.deliver_message(workflow, name, start_data, {})
            break
    return workflow


def start_instance_as_system(
    session: Session, process_key: str, data: dict[str, Any], actor: User | None
) -> ProcessInstance:
    """Start an instance for the system (message start events, integrations)."""
    subject = None
    if isinstance(data.get("subject_uscc"), str):
        subject = session.scalar(select(Subject).where(Subject.uscc == data["subject_uscc"]))
    department = actor.department_id if actor else None
    return _launch(session, process_key, data, {}, subject, department, actor, "message")


def can_view_instance(session: Session, actor: User, instance: ProcessInstance) -> bool:
    """Participants, process owners and admins see an instance."""
    if actor.role in (Role.PROCESS_OWNER, Role.ADMIN):
        return True
    if actor.role == Role.ENTERPRISE:
        return instance.subject_id is not None and instance.subject_id == actor.subject_id
    if instance.started_by_id == actor.id or instance.department_id == actor.department_id:
        return True
    return (
        session.scalar(
            select(func.count())
            .select_from(HumanTask)
            .where(
                HumanTask.instance_id == instance.id, HumanTask.department_id == actor.department_id
            )
        )
        > 0
    )


def get_instance(session: Session, instance_id: int, actor: User) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or not can_view_instance(session, actor, instance):
        raise NotFoundError(_("流程实例不存在或您无权查看。"))
    return instance


def scoped_instances(actor: User) -> Select[tuple[ProcessInstance]]:
    """The instances an actor may list."""
    query = select(ProcessInstance)
    if actor.role == Role.ENTERPRISE:
        return query.where(ProcessInstance.subject_id == actor.subject_id)
    if actor.role == Role.APPROVER:
        participated = select(HumanTask.instance_id).where(
            HumanTask.department_id == actor.department_id
        )
        return query.where(
            (ProcessInstance.department_id == actor.department_id)
            | ProcessInstance.id.in_(participated)
        )
    return query


def instance_dict(session: Session, instance: ProcessInstance, actor: User) -> dict[str, Any]:
    """The API shape of an instance (CONTRACT §5)."""
    from app.services.tasks import task_dict

    subject = session.get(Subject, instance.subject_id) if instance.subject_id else None
    tasks = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id).order_by(HumanTask.created_at)
    ).all()
    incidents = session.scalars(
        select(Incident).where(Incident.instance_id == instance.id, Incident.resolved_at.is_(None))
    ).all()
    history = audit.history_for(session, "process_instance", str(instance.id))
    return {
        "id": instance.id,
        "process_key": instance.process_key,
        "version": instance.version.version,
        "status": instance.status,
        "subject_uscc": subject.uscc if subject else None,
        "created_at": instance.created_at.isoformat(),
        "updated_at": instance.updated_at.isoformat(),
        "next_timer_due": instance.next_timer_due.isoformat() if instance.next_timer_due else None,
        "tasks": [task_dict(t) for t in tasks],
        "incidents": [
            {
                "id": i.id,
                "element_id": i.element_id,
                "line": i.line,
                "message": i.message,
                "created_at": i.created_at.isoformat(),
            }
            for i in incidents
        ],
        "history": history,
        "documents": [],
    }
