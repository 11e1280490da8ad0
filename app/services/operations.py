"""Operator actions on instances: suspend, resume, terminate, retry an incident."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import runner
from app.models import HumanTask, Incident, InstanceStatus, ProcessInstance, User
from app.models.base import utcnow
from app.services import audit, host
from app.services.errors import ConflictError, NotAllowedError, NotFoundError
from app.services.permissions import can_manage_processes


def _locked(session: Session, instance_id: int, actor: User) -> ProcessInstance:
    if not can_manage_processes(actor):
        raise NotAllowedError(_("只有流程管理员或系统管理员可以执行此操作。"))
    return host.lock_instance(session, instance_id)


def suspend(session: Session, instance_id: int, actor: User) -> ProcessInstance:
    instance = _locked(session, instance_id, actor)
    if instance.status != InstanceStatus.RUNNING:
        raise ConflictError(
            _("只有运行中的实例可以挂起（当前：%(status)s）。", status=instance.status)
        )
    instance.status = InstanceStatus.SUSPENDED.value
    audit.record(
        session,
        "instance.suspended",
        actor=actor,
        object_type="process_instance",
        object_id=str(instance.id),
    )
    return instance


def resume(session: Session, instance_id: int, actor: User) -> ProcessInstance:
    instance = _locked(session, instance_id, actor)
    if instance.status != InstanceStatus.SUSPENDED:
        raise ConflictError(
            _("只有已挂起的实例可以恢复（当前：%(status)s）。", status=instance.status)
        )
    instance.status = InstanceStatus.RUNNING.value
    audit.record(
        session,
        "instance.resumed",
        actor=actor,
        object_type="process_instance",
        object_id=str(instance.id),
    )
    return instance


def terminate(session: Session, instance_id: int, actor: User, reason: str = "") -> ProcessInstance:
    instance = _locked(session, instance_id, actor)
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
        raise ConflictError(_("实例已结束（%(status)s）。", status=instance.status))
    instance.status = InstanceStatus.TERMINATED.value
    instance.next_timer_due = None
    instance.completed_at = utcnow()
    for task in session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready")
    ):
        task.state, task.completed_at = "cancelled", utcnow()
    audit.record(
        session,
        "instance.terminated",
        actor=actor,
        object_type="process_instance",
        object_id=str(instance.id),
        details={"reason": reason[:500]},
    )
    return instance


def retry(session: Session, instance_id: int, actor: User) -> ProcessInstance:
    """Re-run the action that raised the open incident (after the cause was fixed)."""
    instance = _locked(session, instance_id, actor)
    incident = session.scalar(
        select(Incident)
        .where(Incident.instance_id == instance.id, Incident.resolved_at.is_(None))
        .order_by(Incident.id.desc())
    )
    if instance.status != InstanceStatus.ERROR or incident is None:
        raise ConflictError(_("该实例没有待处理的运行事件。"))
    action = dict(incident.action)
    instance.status = InstanceStatus.RUNNING.value
    # Resolved now: if the retry fails again, the new incident replaces this one (kept on commit).
    incident.resolved_at = utcnow()
    if action.get("type") == "complete":
        from app.services import tasks

        task = session.get(HumanTask, action["task_id"])
        performer = session.get(User, action.get("actor_id")) or actor
        if task is None:
            raise NotFoundError(_("事件涉及的任务已不存在。"))
        tasks.complete(session, task.id, action.get("data") or {}, performer)
    elif action.get("type") == "start":
        host.run_step(session, instance, actor, action, runner.run)
    else:  # timers and messages: re-run engine steps and timers due now
        host.run_step(session, instance, actor, action, runner.fire_timers)
    audit.record(
        session,
        "instance.retried",
        actor=actor,
        object_type="process_instance",
        object_id=str(instance.id),
        details={"incident": incident.id},
    )
    return instance
