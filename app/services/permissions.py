"""The small authorization vocabulary used by every service and view."""

from __future__ import annotations

from app.models import Role, Subject, User


def is_staff(actor: User) -> bool:
    """Approvers, process owners and admins act for the administration, not for a subject."""
    return actor.role in (Role.APPROVER, Role.PROCESS_OWNER, Role.ADMIN)


def can_view_subject(actor: User, subject: Subject) -> bool:
    """An enterprise sees only its own subject; approvers and admins see any subject."""
    if actor.role == Role.ENTERPRISE:
        return actor.subject_id == subject.id
    return actor.role in (Role.APPROVER, Role.ADMIN)


def can_work_department(actor: User, department_id: int | None) -> bool:
    """An approver works only its own department's tasks."""
    return (
        actor.role == Role.APPROVER
        and department_id is not None
        and (actor.department_id == department_id)
    )


def can_manage_processes(actor: User) -> bool:
    """Deploying BPMN is deploying code: process owners and admins only."""
    return actor.role in (Role.PROCESS_OWNER, Role.ADMIN)


def can_administer(actor: User) -> bool:
    return actor.role == Role.ADMIN
