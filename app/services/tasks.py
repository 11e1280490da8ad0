"""Task actions: who may see, claim and complete a user task, and completing it."""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, object_session

from app.engine import runner
from app.models import HumanTask, InstanceStatus, ProcessInstance, Role, User
from app.models.base import utcnow
from app.services import audit, host
from app.services.errors import ConflictError, NotAllowedError, NotFoundError
from app.services.forms import validate_form

logger = logging.getLogger(__name__)


def is_candidate(actor: User, task: HumanTask) -> bool:
    """The lane maps to a role; approver lanes also need the task's department."""
    if task.lane == "enterprise":
        return actor.role == Role.ENTERPRISE and actor.subject_id == task.subject_id
    if actor.role != Role.APPROVER or actor.approver_role != task.lane:
        return False
    return task.department_id is None or task.department_id == actor.department_id


def can_view_task(actor: User, task: HumanTask) -> bool:
    if actor.role in (Role.ADMIN, Role.PROCESS_OWNER):
        return True
    if task.assignee_id == actor.id or task.completed_by_id == actor.id:
        return True
    if actor.role == Role.ENTERPRISE:
        return task.subject_id == actor.subject_id and task.lane == "enterprise"
    if actor.role != Role.APPROVER:
        return False
    if task.department_id == actor.department_id:
        return True
    if task.department_id is not None:
        return False
    if task.lane != "enterprise":
        return True  # approver steps without a department are shared by approvers
    # The applicant's own steps: only for approvers who take part in the case.
    from app.services.instances import can_view_instance

    session = object_session(task)
    instance = session.get(ProcessInstance, task.instance_id) if session else None
    return instance is not None and can_view_instance(session, actor, instance)


def get_task(session: Session, task_id: str, actor: User) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None or not can_view_task(actor, task):
        raise NotFoundError(_("任务不存在或您无权查看。"))
    return task


def _participating_instances(actor: User) -> Select[tuple[int]]:
    from app.services.instances import scoped_instances

    return scoped_instances(actor).with_only_columns(ProcessInstance.id)


def scoped_tasks(actor: User, scope: str, state: str) -> Select[tuple[HumanTask]]:
    """Inbox query: `mine` (assigned to me), `candidate` (I may claim) or `all` visible."""
    query = select(HumanTask).where(HumanTask.state == state)
    if scope == "mine":
        if state == "completed":
            return query.where(HumanTask.completed_by_id == actor.id)
        return query.where(HumanTask.assignee_id == actor.id)
    if actor.role == Role.ENTERPRISE:
        query = query.where(
            HumanTask.subject_id == actor.subject_id, HumanTask.lane == "enterprise"
        )
    elif actor.role == Role.APPROVER:
        query = query.where(
            (HumanTask.department_id == actor.department_id)
            | (
                HumanTask.department_id.is_(None)
                & (
                    (HumanTask.lane != "enterprise")
                    | HumanTask.instance_id.in_(_participating_instances(actor))
                )
            )
        )
        if scope == "candidate":
            query = query.where(HumanTask.lane == actor.approver_role)
    if scope == "candidate":
        query = query.where(HumanTask.assignee_id.is_(None))
    return query


def claim(session: Session, task_id: str, actor: User) -> HumanTask:
    """Take a task; 409 when someone else holds it or it is no longer open."""
    task = _lock_task(session, task_id, actor)
    if not is_candidate(actor, task):
        raise NotAllowedError(_("您不是该任务的候选处理人。"))
    if task.assignee_id not in (None, actor.id):
        raise ConflictError(_("该任务已被他人认领。"))
    task.assignee_id = actor.id
    audit.record(
        session,
        "task.claimed",
        actor=actor,
        object_type="process_instance",
        object_id=str(task.instance_id),
        details={"task": task.bpmn_id, "name": task.name},
    )
    return task


def unclaim(session: Session, task_id: str, actor: User) -> HumanTask:
    """Give a task back to the candidates (the holder, or a leader of its department)."""
    task = _lock_task(session, task_id, actor)
    leader = actor.approver_role == "leader" and actor.department_id == task.department_id
    if task.assignee_id != actor.id and not leader:
        raise ConflictError(_("只有认领人或本部门分管领导可以退回该任务。"))
    task.assignee_id = None
    audit.record(
        session,
        "task.unclaimed",
        actor=actor,
        object_type="process_instance",
        object_id=str(task.instance_id),
        details={"task": task.bpmn_id, "name": task.name},
    )
    return task


def _lock_task(session: Session, task_id: str, actor: User) -> HumanTask:
    task = session.scalar(
        select(HumanTask)
        .where(HumanTask.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if task is None or not can_view_task(actor, task):
        raise NotFoundError(_("任务不存在或您无权查看。"))
    _require_open(task)
    return task


def _require_open(task: HumanTask) -> None:
    if task.state == "completed":
        when = task.completed_at.isoformat(timespec="minutes") if task.completed_at else ""
        raise ConflictError(
            _("该任务已于 %(when)s 办理完毕，无需重复提交。", when=when),
            details={"state": "completed"},
        )
    if task.state != "ready":
        raise ConflictError(
            _("该任务已被撤销（流程已变化），请刷新查看最新状态。"), details={"state": task.state}
        )


def complete(
    session: Session, task_id: str, data: Any, actor: User
) -> tuple[ProcessInstance, list[HumanTask]]:
    """Validate the form, complete the task and run the instance until it waits."""
    task = get_task(session, task_id, actor)
    _require_open(task)
    if not is_candidate(actor, task):
        raise NotAllowedError(_("您不是该任务的处理人。"))
    if task.assignee_id not in (None, actor.id):
        raise ConflictError(_("该任务已被他人认领，请刷新。"))
    instance = host.lock_instance(session, task.instance_id)
    validate_form(instance.version.forms.get(task.form_file or ""), data)
    session.refresh(task)
    _require_open(task)
    if instance.status != InstanceStatus.RUNNING:
        raise ConflictError(
            _("流程实例当前状态为 %(status)s，暂不能办理。", status=instance.status)
        )
    action = {"type": "complete", "task_id": task_id, "data": data, "actor_id": actor.id}

    def act(workflow: Any) -> None:
        runner.complete(workflow, task_id, data)
        task.state, task.completed_at = "completed", utcnow()
        task.completed_by_id, task.form_data = actor.id, data

    host.run_step(session, instance, actor, action, act)
    audit.record(
        session,
        "task.completed",
        actor=actor,
        object_type="process_instance",
        object_id=str(instance.id),
        details={"task": task.bpmn_id, "name": task.name},
    )
    logger.info(
        "task %s (%s) of instance %s completed by %s",
        task_id,
        task.bpmn_id,
        instance.id,
        actor.username,
    )
    next_tasks = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready")
    ).all()
    return instance, [t for t in next_tasks if can_view_task(actor, t)]


def task_dict(task: HumanTask) -> dict[str, Any]:
    """The API shape of a task (CONTRACT §5)."""
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "process_key": task.process_key,
        "bpmn_id": task.bpmn_id,
        "name": task.name,
        "lane": task.lane,
        "state": task.state,
        "department": task.department_id,
        "assignee": task.assignee_id,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "created_at": task.created_at.isoformat(),
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
    }
