"""审批端: the inbox (tabs, filters, claim/unclaim/reassign) and the case page with comments."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.auth import role_required
from app.extensions import db
from app.models import Department, HumanTask, ProcessInstance, Role, Subject, User
from app.services import comments, instances, subjects, tasks
from app.services import inbox as inbox_service
from app.services.attachments import list_attachments
from app.services.commitments import route_for_subject
from app.services.errors import ConflictError, InvalidInputError, ServiceError
from app.services.task_views import task_view
from app.services.uow import transaction
from app.web.approver import bp

TAB_LABELS = {
    "candidate": _l("待认领"),
    "mine": _l("我的"),
    "done": _l("已办"),
    "department": _l("本部门"),
}
ACTION_LABELS = {
    "instance.started": _l("发起申请"),
    "instance.timer_fired": _l("期限到达"),
    "instance.incident": _l("流程异常"),
    "instance.retried": _l("异常重试"),
    "instance.suspended": _l("流程挂起"),
    "instance.resumed": _l("流程恢复"),
    "instance.terminated": _l("流程终止"),
    "instance.migrated": _l("流程版本迁移"),
    "task.claimed": _l("认领任务"),
    "task.unclaimed": _l("退回任务"),
    "task.reassigned": _l("改派任务"),
    "task.completed": _l("办理任务"),
    "attachment.uploaded": _l("上传材料"),
    "comment.added": _l("添加意见"),
    "message.delivered": _l("收到消息"),
    "commitment.signed": _l("签署承诺书"),
    "commitment.accepted": _l("承诺书被接受"),
    "commitment.status": _l("承诺状态变更"),
    "repair.eligibility": _l("修复条件核对"),
    "repair.submitted": _l("提交修复申请"),
    "repair.decided": _l("修复决定"),
    "record.repaired": _l("信用记录已修复"),
    "objection.accepted": _l("异议受理"),
    "objection.forwarded": _l("异议转办"),
    "objection.refused": _l("异议不予受理"),
    "objection.decided": _l("异议决定"),
    "objection.escalated": _l("异议报分管领导"),
    "objection.extended": _l("异议办理延期"),
    "notify_commit.decided": _l("告知承诺审批决定"),
    "notify_commit.sampled": _l("抽查"),
    "notify_commit.outcome": _l("告知承诺办理结果"),
    "notify_commit.approval_revoked": _l("撤销审批"),
    "rongque.outcome": _l("容缺受理结果"),
    "rongque.supplement_invalid": _l("补正材料不合格"),
    "breach.case_opened": _l("违诺立案"),
    "breach.recorded": _l("记录违诺"),
    "breach.dismissed": _l("违诺不予认定"),
    "breach.loop_closed": _l("违诺闭环"),
}
LANE_LABELS = {"enterprise": _l("申请企业")}
PREVIEWABLE = {"application/pdf", "image/png", "image/jpeg"}


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["APP_TIMEZONE"])


def task_url(task: HumanTask) -> str:
    """The task page when the tasks area provides one, else this area's case page."""
    if "tasks.task_page" in current_app.view_functions:
        rules = list(current_app.url_map.iter_rules("tasks.task_page"))
        arguments = sorted(rules[0].arguments) if rules else []
        if len(arguments) == 1:
            return url_for("tasks.task_page", **{arguments[0]: task.id})
    return url_for("approver.case", instance_id=task.instance_id)


def _back(default: str | None = None) -> Response:
    target = request.form.get("next", "")
    if not (target.startswith("/") and not target.startswith("//")):
        target = default or url_for("approver.inbox")
    return redirect(target)


def _lane_label(lane: str | None) -> object:
    from app.web.labels import APPROVER_ROLES

    if lane is None:
        return "—"
    return LANE_LABELS.get(lane) or APPROVER_ROLES.get(lane, lane)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"approver_task_url": task_url, "approver_lane_label": _lane_label}


# --- inbox -------------------------------------------------------------------------------------


@bp.route("/inbox")
@role_required(Role.APPROVER)
def inbox() -> str:
    """Tabs 待认领 / 我的 / 已办 (and 本部门 for leaders), filtered, soonest due first."""
    actor = _actor()
    tab = request.args.get("tab", "candidate")
    filters = inbox_service.InboxFilters.from_args(request.args)
    page_no = request.args.get("page", 1, type=int) or 1
    page = inbox_service.inbox_page(db.session, actor, tab, filters, page_no, tz=_tz())
    candidates: dict[str, list[User]] = {}
    if tab == "department":
        candidates = {
            r.task.id: inbox_service.reassign_candidates(db.session, r.task) for r in page.rows
        }
    context = {
        "page": page,
        "tabs": [(t, TAB_LABELS[t]) for t in inbox_service.tabs_for(actor)],
        "filters": filters,
        "args": filters.as_args(),
        "processes": inbox_service.process_choices(db.session),
        "matters": inbox_service.matter_choices(db.session),
        "candidates": candidates,
    }
    if request.headers.get("HX-Request"):
        return render_template("approver/_task_rows.html", **context)
    return render_template("approver/inbox.html", **context)


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@role_required(Role.APPROVER)
def claim(task_id: str) -> Response:
    try:
        with transaction() as session:
            tasks.claim(session, task_id, _actor())
    except ConflictError:
        flash(_("已被他人认领"), "error")
        return _back()
    flash(_("已认领，可在“我的”中办理。"), "success")
    return _back()


