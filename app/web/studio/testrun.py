"""Studio routes (test runs): run a draft in the sandbox with sample data, step through it.

Thin views over `app.services.studio.testrun`: they parse forms, commit, and render the
test-run page (status 422 with field messages and the input kept, 409 when the run moved on).
Task forms are rendered and parsed with the same schema_form code as real tasks; files chosen
in a test-run form are not stored (the data gets a placeholder id instead).
"""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import User
from app.services.errors import ConflictError, InvalidInputError
from app.services.studio import testrun as service
from app.services.uow import transaction
from app.web import schema_form
from app.web.labels import APPROVER_ROLES, ROLES
from app.web.studio import bp
from app.web.tasks.routes import _raise_with_validation

UPLOAD_PLACEHOLDER = "测试附件:{name}"
EVENT_LABELS = {
    "completed": _l("完成"),
    "service_call": _l("调用服务（模拟）"),
    "timer_fired": _l("定时器触发"),
    "message": _l("消息"),
    "error": _l("出错"),
}
TYPE_LABELS = {
    "userTask": _l("用户任务"),
    "manualTask": _l("手工任务"),
    "serviceTask": _l("服务任务"),
    "scriptTask": _l("脚本任务"),
    "businessRuleTask": _l("决策表任务"),
    "sendTask": _l("发送任务"),
    "receiveTask": _l("接收任务"),
    "task": _l("任务"),
    "exclusiveGateway": _l("排他网关"),
    "parallelGateway": _l("并行网关"),
    "inclusiveGateway": _l("包容网关"),
    "eventBasedGateway": _l("事件网关"),
    "startEvent": _l("开始事件"),
    "endEvent": _l("结束事件"),
    "boundaryEvent": _l("边界事件"),
    "intermediateCatchEvent": _l("中间捕获事件"),
    "intermediateThrowEvent": _l("中间抛出事件"),
    "subProcess": _l("子流程"),
    "callActivity": _l("调用活动"),
    "message": _l("消息"),
}
STATUS_LABELS = {
    "running": _l("运行中"),
    "completed": _l("已结束"),
    "error": _l("出错停止"),
}


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _lane_label(lane: str | None) -> Any:
    if lane is None:
        return "—"
    if lane == "enterprise":
        return ROLES["enterprise"]
    return APPROVER_ROLES.get(lane, lane)


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def _draft_url(draft_id: int, element_id: str | None = None) -> str | None:
    """The modeler page of the draft (`studio.draft`), or None while that route is missing."""
    try:
        url = url_for("studio.draft", id=draft_id)
    except BuildError:
        return None
    return f"{url}#element={element_id}" if element_id else url


# --- start -----------------------------------------------------------------------------------


