"""The approver's inbox: tabs, filters, counts, due-date urgency, and leaders' reassignment."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, defer

from app.engine import clock
from app.models import (
    Commitment,
    HumanTask,
    Matter,
    ProcessInstance,
    ProcessVersion,
    Role,
    Subject,
    User,
)
from app.rules.uscc import normalize_uscc
from app.services import audit
from app.services.calendar import get_calendar
from app.services.errors import ConflictError, InvalidInputError, NotAllowedError, NotFoundError
from app.services.tasks import can_view_task, scoped_tasks

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
PER_PAGE = 20

# tab -> (scope, state) of app.services.tasks.scoped_tasks; "department" is for leaders only.
TABS = ("candidate", "mine", "done", "department")


@dataclass
class InboxFilters:
    process_key: str = ""
    matter_code: str = ""
    subject: str = ""  # name fragment or USCC
    due_before: date | None = None  # due on or before this (local) date
    overdue: bool = False

    @classmethod
    def from_args(cls, args: Any) -> InboxFilters:
        """Lenient parsing of query-string values (bad dates are ignored)."""
        raw_due = (args.get("due_before") or "").strip()
        try:
            due = date.fromisoformat(raw_due) if raw_due else None
        except ValueError:
            due = None
        return cls(
            process_key=(args.get("process") or "").strip()[:64],
            matter_code=(args.get("matter") or "").strip()[:64],
            subject=(args.get("q") or "").strip()[:200],
            due_before=due,
            overdue=args.get("overdue") in ("1", "on", "true", "y"),
        )

    def as_args(self) -> dict[str, str]:
        args = {
            "process": self.process_key,
            "matter": self.matter_code,
            "q": self.subject,
            "due_before": self.due_before.isoformat() if self.due_before else "",
            "overdue": "1" if self.overdue else "",
        }
        return {k: v for k, v in args.items() if v}


@dataclass
class InboxRow:
    task: HumanTask
    instance: ProcessInstance
    subject: Subject | None
    process_name: str
    urgency: str | None  # "overdue" | "due_soon" | None
    assignee_name: str | None = None


@dataclass
class InboxPage:
    tab: str
    rows: list[InboxRow]
    counts: dict[str, int]
    total: int
    page: int
    pages: int
    filters: InboxFilters = field(default_factory=InboxFilters)


def tabs_for(actor: User) -> tuple[str, ...]:
    if actor.approver_role == "leader":
        return TABS
    return TABS[:3]


def tab_query(actor: User, tab: str) -> Select[tuple[HumanTask]]:
    """The tasks of one tab, before filters."""
    if actor.role != Role.APPROVER:
        raise NotAllowedError(_("只有审批人员有待办箱。"))
    if tab == "candidate":
        return scoped_tasks(actor, "candidate", "ready")
    if tab == "mine":
        return scoped_tasks(actor, "mine", "ready")
    if tab == "done":
        return scoped_tasks(actor, "mine", "completed")
    if tab == "department" and actor.approver_role == "leader":
        return select(HumanTask).where(
            HumanTask.state == "ready", HumanTask.department_id == actor.department_id
        )
    raise NotFoundError(_("没有这个待办分类。"))


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0, 0), tz)


def apply_filters(
    query: Select[tuple[HumanTask]], filters: InboxFilters, now: datetime, tz: tzinfo = DEFAULT_TZ
) -> Select[tuple[HumanTask]]:
    if filters.process_key:
        query = query.where(HumanTask.process_key == filters.process_key)
    if filters.matter_code or filters.subject:
        query = query.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    if filters.matter_code:
        with_matter = (
            select(Commitment.instance_id)
            .join(Matter, Matter.id == Commitment.matter_id)
            .where(Matter.code == filters.matter_code, Commitment.instance_id.is_not(None))
        )
        query = query.where(ProcessInstance.id.in_(with_matter))
    if filters.subject:
        code = normalize_uscc(filters.subject)
        escaped = filters.subject.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        matching = select(Subject.id).where(
            or_(Subject.uscc == code, Subject.name.ilike(f"%{escaped}%", escape="\\"))
        )
        query = query.where(ProcessInstance.subject_id.in_(matching))
    if filters.due_before:
        query = query.where(
            HumanTask.due_at < _local_midnight(filters.due_before + timedelta(days=1), tz)
        )
    if filters.overdue:
        query = query.where(HumanTask.due_at < now)
    return query


def _count(session: Session, query: Select[tuple[HumanTask]]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def counts(
    session: Session,
    actor: User,
    filters: InboxFilters | None = None,
    now: datetime | None = None,
    tz: tzinfo = DEFAULT_TZ,
) -> dict[str, int]:
    """Tasks per tab with the filters applied."""
    filters, now = filters or InboxFilters(), now or clock.now()
    return {
        tab: _count(session, apply_filters(tab_query(actor, tab), filters, now, tz))
        for tab in tabs_for(actor)
    }


def urgency(
    session: Session, due_at: datetime | None, now: datetime, tz: tzinfo = DEFAULT_TZ
) -> str | None:
    """ "overdue" past the deadline; "due_soon" when due by the end of the next working day."""
    if due_at is None:
        return None
    return _urgency(due_at, now, _due_soon_before(session, now, tz))


def _due_soon_before(session: Session, now: datetime, tz: tzinfo) -> datetime:
    """The end of the next working day: tasks due before it are "due_soon"."""
    next_workday = get_calendar(session).add_working_days(now.astimezone(tz).date(), 1)
    return _local_midnight(next_workday + timedelta(days=1), tz)


def _urgency(due_at: datetime | None, now: datetime, soon_before: datetime) -> str | None:
    if due_at is None:
        return None
    if due_at < now:
        return "overdue"
    return "due_soon" if due_at < soon_before else None


def inbox_page(
    session: Session,
    actor: User,
    tab: str = "candidate",
    filters: InboxFilters | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
    now: datetime | None = None,
    tz: tzinfo = DEFAULT_TZ,
) -> InboxPage:
    """One page of a tab, soonest due first (tasks without a deadline last), with tab counts."""
    filters, now = filters or InboxFilters(), now or clock.now()
    query = apply_filters(tab_query(actor, tab), filters, now, tz)
    tab_counts = counts(session, actor, filters, now, tz)
    total = tab_counts[tab]
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    ordered = query.order_by(
        case((HumanTask.due_at.is_(None), 1), else_=0),
        HumanTask.due_at,
        HumanTask.created_at,
        HumanTask.id,
    )
    tasks = session.scalars(ordered.limit(per_page).offset((page - 1) * per_page)).all()
    return InboxPage(
        tab=tab,
        rows=_rows(session, list(tasks), now, tz),
        counts=tab_counts,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
    )


def _rows(session: Session, tasks: list[HumanTask], now: datetime, tz: tzinfo) -> list[InboxRow]:
    # The engine state (tens of KB per instance) and the deployed bundle are not shown here.
    instances = {
        i.id: i
        for i in session.scalars(
            select(ProcessInstance)
            .options(defer(ProcessInstance.state))
            .where(ProcessInstance.id.in_({t.instance_id for t in tasks}))
        )
    }
    process_names = dict(
        session.execute(
            select(ProcessVersion.id, ProcessVersion.name).where(
                ProcessVersion.id.in_({i.version_id for i in instances.values()})
            )
        ).all()
    )
    subject_ids = {i.subject_id for i in instances.values() if i.subject_id}
    subjects = {
        s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(subject_ids)))
    }
    user_ids = {t.assignee_id for t in tasks if t.assignee_id}
    names = dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()
    )
    soon_before = _due_soon_before(session, now, tz)  # one calendar read per page, not per row
    rows = []
    for task in tasks:
        instance = instances[task.instance_id]
        rows.append(
            InboxRow(
                task=task,
                instance=instance,
                subject=subjects.get(instance.subject_id) if instance.subject_id else None,
                process_name=process_names[instance.version_id],
                urgency=_urgency(task.due_at, now, soon_before) if task.state == "ready" else None,
                assignee_name=names.get(task.assignee_id) if task.assignee_id else None,
            )
        )
    return rows


def process_choices(session: Session) -> list[tuple[str, str]]:
    """(key, name) of every deployed process, latest name per key."""
    rows = session.execute(
        select(ProcessVersion.key, ProcessVersion.name).order_by(
            ProcessVersion.key, ProcessVersion.version
        )
    ).all()
    return sorted(dict(rows).items())


def matter_choices(session: Session) -> list[tuple[str, str]]:
    return [
        (m.code, m.name)
        for m in session.scalars(select(Matter).where(Matter.active).order_by(Matter.code))
    ]


# --- reassignment by a department leader -------------------------------------------------------


def reassign_candidates(session: Session, task: HumanTask) -> list[User]:
    """Active approvers of the task's department holding its lane role."""
    if task.department_id is None:
        return []
    return list(
        session.scalars(
            select(User)
            .where(
                User.role == Role.APPROVER.value,
                User.active.is_(True),
                User.department_id == task.department_id,
                User.approver_role == task.lane,
            )
            .order_by(User.display_name)
        )
    )


