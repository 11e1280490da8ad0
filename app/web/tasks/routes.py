"""The task page: what the task shows, claim/unclaim, and its form rendered from JSON Schema."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import HumanTask, ProcessInstance, Role, User
from app.services import attachments, model_texts, tasks
from app.services.calendar import get_calendar
from app.services.errors import ConflictError, InvalidInputError, ServiceError
from app.services.forms import validate_form
from app.services.host import ProcessIncidentError
from app.services.task_views import task_view
from app.services.uow import transaction
from app.web import schema_form
from app.web.tasks import bp


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _today() -> date:
    return datetime.now(ZoneInfo(current_app.config["APP_TIMEZONE"])).date()


def _due(task: HumanTask) -> dict[str, Any] | None:
    """Due date in local time with the working-day countdown (negative when overdue)."""
    if task.due_at is None:
        return None
    due_day = task.due_at.astimezone(ZoneInfo(current_app.config["APP_TIMEZONE"])).date()
    today = _today()
    calendar = get_calendar(db.session)
    if due_day >= today:
        return {"day": due_day, "left": calendar.working_days_between(today, due_day)}
    return {"day": due_day, "left": -calendar.working_days_between(due_day, today)}


def _schema(task: HumanTask) -> tuple[ProcessInstance, dict[str, Any] | None]:
    instance = db.session.get(ProcessInstance, task.instance_id)
    assert instance is not None
    return instance, (instance.version.forms or {}).get(task.form_file or "")


def _can_act(task: HumanTask, actor: User) -> bool:
    return (
        task.state == "ready"
        and tasks.is_candidate(actor, task)
        and task.assignee_id in (None, actor.id)
    )


def _form_context(
    task: HumanTask,
    schema: dict[str, Any] | None,
    values: dict[str, Any] | None,
    errors: dict[str, list[str]] | None,
) -> dict[str, Any]:
    errors = schema_form.attach_errors(schema or {}, errors or {})
    # labels in the page's language; field names, values and enum values stay as they are
    shown = model_texts.schema_text(model_texts.version_of(task), schema)
    fields = schema_form.build_fields(shown, values or {}, errors)
    mb = current_app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024)
    return {
        "task": task,
        "schema": shown or {},
        "fields": fields,
        "form_errors": errors.get("_form", []),
        "has_errors": bool(errors),
        "limits": _("PDF/PNG/JPEG，不超过 %(mb)s MB", mb=mb),
        "can_act": _can_act(task, _actor()),
    }


def _page(
    task: HumanTask,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    actor = _actor()
    instance, schema = _schema(task)
    if request.headers.get("HX-Request") and request.method == "POST":
        context = _form_context(task, schema, values, errors)
        return render_template("tasks/_form.html", **context), status
    view = task_view(db.session, task, actor)
    if values is None and task.state == "ready":
        values = schema_form.prefill(schema, view.get("data") or {})
    context = _form_context(task, schema, values, errors)
    instructions = view.get("instructions")
    leader = actor.approver_role == "leader" and actor.department_id == task.department_id
    return render_template(
        "tasks/task.html",
        instance=instance,
        due=_due(task),
        # The sandboxed Jinja that rendered the instructions had autoescape on.
        instructions=Markup(instructions) if instructions else None,
        data=view.get("data") or {},
        files=attachments.list_attachments(db.session, instance.id),
        can_claim=task.state == "ready"
        and task.lane != "enterprise"
        and task.assignee_id is None
        and tasks.is_candidate(actor, task),
        can_unclaim=task.state == "ready"
        and task.assignee_id is not None
        and (task.assignee_id == actor.id or leader),
        assignee=db.session.get(User, task.assignee_id) if task.assignee_id else None,
        **context,
    ), status


def _conflict(task_id: str, message: str, incident: bool = False) -> tuple[str, int]:
    task = db.session.get(HumanTask, task_id)
    completed_by = (
        db.session.get(User, task.completed_by_id) if task and task.completed_by_id else None
    )
    return render_template(
        "tasks/conflict.html",
        task=task,
        message=message,
        incident=incident,
        completed_by=completed_by,
        home=_home_url(),
        tz=ZoneInfo(current_app.config["APP_TIMEZONE"]),
        fragment=bool(request.headers.get("HX-Request")),
    ), 409


def _home_url() -> str:
    if "approver.inbox" in current_app.view_functions and current_user.role == Role.APPROVER:
        return url_for("approver.inbox")
    return url_for("main.index")


@bp.route("/tasks/<task_id>", endpoint="task_page")
@login_required
def show(task_id: str) -> tuple[str, int]:
    task = tasks.get_task(db.session, task_id, _actor())
    values = task.form_data if task.state == "completed" else None
    return _page(task, values)


def _store_uploads(
    session: Any, instance: ProcessInstance, parsed: schema_form.Parsed, actor: User
) -> None:
    """Upload each chosen file; its id goes into the data, a refusal becomes a field error."""
    for upload in parsed.uploads:
        try:
            with session.begin_nested():
                stored = attachments.add_attachment(
                    session,
                    instance,
                    actor,
                    kind=upload.kind or upload.name,
                    filename=upload.file.filename,
                    stream=upload.file.stream,
                    storage_dir=Path(current_app.config["STORAGE_DIR"]),
                    max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
                )
        except (attachments.TooLargeError, attachments.UnsupportedTypeError) as exc:
            parsed.errors.setdefault(upload.name, []).append(exc.message)
            continue
        except InvalidInputError as exc:
            messages = [m for ms in exc.fields.values() for m in ms] or [exc.message]
            parsed.errors.setdefault(upload.name, []).extend(messages)
            continue
        schema_form.set_path(parsed.data, upload.path, str(stored.id))


@bp.route("/tasks/<task_id>", methods=["POST"])
@login_required
def submit(task_id: str) -> Response | tuple[str, int]:
    actor = _actor()
    task = tasks.get_task(db.session, task_id, actor)
    if task.state != "ready":
        return _conflict(task_id, _("该任务已办理完毕或已撤销，无需重复提交。"))
    instance, schema = _schema(task)
    parsed = schema_form.parse_form(schema, request.form, request.files)
    try:
        with transaction() as session:
            _store_uploads(session, instance, parsed, actor)
            if parsed.errors:
                _raise_with_validation(schema, parsed)
            instance, next_tasks = tasks.complete(session, task_id, parsed.data, actor)
            next_task = next((t for t in next_tasks if tasks.is_candidate(actor, t)), None)
            next_id = next_task.id if next_task else None
    except InvalidInputError as exc:
        task = tasks.get_task(db.session, task_id, actor)
        values = schema_form.display_values(parsed, request.form, schema)
        return _page(task, values, exc.fields or {"_form": [exc.message]}, 422)
    except ProcessIncidentError as exc:
        return _conflict(task_id, exc.message, incident=True)
    except ConflictError as exc:
        return _conflict(task_id, exc.message)
    flash(_("任务“%(name)s”已办理完毕。", name=model_texts.text_of(task.name, task)), "success")
    target = url_for("tasks.task_page", task_id=next_id) if next_id else _home_url()
    if request.headers.get("HX-Request"):
        response = Response(status=204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)  # type: ignore[return-value]


def _raise_with_validation(schema: dict[str, Any] | None, parsed: schema_form.Parsed) -> None:
    """Report the parse/upload errors together with the schema's own (conditional) errors."""
    errors = {k: list(v) for k, v in parsed.errors.items()}
    try:
        validate_form(schema, parsed.data)
    except InvalidInputError as exc:
        for key, messages in exc.fields.items():
            if key not in errors and not any(k.endswith("." + key) for k in errors):
                errors[key] = messages
    raise InvalidInputError(_("表单内容未通过校验，请按提示修改。"), errors)


def _claim_action(task_id: str, action: str) -> Response | tuple[str, int]:
    actor = _actor()
    try:
        with transaction() as session:
            if action == "claim":
                tasks.claim(session, task_id, actor)
            else:
                tasks.unclaim(session, task_id, actor)
    except ConflictError as exc:
        task = db.session.get(HumanTask, task_id)
        if task is not None and task.state != "ready":
            return _conflict(task_id, exc.message)
        flash(exc.message, "error")
    except ServiceError:
        raise
    else:
        flash(_("已认领该任务。") if action == "claim" else _("已退回该任务。"), "success")
    return redirect(url_for("tasks.task_page", task_id=task_id), 303)  # type: ignore[return-value]


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: str) -> Response | tuple[str, int]:
    return _claim_action(task_id, "claim")


@bp.route("/tasks/<task_id>/unclaim", methods=["POST"])
@login_required
def unclaim(task_id: str) -> Response | tuple[str, int]:
    return _claim_action(task_id, "unclaim")