def _start_page(
    draft_id: int,
    *,
    sample_text: str | None = None,
    results_text: str | None = None,
    errors: dict[str, list[str]] | None = None,
    problems: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    actor = _actor()
    draft = service.get_draft(db.session, draft_id, actor)
    handlers: list[str] = []
    if problems is None:
        try:
            defaults = service.start_form_defaults(db.session, draft, actor)
        except service.DraftInvalidError as exc:
            problems = exc.problems
        else:
            handlers = defaults["handlers"]
            if sample_text is None:
                sample_text = _pretty(defaults["sample_data"])
            if results_text is None:
                results_text = _pretty(defaults["service_results"])
    return render_template(
        "studio/testrun.html",
        mode="start",
        draft=draft,
        draft_url=_draft_url(draft.id),
        problem_url=lambda element_id: _draft_url(draft.id, element_id),
        runs=service.list_runs(db.session, draft.id, actor),
        handlers=handlers,
        sample_text=sample_text or "{}",
        results_text=results_text or "{}",
        errors=errors or {},
        problems=problems or [],
        status_labels=STATUS_LABELS,
    ), status


@bp.get("/drafts/<int:id>/testruns", endpoint="testruns")
def testruns(id: int) -> tuple[str, int]:
    """The start form (sample data, sample service results) and the draft's earlier runs."""
    return _start_page(id)


@bp.post("/drafts/<int:id>/testruns", endpoint="start_testrun")
def start_testrun(id: int) -> Response | tuple[str, int]:
    draft_id = id
    actor = _actor()
    sample_text = request.form.get("sample_data", "")
    results_text = request.form.get("service_results", "")
    errors: dict[str, list[str]] = {}
    parsed: dict[str, dict[str, Any]] = {}
    for name, text, label in (
        ("sample_data", sample_text, _("样例数据")),
        ("service_results", results_text, _("服务任务样例结果")),
    ):
        try:
            parsed[name] = service.parse_json_object(text, name, label)
        except InvalidInputError as exc:
            errors.update(exc.fields)
    if errors:
        return _start_page(
            draft_id, sample_text=sample_text, results_text=results_text, errors=errors, status=422
        )
    try:
        with transaction() as session:
            run = service.start_run(
                session, draft_id, parsed["sample_data"], parsed["service_results"], actor
            )
            run_id = run.id
    except service.DraftInvalidError as exc:
        return _start_page(
            draft_id,
            sample_text=sample_text,
            results_text=results_text,
            problems=exc.problems,
            status=422,
        )
    except InvalidInputError as exc:
        return _start_page(
            draft_id,
            sample_text=sample_text,
            results_text=results_text,
            errors=exc.fields or {"_form": [exc.message]},
            status=422,
        )
    return redirect(url_for("studio.testrun", id=run_id), 303)  # type: ignore[return-value]


# --- the run page ----------------------------------------------------------------------------


def _task_forms(
    view: service.RunView, submitted: dict[str, tuple[dict[str, Any], dict[str, list[str]]]]
) -> list[dict[str, Any]]:
    forms = []
    for task in view.ready:
        values, errors = submitted.get(task.id, (None, {}))
        if values is None:
            values = schema_form.prefill(task.schema, task.data)
        errors = schema_form.attach_errors(task.schema or {}, errors)
        forms.append(
            {
                "task": task,
                "lane_label": _lane_label(task.lane),
                "fields": schema_form.build_fields(task.schema, values, errors),
                "form_errors": errors.get("_form", []),
                "has_errors": bool(errors),
                "data_text": _pretty(task.data),
            }
        )
    return forms


def _run_page(
    run_id: int,
    *,
    submitted: dict[str, tuple[dict[str, Any], dict[str, list[str]]]] | None = None,
    message_form: dict[str, Any] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    actor = _actor()
    run = service.get_run(db.session, run_id, actor)
    view = service.describe(db.session, run)
    draft = service.get_draft(db.session, run.draft_id, actor)
    return render_template(
        "studio/testrun.html",
        mode="run",
        draft=draft,
        draft_url=_draft_url(draft.id),
        view=view,
        run=run,
        tasks=_task_forms(view, submitted or {}),
        data_text=_pretty(view.data),
        steps=[{**s, "details_text": _pretty(s.get("details") or {})} for s in run.steps],
        message_form=message_form or {"name": "", "payload": "{}", "errors": {}},
        notice=notice,
        event_labels=EVENT_LABELS,
        type_labels=TYPE_LABELS,
        status_labels=STATUS_LABELS,
        lane_label=_lane_label,
    ), status


@bp.get("/testruns/<int:id>", endpoint="testrun")
def testrun(id: int) -> tuple[str, int]:
    run_id = id
    return _run_page(run_id)


def _back(run_id: int, anchor: str = "") -> Response:
    target = url_for("studio.testrun", id=run_id) + anchor
    return redirect(target, 303)  # type: ignore[return-value]


@bp.post("/testruns/<int:id>/tasks/<task_id>", endpoint="testrun_complete")
def testrun_complete(id: int, task_id: str) -> Response | tuple[str, int]:
    run_id = id
    actor = _actor()
    run = service.get_run(db.session, run_id, actor)
    task = service.ready_task(service.describe(db.session, run), task_id)
    schema = task.schema if task is not None else None
    parsed = schema_form.parse_form(schema, request.form, request.files)
    for upload in parsed.uploads:  # a test run stores no file: a placeholder id instead
        name = UPLOAD_PLACEHOLDER.format(name=upload.file.filename or upload.name)
        schema_form.set_path(parsed.data, upload.path, name)
    try:
        with transaction() as session:
            if parsed.errors:
                _raise_with_validation(schema, parsed)
            service.complete_task(session, run_id, task_id, parsed.data, actor)
    except InvalidInputError as exc:
        values = schema_form.display_values(parsed, request.form, schema)
        errors = exc.fields or {"_form": [exc.message]}
        return _run_page(run_id, submitted={task_id: (values, errors)}, status=422)
    except ConflictError as exc:
        return _run_page(run_id, notice=exc.message, status=409)
    name = task.name if task is not None else task_id
    flash(_("测试任务“%(name)s”已办理。", name=name), "success")
    return _back(run_id)


@bp.post("/testruns/<int:id>/timers", endpoint="testrun_timers")
def testrun_timers(id: int) -> Response | tuple[str, int]:
    run_id = id
    try:
        with transaction() as session:
            run = service.fire_timer(session, run_id, _actor())
            clock = service.describe(session, run).clock
    except ConflictError as exc:
        return _run_page(run_id, notice=exc.message, status=409)
    flash(
        _("测试时钟已拨到 %(at)s，到期的定时器已触发。", at=clock.strftime("%Y-%m-%d %H:%M:%S")),
        "success",
    )
    return _back(run_id)


def testrun_message(id: int) -> Response | tuple[str, int]:
    run_id = id
    name = request.form.get("name", "")
    payload_text = request.form.get("payload", "")
    form = {"name": name, "payload": payload_text, "errors": {}}
    try:
        payload = service.parse_json_object(payload_text, "payload", _("消息内容"))
        with transaction() as session:
            service.send_message(session, run_id, name, payload, _actor())
    except InvalidInputError as exc:
        service.get_run(db.session, run_id, _actor())  # an unknown run is 404, not 422
        form["errors"] = exc.fields or {"_form": [exc.message]}
        return _run_page(run_id, message_form=form, status=422)
    except ConflictError as exc:
        return _run_page(run_id, notice=exc.message, status=409)
    flash(_("消息 %(name)s 已送达测试运行。", name=name.strip()), "success")
    return _back(run_id)


# The brief's endpoint name, plus the plural alias some pages may use.
bp.add_url_rule(
    "/testruns/<int:id>/messages",
    endpoint="testrun_message",
    view_func=testrun_message,
    methods=["POST"],
)
bp.add_url_rule(
    "/testruns/<int:id>/messages",
    endpoint="testrun_messages",
    view_func=testrun_message,
    methods=["POST"],
)


@bp.post("/testruns/<int:id>/delete", endpoint="testrun_delete")
def testrun_delete(id: int) -> Response:
    run_id = id
    with transaction() as session:
        draft_id = service.delete_run(session, run_id, _actor())
    flash(_("测试运行 #%(id)s 已删除。", id=run_id), "success")
    return redirect(url_for("studio.testruns", id=draft_id), 303)  # type: ignore[return-value]
