"""Studio (operate): a process's instances, the instance page, operator actions, migration.

Thin views over `app.services.studio.operate`, `app.services.operations` and
`app.services.migration`; the blueprint's before_request already refused everyone but process
owners and administrators. Bad filters and forms answer 422 with field messages, an action
the instance's state no longer allows 409 (the page again, with the reason), unknown ids 404.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import User
from app.services import operations
from app.services.errors import ConflictError, InvalidInputError
from app.services.studio import operate as service
from app.services.uow import transaction
from app.web.approver.routes import ACTION_LABELS as APPROVER_ACTION_LABELS
from app.web.studio import bp

INSTANCE = "int(max=2147483647):id"
STATUS_LABELS = {
    "running": _l("运行中"),
    "suspended": _l("已挂起"),
    "error": _l("出错"),
    "completed": _l("已完成"),
    "terminated": _l("已终止"),
}
TASK_STATE_LABELS = {"ready": _l("待办"), "completed": _l("已完成"), "cancelled": _l("已取消")}
ACTION_LABELS = {
    **APPROVER_ACTION_LABELS,
    "instance.incident": _l("运行事件"),
    "instance.retried": _l("重试运行事件"),
    "instance.suspended": _l("挂起"),
    "instance.resumed": _l("恢复"),
    "instance.terminated": _l("终止"),
}


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["APP_TIMEZONE"])


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "studio_status_labels": STATUS_LABELS,
        "studio_task_state_labels": TASK_STATE_LABELS,
        "studio_action_labels": ACTION_LABELS,
        "studio_has": _has_endpoint,
    }


def _has_endpoint(name: str) -> bool:
    """Whether `studio.<name>` exists (the editing pages are built separately)."""
    return f"studio.{name}" in current_app.view_functions


# --- instances ------------------------------------------------------------------------------


@bp.route("/processes/<key>/instances")
def instances(key: str) -> str | tuple[str, int]:
    """Instances of one process: filters, counts per status, one page of rows."""
    actor = _actor()
    try:
        filters = service.InstanceFilters.parse(request.args)
        page_no = service.parse_page(request.args.get("page"))
    except InvalidInputError as exc:
        listing = service.list_instances(db.session, key, service.InstanceFilters(), actor)
        return render_template(
            "studio/instances.html",
            listing=listing,
            rows=[],
            counts=listing.counts,
            form={k: v for k, v in request.args.items() if k != "page"},
            errors=exc.fields,
        ), 422
    listing = service.list_instances(db.session, key, filters, actor, page_no, tz=_tz())
    return render_template(
        "studio/instances.html",
        listing=listing,
        rows=listing.rows,
        counts=listing.counts,
        form=filters.as_args(),
        errors={},
    )


# --- one instance -----------------------------------------------------------------------------


def _pretty(value: Any) -> str:
    """A value as readable text: strings as they are, the rest as indented JSON (CJK kept)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


def _instance_page(
    instance_id: int,
    status: int = 200,
    *,
    errors: dict[str, list[str]] | None = None,
    problem: str | None = None,
    form: dict[str, str] | None = None,
) -> tuple[str, int]:
    detail = service.instance_detail(db.session, instance_id, _actor(), tz=_tz())
    detail["data_rows"] = [(name, _pretty(value)) for name, value in sorted(detail["data"].items())]
    for entry in detail["audit"]:
        entry["details_text"] = _pretty(entry["details"]) if entry["details"] else ""
    return render_template(
        "studio/instance.html",
        d=detail,
        errors=errors or {},
        problem=problem,
        form=form or {},
    ), status


@bp.route(f"/instances/<{INSTANCE}>")
def instance(id: int) -> tuple[str, int]:
    """Diagram with the path taken, tasks, data, audit trail, incidents and actions."""
    return _instance_page(id)


def _act(
    instance_id: int, act: Callable[[], Any], done: str, failed: str = ""
) -> Response | tuple[str, int]:
    service.get_instance(db.session, instance_id, _actor())  # 404 before anything else
    try:
        with transaction():
            act()
    except ConflictError as exc:
        # Incidents raised by a retry were committed by the unit of work; show them.
        db.session.expire_all()
        return _instance_page(instance_id, 409, problem=failed + exc.message)
    flash(done, "success")
    return redirect(url_for("studio.instance", id=instance_id), 303)


