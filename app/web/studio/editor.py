"""Studio routes (editor): processes, versions, drafts, the modeler page and its JSON endpoints.

Pages are server-rendered and thin; the modeler page (templates/studio/draft.html) gets its
whole configuration as one `config` dict. JSON endpoints always answer errors with the
envelope {"error": {"code", "message", "details"}} whatever the Accept header says.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.routing import BuildError

from app.extensions import db
from app.models import ProcessDraft, ProcessVersion, User
from app.services import definitions
from app.services.definitions import BundleInvalidError
from app.services.errors import InvalidInputError, NotFoundError, ServiceError
from app.services.studio import drafts
from app.services.studio import registry as studio_registry
from app.services.studio.diff import diff_bundles
from app.web import schema_form
from app.web.studio import bp

ViewResult = Any


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _envelope(status: int, code: str, message: str, details: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return jsonify(body), status


def json_endpoint(view: Callable[..., Any]) -> Callable[..., Any]:
    """Service errors (and stale rows, oversized bodies) as the JSON error envelope."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ServiceError as exc:
            db.session.rollback()
            return _envelope(exc.status, exc.code, exc.message, dict(exc.details))
        except StaleDataError:
            db.session.rollback()
            return _envelope(409, "conflict", _("草稿已被他人保存。请刷新后重新编辑。"))
        except RequestEntityTooLarge:
            return _envelope(413, "too_large", _("提交的内容过大。单个文件最多 2 MB。"))

    return wrapped


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ServiceError(_("请求体必须是 JSON 对象（Content-Type: application/json）。"))
    return data


