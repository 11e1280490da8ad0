"""In-app notifications: created when work arrives or a case changes; read by their user."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.i18n import N_
from app.models import Document, HumanTask, Notification, OutboxEvent, ProcessInstance, Role, User
from app.models.base import utcnow
from app.services import mail

# Notification titles and bodies are stored in Chinese and shown through `translate_stored`.
LANE_LABELS = {
    "enterprise": N_("企业"),
    "window": N_("受理窗口"),
    "reviewer": N_("审核"),
    "inspector": N_("核查"),
    "leader": N_("分管领导"),
}


def candidates_of(session: Session, task: HumanTask) -> list[User]:
    """The users who may work a task: the subject's enterprise accounts, or the lane's role."""
    query = select(User).where(User.active.is_(True))
    if task.lane == "enterprise":
        if task.subject_id is None:
            return []
        query = query.where(User.role == Role.ENTERPRISE.value, User.subject_id == task.subject_id)
    else:
        query = query.where(User.role == Role.APPROVER.value, User.approver_role == task.lane)
        if task.department_id is not None:
            query = query.where(User.department_id == task.department_id)
    return list(session.scalars(query))


def _lane(task: HumanTask) -> str:
    return LANE_LABELS.get(task.lane or "", task.lane or "")


def task_created(session: Session, task: HumanTask) -> int:
    """Tell every candidate that a task is waiting (called when the inbox row is created)."""
    users = candidates_of(session, task)
    for user in users:
        session.add(
            Notification(
                user_id=user.id,
                kind="task_new",
                title=(N_("新待办：%(task)s") % {"task": task.name})[:200],
                body=N_("流程实例 #%(id)s 有一项待办（%(lane)s）。")
                % {"id": task.instance_id, "lane": _lane(task)},
                link=f"/tasks/{task.id}",
                instance_id=task.instance_id,
            )
        )
    _mail_task(session, task, users)
    return len(users)


def _mail_task(session: Session, task: HumanTask, users: list[User]) -> None:
    """Staff: a task for the department. Enterprise: a step it did before again = returned."""
    if not users or not mail.configured():
        return
    context = {
        "task_name": task.name,
        "instance_id": task.instance_id,
        "lane": task.lane,
        "link": f"/tasks/{task.id}",
    }
    if task.lane != "enterprise":
        mail.queue(session, users, "task_assigned", context, key=f"task:{task.id}")
        return
    done_before = session.scalar(
        select(HumanTask.id)
        .where(
            HumanTask.instance_id == task.instance_id,
            HumanTask.bpmn_id == task.bpmn_id,
            HumanTask.state == "completed",
        )
        .limit(1)
    )
    if done_before is not None:
        mail.queue(
            session, users, "returned", context, key=f"task:{task.id}", instance_id=task.instance_id
        )


def notify(
    session: Session,
    user_id: int,
    kind: str,
    title: str,
    body: str | None = None,
    link: str | None = None,
    instance_id: int | None = None,
) -> Notification:
    """A notification for one user (returned application, decision made, deadline near…)."""
    note = Notification(
        user_id=user_id, kind=kind, title=title[:200], body=body, link=link, instance_id=instance_id
    )
    session.add(note)
    return note


def unread_count(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, user: User, notification_id: int | None = None) -> None:
    """Mark one (or all) of the user's notifications read."""
    stmt = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    session.execute(stmt.values(read_at=utcnow()))


def instance_finished(session: Session, instance: ProcessInstance) -> int:
    """Tell the subject's enterprise accounts that their case has a result."""
    if instance.subject_id is None:
        return 0
    summary = instance.summary or {}
    outcome = summary.get("outcome_label") or summary.get("outcome")
    users = session.scalars(
        select(User).where(
            User.role == Role.ENTERPRISE.value,
            User.subject_id == instance.subject_id,
            User.active.is_(True),
        )
    ).all()
    for user in users:
        session.add(
            Notification(
                user_id=user.id,
                kind="decided",
                title=N_("办件 #%(id)s 已办结") % {"id": instance.id},
                body=N_("办理结果：%(outcome)s") % {"outcome": outcome}
                if outcome
                else N_("请查看办理结果。"),
                link=f"/enterprise/applications/{instance.id}",
                instance_id=instance.id,
            )
        )
    mail.queue(
        session,
        users,
        "decided",
        {
            "instance_id": instance.id,
            "outcome_label": str(outcome or ""),
            "link": f"/enterprise/applications/{instance.id}",
        },
        key=f"instance:{instance.id}",
        instance_id=instance.id,
    )
    return len(users)