@bp.route("/tasks/<task_id>/unclaim", methods=["POST"])
@role_required(Role.APPROVER)
def unclaim(task_id: str) -> Response:
    try:
        with transaction() as session:
            tasks.unclaim(session, task_id, _actor())
    except ConflictError as exc:
        flash(exc.message, "error")
        return _back()
    flash(_("已退回，任务回到待认领。"), "success")
    return _back()


@bp.route("/tasks/<task_id>/reassign", methods=["POST"])
@role_required(Role.APPROVER)
def reassign(task_id: str) -> Response:
    try:
        with transaction() as session:
            task = inbox_service.reassign(session, task_id, request.form.get("user_id"), _actor())
            name = db.session.get(User, task.assignee_id).display_name  # type: ignore[union-attr]
    except ConflictError as exc:
        flash(exc.message, "error")
        return _back()
    flash(_("已改派给 %(name)s。", name=name), "success")
    return _back()


# --- case page ---------------------------------------------------------------------------------


def _parse_at(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _application_data(instance: ProcessInstance, open_tasks: list[HumanTask]) -> dict[str, Any]:
    """The case data as the first open task the approver may see shows it (start data included)."""
    actor = _actor()
    for task in open_tasks:
        if tasks.can_view_task(actor, task):
            try:
                return dict(task_view(db.session, task, actor).get("data") or {})
            except ServiceError:
                return {}
    return {}


def _display(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


def _case_context(instance: ProcessInstance) -> dict[str, Any]:
    session, actor = db.session, _actor()
    data = instances.instance_dict(session, instance, actor)
    all_tasks = list(
        session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == instance.id)
            .order_by(HumanTask.created_at)
        )
    )
    open_tasks = [t for t in all_tasks if t.state == "ready"]
    subject = session.get(Subject, instance.subject_id) if instance.subject_id else None
    route = route_for_subject(session, subject) if subject else None
    records = subjects.list_records(session, subject) if subject else []
    case_comments = comments.list_comments(session, instance, actor)
    user_ids = {t.assignee_id for t in all_tasks if t.assignee_id}
    departments = {d.id: d.name for d in session.scalars(select(Department))}
    history = [
        {
            "at": _parse_at(h["at"]),
            "actor": h["actor"],
            "action": ACTION_LABELS.get(h["action"], h["action"]),
            "details": h["details"] or {},
        }
        for h in data["history"]
    ]
    return {
        "instance": instance,
        "process_name": instance.version.name,
        "summary": {k: _display(v) for k, v in (instance.summary or {}).items()},
        "app_data": {k: _display(v) for k, v in _application_data(instance, open_tasks).items()},
        "subject": subject,
        "route": route,
        "records": records,
        "attachments": list_attachments(session, instance.id),
        "previewable": PREVIEWABLE,
        "history": history,
        "open_tasks": open_tasks,
        "departments": departments,
        "assignees": dict(
            session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()
        )
        if user_ids
        else {},
        "comments": case_comments,
        "authors": comments.author_names(session, case_comments),
        "incidents": data["incidents"],
    }


@bp.route("/cases/<int:instance_id>")
@role_required(Role.APPROVER)
def case(instance_id: int) -> str:
    """Everything about one case an approver's department takes part in (404 otherwise)."""
    instance = instances.get_instance(db.session, instance_id, _actor())
    return render_template("approver/case.html", **_case_context(instance), errors={}, form={})


@bp.route("/cases/<int:instance_id>/comments", methods=["POST"])
@role_required(Role.APPROVER)
def add_comment(instance_id: int) -> Response | tuple[str, int]:
    body = request.form.get("body", "")
    visible = request.form.get("visible_to_applicant") in ("1", "on", "y", "true")
    try:
        with transaction() as session:
            instance = instances.get_instance(session, instance_id, _actor())
            comments.add_comment(session, instance, _actor(), body, visible)
    except InvalidInputError as exc:
        instance = instances.get_instance(db.session, instance_id, _actor())
        return render_template(
            "approver/case.html",
            **_case_context(instance),
            errors=exc.fields,
            form={"body": body, "visible_to_applicant": visible},
        ), 422
    flash(_("意见已添加。"), "success")
    return redirect(url_for("approver.case", instance_id=instance_id) + "#comments")