def _optional_url(endpoint: str, **values: Any) -> str | None:
    """The URL of an endpoint another area provides, or None while it does not exist."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


# --- processes ---------------------------------------------------------------------------------


@bp.get("/")
def index() -> ViewResult:
    return _index_page()


def _index_page(
    errors: dict[str, list[str]] | None = None,
    form: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> ViewResult:
    rows = drafts.process_overview(db.session)
    return render_template(
        "studio/index.html",
        rows=rows,
        errors=errors or {},
        form=form or {},
        message=message,
        instances_url=lambda key: _optional_url("studio.instances", key=key),
    ), status


@bp.get("/processes/<key>")
def process(key: str) -> ViewResult:
    versions = drafts.versions_of(db.session, key)
    open_drafts = drafts.list_drafts(db.session, key)
    if not versions and not open_drafts:
        raise NotFoundError(_("流程 %(key)s 不存在：没有已发布的版本，也没有草稿。", key=key))
    users = _user_names(
        [v.deployed_by_id for v in versions] + [d.updated_by_id for d in open_drafts]
    )
    by_id = {v.id: v for v in versions}
    return render_template(
        "studio/process.html",
        key=key,
        name=versions[0].name if versions else open_drafts[0].name,
        versions=versions,
        latest=versions[0] if versions else None,
        drafts=open_drafts,
        base_versions={d.id: by_id.get(d.base_version_id) for d in open_drafts},
        users=users,
        instances_url=_optional_url("studio.instances", key=key),
        migrate_url=_optional_url("studio.migrate", key=key),
    )


def _user_names(ids: list[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {
        u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(wanted)))
    }


@bp.post("/processes/<key>/drafts")
def new_draft(key: str) -> ViewResult:
    raw = (request.form.get("version") or "").strip()
    if raw and not raw.isdigit():
        raise InvalidInputError(_("版本号须为正整数。"), {"version": [_("版本号须为正整数。")]})
    draft = drafts.create_from_version(db.session, key, int(raw) if raw else None, _actor())
    db.session.commit()
    flash(_("已新建草稿 #%(id)s。", id=draft.id), "success")
    return redirect(url_for("studio.draft", id=draft.id), 303)


@bp.post("/processes/new")
def new_process() -> ViewResult:
    key = (request.form.get("key") or "").strip()
    name = (request.form.get("name") or "").strip()
    try:
        draft = drafts.create_blank(db.session, key, name, _actor())
    except InvalidInputError as exc:
        db.session.rollback()
        return _index_page(exc.fields, {"key": key, "name": name}, exc.message, 422)
    db.session.commit()
    flash(_("已新建流程 %(key)s 的草稿，请在建模器中编辑。", key=key), "success")
    return redirect(url_for("studio.draft", id=draft.id), 303)


@bp.post("/drafts/import")
def import_draft() -> ViewResult:
    try:
        uploads = {
            (f.filename or ""): f.read(drafts.MAX_FILE_BYTES + 1)
            for f in request.files.getlist("files")
            if f.filename
        }
    except RequestEntityTooLarge:
        return _index_page(
            {"files": [_("上传内容过大。")]}, message=_("上传内容过大，未导入。"), status=413
        )
    if not uploads:
        fields = {"files": [_("请选择一个 .bpmn 文件（可同时选择它的 .dmn 和 .json 文件）。")]}
        return _index_page(fields, message=_("没有收到文件，未导入。"), status=422)
    try:
        draft = drafts.create_from_upload(db.session, uploads, _actor())
    except InvalidInputError as exc:
        db.session.rollback()
        return _index_page({"import": _field_lines(exc.fields)}, message=exc.message, status=422)
    db.session.commit()
    flash(_("已导入为草稿 #%(id)s（流程 %(key)s）。", id=draft.id, key=draft.key), "success")
    return redirect(url_for("studio.draft", id=draft.id), 303)


def _field_lines(fields: dict[str, list[str]]) -> list[str]:
    return [f"{name}：{message}" for name, messages in fields.items() for message in messages]


# --- the modeler page --------------------------------------------------------------------------


def _draft(id: int) -> ProcessDraft:
    return drafts.get_draft(db.session, id)


def modeler_config(draft: ProcessDraft) -> dict[str, Any]:
    """The modeler page's configuration (the brief's "Modeler page config")."""
    base = drafts.base_version(db.session, draft)
    info = drafts.saved_by(db.session, draft)
    files = dict(draft.files or {})
    return {
        "draftId": draft.id,
        "key": draft.key,
        "name": draft.name,
        "status": draft.status,
        "lockVersion": info["lockVersion"],
        "mainFile": drafts.main_file(files, draft.key),
        "files": files,
        "updatedAt": info["updatedAt"],
        "updatedBy": info["updatedBy"],
        "baseVersion": base.version if base else None,
        "readOnly": draft.status != drafts.OPEN,
        "handlers": studio_registry.handlers(),
        "roles": studio_registry.roles(),
        "helpers": studio_registry.helpers(),
        "timerExamples": studio_registry.TIMER_EXAMPLES,
        "urls": {
            "files": url_for("studio.draft_files", id=draft.id),
            "save": url_for("studio.save_draft", id=draft.id),
            "validate": url_for("studio.validate_draft", id=draft.id),
            "diff": url_for("studio.draft_diff", id=draft.id),
            "deploy": url_for("studio.deploy_confirm", id=draft.id),
            "discard": url_for("studio.discard_draft", id=draft.id),
            "formPreview": url_for("studio.form_preview", id=draft.id),
            "timerPreview": url_for("studio.timer_preview"),
            "registry": url_for("studio.registry"),
            "testrun": _optional_url("studio.start_testrun", id=draft.id),
            "testruns": _optional_url("studio.testruns", id=draft.id),
            "process": url_for("studio.process", key=draft.key),
            "download": url_for("studio.download_version", key=draft.key, v=base.version)
            if base
            else None,
            "index": url_for("studio.index"),
        },
        "csrfToken": generate_csrf(),
    }


@bp.get("/drafts/<int:id>")
def draft(id: int) -> ViewResult:
    found = _draft(id)
    return render_template("studio/draft.html", draft=found, config=modeler_config(found))


@bp.get("/drafts/<int:id>/files")
@json_endpoint
def draft_files(id: int) -> ViewResult:
    found = _draft(id)
    return jsonify({"files": found.files, **drafts.saved_by(db.session, found)})


@bp.put("/drafts/<int:id>/files")
@json_endpoint
def save_draft(id: int) -> ViewResult:
    body = _json_body()
    saved = drafts.save(db.session, id, body.get("files"), body.get("lockVersion"), _actor())
    info = drafts.saved_by(db.session, saved)
    db.session.commit()
    return jsonify(info)


@bp.post("/drafts/<int:id>/validate")
@json_endpoint
def validate_draft(id: int) -> ViewResult:
    return jsonify(drafts.validate(_draft(id)))


def _diff_for(found: ProcessDraft) -> dict[str, Any]:
    """The draft against the current (latest) version of its key."""
    current = definitions.latest_version(db.session, found.key)
    old = None
    if current is not None:
        try:
            old = drafts.bundle_for_key(current.files, found.key)
        except NotFoundError:
            old = {}
    result = diff_bundles(old, dict(found.files or {}))
    result["base"] = {"key": current.key, "version": current.version} if current else None
    return result


@bp.get("/drafts/<int:id>/diff")
@json_endpoint
def draft_diff(id: int) -> ViewResult:
    return jsonify(_diff_for(_draft(id)))


@bp.post("/drafts/<int:id>/form-preview")
@json_endpoint
def form_preview(id: int) -> ViewResult:
    _draft(id)
    schema = _json_body().get("schema")
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as exc:
            raise _schema_invalid(
                _("JSON 格式错误（第 %(line)s 行）：%(error)s。", line=exc.lineno, error=exc.msg)
            ) from exc
    if not isinstance(schema, dict):
        raise _schema_invalid(_("表单须是一个 JSON 对象（JSON Schema）。"))
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or _("根")
        raise _schema_invalid(
            _(
                "不是有效的 JSON Schema（位置：%(where)s）：%(error)s",
                where=where,
                error=exc.message,
            )
        ) from exc
    if schema.get("type") != "object" or not isinstance(schema.get("properties", {}), dict):
        raise _schema_invalid(_('任务表单的顶层须是 "type": "object"，字段写在 properties 中。'))
    try:
        fields = schema_form.build_fields(schema, {}, {})
        html = render_template("studio/editor_form_preview.html", schema=schema, fields=fields)
    except Exception as exc:  # noqa: BLE001 - an odd schema must not give a 500
        problem = f"{type(exc).__name__}: {exc}"
        raise _schema_invalid(_("无法按该表单渲染：%(error)s", error=problem)[:300]) from exc
    return Response(html, mimetype="text/html")


def _schema_invalid(message: str) -> InvalidInputError:
    return InvalidInputError(message, {"schema": [message]})


# --- deploy, discard, rollback, download -------------------------------------------------------


@bp.get("/drafts/<int:id>/deploy")
def deploy_confirm(id: int) -> ViewResult:
    found = _draft(id)
    check = drafts.validate(found) if found.status == drafts.OPEN else {"ok": True, "problems": []}
    return render_template(
        "studio/deploy_confirm.html",
        draft=found,
        diff=_diff_for(found),
        check=check,
        errors=[p for p in check["problems"] if p["severity"] == "error"],
        saved=drafts.saved_by(db.session, found),
    )


@bp.post("/drafts/<int:id>/deploy")
def deploy_draft(id: int) -> ViewResult:
    raw = (request.form.get("lock_version") or "").strip()
    lock_version: int | str | None = int(raw) if raw.isdigit() else (raw or None)
    try:
        result = drafts.deploy(db.session, id, _actor(), lock_version)
    except BundleInvalidError as exc:
        db.session.rollback()
        found = _draft(id)
        return render_template(
            "studio/deploy_problems.html", draft=found, problems=exc.problems
        ), 422
    if not result.deployed.created:
        db.session.rollback()
        flash(
            _(
                "草稿内容与当前版本 %(v)s 相同，未发布新版本。",
                v=result.deployed.version,
            ),
            "info",
        )
        return redirect(url_for("studio.draft", id=id), 303)
    db.session.commit()
    flash(_("已发布为版本 %(v)s", v=result.deployed.version), "success")
    return redirect(url_for("studio.process", key=result.draft.key), 303)


@bp.post("/drafts/<int:id>/discard")
def discard_draft(id: int) -> ViewResult:
    found = drafts.discard(db.session, id, _actor())
    db.session.commit()
    flash(_("已丢弃草稿 #%(id)s。", id=id), "success")
    return redirect(url_for("studio.process", key=found.key), 303)


def _version(key: str, v: int) -> ProcessVersion:
    return definitions.get_version(db.session, key, v)


@bp.get("/processes/<key>/versions/<int:v>/download")
def download_version(key: str, v: int) -> ViewResult:
    files = drafts.version_files(db.session, key, v)
    name = request.args.get("file")
    if name is not None:
        if name not in files:
            raise NotFound()
        mimetype = "application/json" if name.endswith(".json") else "application/xml"
        return Response(
            files[name].encode("utf-8"),
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(
        drafts.zip_bytes(files),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{key}-v{v}.zip"'},
    )


@bp.get("/processes/<key>/versions/<int:v>/rollback")
def rollback_confirm(key: str, v: int) -> ViewResult:
    old = _version(key, v)
    current = definitions.latest_version(db.session, key)
    assert current is not None  # the key has a version (old)
    diff = diff_bundles(
        drafts.bundle_for_key(current.files, key), drafts.bundle_for_key(old.files, key)
    )
    diff["base"] = {"key": key, "version": current.version}
    return render_template(
        "studio/editor_rollback.html",
        key=key,
        version=old,
        current=current,
        diff=diff,
        same=current.sha256 == old.sha256,
    )


@bp.post("/processes/<key>/versions/<int:v>/rollback")
def rollback(key: str, v: int) -> ViewResult:
    deployed = drafts.rollback(db.session, key, v, _actor())
    db.session.commit()
    flash(_("已将版本 %(old)s 重新发布为版本 %(new)s。", old=v, new=deployed.version), "success")
    return redirect(url_for("studio.process", key=key), 303)


# --- registry and previews ---------------------------------------------------------------------


@bp.get("/registry")
@json_endpoint
def registry() -> ViewResult:
    return jsonify(studio_registry.registry())


@bp.post("/timer-preview")
@json_endpoint
def timer_preview() -> ViewResult:
    body = _json_body()
    result = studio_registry.timer_preview(
        db.session, body.get("kind"), body.get("expression"), body.get("data")
    )
    return jsonify(result)