def document_issued(session: Session, document: Document) -> int:
    """Tell the subject's enterprise accounts that a document is ready (in the app and by mail)."""
    from app.services.documents.common import KINDS, download_url

    if document.subject_id is None:
        return 0
    users = session.scalars(
        select(User).where(
            User.role == Role.ENTERPRISE.value,
            User.subject_id == document.subject_id,
            User.active.is_(True),
        )
    ).all()
    label = KINDS.get(document.kind, (document.kind, ""))[0]
    link = (
        f"/enterprise/applications/{document.instance_id}"
        if document.instance_id
        else download_url(document.serial)
    )
    for user in users:
        notify(
            session,
            user.id,
            "document",
            N_("文书已出具：%(kind)s") % {"kind": label},
            N_("文号 %(serial)s") % {"serial": document.serial},
            link=link,
            instance_id=document.instance_id,
        )
    mail.queue(
        session,
        users,
        "document_ready",
        {
            "instance_id": document.instance_id,
            "kind": document.kind,
            "kind_label": label,
            "serial": document.serial,
            "link": link,
        },
        key=f"document:{document.serial}",
        instance_id=document.instance_id,
    )
    return len(users)


# Process notices that are also mails: reminders one working day before a deadline, decisions.
NOTICE_MAILS = {
    "rongque_supplement_reminder": "deadline",
    "verification_reminder": "deadline",
    "repair_decided": "decided",
}
NOTICE_TITLES = {
    "rongque_supplement_reminder": N_("容缺材料补齐提醒"),
    "repair_decided": N_("信用修复决定已作出"),
    "breach_feedback": N_("违诺处理反馈"),
    "breach_loop_closed": N_("违诺处理闭环"),
}


def _recipients(session: Session, payload: dict[str, object]) -> list[User]:
    """Who a process notice is for: the subject's accounts, or a department's approvers."""
    from app.models import Department, Subject

    uscc = payload.get("subject_uscc")
    if isinstance(uscc, str) and payload.get("recipient", "applicant") == "applicant":
        subject = session.scalar(select(Subject).where(Subject.uscc == uscc))
        if subject is not None:
            return list(
                session.scalars(
                    select(User).where(
                        User.role == Role.ENTERPRISE.value,
                        User.subject_id == subject.id,
                        User.active.is_(True),
                    )
                )
            )
    code = payload.get("department")
    if isinstance(code, str):
        department = session.scalar(select(Department).where(Department.code == code))
        if department is not None:
            query = select(User).where(
                User.role == Role.APPROVER.value,
                User.department_id == department.id,
                User.active.is_(True),
            )
            lane = payload.get("lane")
            if isinstance(lane, str):
                query = query.where(User.approver_role == lane)
            return list(session.scalars(query))
    return []


def mirror_outbox_notices(session: Session, limit: int = 200) -> int:
    """Show the processes' notices (reminders, decisions, feedback) in the app, and queue the
    mails of those in NOTICE_MAILS; the row is then done (the marker in the payload keeps rows
    mirrored before this marked done too).
    """
    rows = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.kind == "notification", OutboxEvent.state == "pending")
        .order_by(OutboxEvent.id)
        .limit(limit)
    ).all()
    created = 0
    for row in rows:
        payload = dict(row.payload or {})
        if payload.get("in_app"):
            row.state, row.done_at = "done", utcnow()
            continue
        title = NOTICE_TITLES.get(row.name, N_("办件提醒"))
        body = payload.get("text") or payload.get("outcome_label") or payload.get("due")
        recipients = _recipients(session, payload)
        for user in recipients:
            notify(
                session,
                user.id,
                "notice",
                title,
                str(body) if body else None,
                link=f"/enterprise/applications/{row.instance_id}"
                if user.role == Role.ENTERPRISE.value and row.instance_id
                else None,
                instance_id=row.instance_id,
            )
            created += 1
        if row.name in NOTICE_MAILS:
            _mail_notice(session, row, payload, recipients)
        row.payload = {**payload, "in_app": True}
        row.state, row.done_at = "done", utcnow()
    return created


def _mail_notice(
    session: Session, row: OutboxEvent, payload: dict[str, object], users: list[User]
) -> None:
    event = NOTICE_MAILS[row.name]
    for user in users:
        enterprise = user.role == Role.ENTERPRISE.value
        if row.instance_id is None:
            link = "/enterprise/applications" if enterprise else "/approver/inbox"
        elif enterprise:
            link = f"/enterprise/applications/{row.instance_id}"
        else:
            link = f"/approver/cases/{row.instance_id}"
        context = {
            "instance_id": row.instance_id,
            "notice": row.name,
            "text": str(payload.get("text") or ""),
            "due": str(payload.get("due_on") or payload.get("due") or "")[:10],  # the date
            "material_name": str(payload.get("material_name") or ""),
            "outcome_label": str(payload.get("outcome_label") or ""),
            "link": link,
        }
        key = f"instance:{row.instance_id}" if event == "decided" else f"outbox:{row.id}"
        mail.queue(session, [user], event, context, key=key, instance_id=row.instance_id)