@bp.route(f"/instances/<{INSTANCE}>/suspend", methods=["POST"])
def instance_suspend(id: int) -> Response | tuple[str, int]:
    return _act(
        id, lambda: operations.suspend(db.session, id, _actor()), _("实例已挂起，可随时恢复。")
    )


@bp.route(f"/instances/<{INSTANCE}>/resume", methods=["POST"])
def instance_resume(id: int) -> Response | tuple[str, int]:
    return _act(id, lambda: operations.resume(db.session, id, _actor()), _("实例已恢复运行。"))


@bp.route(f"/instances/<{INSTANCE}>/terminate", methods=["POST"])
def instance_terminate(id: int) -> Response | tuple[str, int]:
    reason = (request.form.get("reason") or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = [_("请填写终止原因（会记入审计日志）。")]
    elif len(reason) > 500:
        errors["reason"] = [_("终止原因最多 500 个字。")]
    if errors:
        service.get_instance(db.session, id, _actor())
        return _instance_page(id, 422, errors=errors, form={"reason": reason})
    return _act(
        id,
        lambda: operations.terminate(db.session, id, _actor(), reason),
        _("实例已终止，未办完的任务已取消。"),
    )


@bp.route(f"/instances/<{INSTANCE}>/retry", methods=["POST"])
def instance_retry(id: int) -> Response | tuple[str, int]:
    return _act(
        id,
        lambda: operations.retry(db.session, id, _actor()),
        _("已重试，运行事件已处理。"),
        _("重试未成功："),
    )


# --- migration ----------------------------------------------------------------------------------


def _chooser(
    key: str, status: int = 200, *, errors: dict[str, list[str]] | None = None
) -> tuple[str, int]:
    actor = _actor()
    listing = service.list_instances(db.session, key, service.InstanceFilters(), actor)
    chosen = set(request.values.getlist("ids"))
    return render_template(
        "studio/migrate.html",
        listing=listing,
        candidates=service.migration_candidates(db.session, key, actor),
        chosen=chosen,
        target=request.values.get("target") or str(listing.versions[-1]),
        reports=None,
        errors=errors or {},
    ), status


@bp.route("/processes/<key>/migrate")
def migrate(key: str) -> tuple[str, int]:
    """Choose instances and a target version; with both, the dry-run report of each."""
    if "ids" not in request.args and "target" not in request.args:
        return _chooser(key)
    try:
        ids = service.parse_ids(request.args.getlist("ids"))
        target = service.parse_target(db.session, key, request.args.get("target"))
        if not ids:
            raise InvalidInputError(_("请至少选择一个实例。"), {"ids": [_("请至少选择一个实例。")]})
    except InvalidInputError as exc:
        return _chooser(key, 422, errors=exc.fields)
    reports = service.dry_run_many(db.session, key, ids, target, _actor())
    db.session.rollback()  # a dry run never writes; release what it read
    listing = service.list_instances(db.session, key, service.InstanceFilters(), _actor())
    return render_template(
        "studio/migrate.html",
        listing=listing,
        candidates=[],
        chosen=set(),
        target=str(target),
        reports=reports,
        errors={},
    ), 200


@bp.route("/processes/<key>/migrate/run", methods=["POST"])
def migrate_run(key: str) -> tuple[str, int]:
    """Migrate the confirmed instances; the result lists migrated and refused ones."""
    actor = _actor()
    try:
        ids = service.parse_ids(request.form.getlist("ids"))
        target = service.parse_target(db.session, key, request.form.get("target"))
        if not ids:
            raise InvalidInputError(_("请至少选择一个实例。"), {"ids": [_("请至少选择一个实例。")]})
    except InvalidInputError as exc:
        return _chooser(key, 422, errors=exc.fields)
    with transaction() as session:
        results = service.run_migration(session, key, ids, target, actor)
    listing = service.list_instances(db.session, key, service.InstanceFilters(), actor)
    return render_template(
        "studio/migrate_result.html",
        listing=listing,
        target=target,
        migrated=[r for r in results if r["outcome"] == "migrated"],
        refused=[r for r in results if r["outcome"] != "migrated"],
    ), 200