def reassign(session: Session, task_id: str, to_user_id: Any, actor: User) -> HumanTask:
    """A leader hands a ready task of their department to another approver of its lane."""
    if actor.role != Role.APPROVER or actor.approver_role != "leader":
        raise NotAllowedError(_("只有本部门分管领导可以改派任务。"))
    task = session.scalar(
        select(HumanTask)
        .where(HumanTask.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if task is None or not can_view_task(actor, task):
        raise NotFoundError(_("任务不存在或您无权查看。"))
    if task.department_id is None or task.department_id != actor.department_id:
        raise NotAllowedError(_("只能改派本部门的任务。"))
    if task.state != "ready":
        raise ConflictError(_("该任务已办理或已撤销，不能改派。"), details={"state": task.state})
    try:
        target = session.get(User, int(to_user_id))
    except (TypeError, ValueError):
        target = None
    if target is None or target not in reassign_candidates(session, task):
        raise InvalidInputError(
            _("只能改派给本部门同岗位的审批人员。"),
            {"user_id": [_("请选择本部门同岗位的审批人员。")]},
        )
    previous = task.assignee_id
    task.assignee_id = target.id
    audit.record(
        session,
        "task.reassigned",
        actor=actor,
        object_type="process_instance",
        object_id=str(task.instance_id),
        details={
            "task": task.bpmn_id,
            "from": previous,
            "to": target.id,
            "to_name": target.username,
        },
    )
    return task
