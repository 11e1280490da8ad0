"""/api/v1/process-instances and their operations and attachments."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.api import bp
from app.api.common import api_user, json_body, token_required
from app.api.pagination import Filters, paginate
from app.extensions import db
from app.models import InstanceStatus, ProcessInstance, Role, Subject
from app.services import attachments, instances, operations
from app.services.errors import InvalidInputError, NotFoundError
from app.services.uow import transaction

# Ids are INTEGER columns: a larger number cannot exist, and SQLite overflows on it (500).
INSTANCE_ID = "int(max=2147483647):instance_id"


@bp.route("/process-instances", methods=["POST"])
@token_required(Role.ENTERPRISE, Role.APPROVER, Role.ADMIN)
def start_instance() -> tuple[Response, int]:
    """Start a process: {"process_key", "data"} (enterprises for their own subject)."""
    body = json_body()
    key, data = body.get("process_key"), body.get("data", {})
    if not isinstance(key, str) or not key:
        raise InvalidInputError(_("缺少 process_key。"), {"process_key": [_("必填。")]})
    actor = api_user()
    subject = None
    if actor.role != Role.ENTERPRISE and isinstance(body.get("subject_uscc"), str):
        subject = db.session.scalar(select(Subject).where(Subject.uscc == body["subject_uscc"]))
        if subject is None:
            raise NotFoundError(_("信用主体不存在。"))
    with transaction() as session:
        instance = instances.start_instance(session, key, data, actor, subject=subject)
        result = instances.instance_dict(session, instance, actor)
    return jsonify(result), 201


@bp.route("/process-instances")
@token_required()
def list_instances() -> Response:
    """Instances visible to the caller; filters status, process_key, subject_uscc."""
    filters = Filters()
    status = filters.choice("status", (s.value for s in InstanceStatus))
    process_key = filters.text("process_key")
    subject_uscc = filters.text("subject_uscc", max_length=18)
    filters.done()
    query = instances.scoped_instances(api_user()).order_by(ProcessInstance.id.desc())
    if status:
        query = query.where(ProcessInstance.status == status)
    if process_key:
        query = query.where(ProcessInstance.process_key == process_key)
    if subject_uscc:
        subject_ids = select(Subject.id).where(Subject.uscc == subject_uscc)
        query = query.where(ProcessInstance.subject_id.in_(subject_ids))
    return jsonify(paginate(db.session, query, _summary))


def _summary(instance: ProcessInstance) -> dict[str, object]:
    return {
        "id": instance.id,
        "process_key": instance.process_key,
        "version": instance.version.version,
        "status": instance.status,
        "created_at": instance.created_at.isoformat(),
    }


@bp.route(f"/process-instances/<{INSTANCE_ID}>")
@token_required()
def get_instance(instance_id: int) -> Response:
    instance = instances.get_instance(db.session, instance_id, api_user())
    body = instances.instance_dict(db.session, instance, api_user())
    body["attachments"] = [
        attachments.attachment_dict(a)
        for a in attachments.list_attachments(db.session, instance.id)
    ]
    return jsonify(body)


_OPERATIONS = {
    "suspend": operations.suspend,
    "resume": operations.resume,
    "terminate": operations.terminate,
    "retry": operations.retry,
}


@bp.route(
    f"/process-instances/<{INSTANCE_ID}>/<any(suspend,resume,terminate,retry):op>",
    methods=["POST"],
)
@token_required(Role.PROCESS_OWNER, Role.ADMIN)
def operate(instance_id: int, op: str) -> Response:
    """Operator actions (process owners and admins)."""
    actor = api_user()
    with transaction() as session:
        if op == "terminate":
            body = request.get_json(silent=True)
            reason = body.get("reason", "") if isinstance(body, dict) else ""
            instance = operations.terminate(session, instance_id, actor, str(reason))
        else:
            instance = _OPERATIONS[op](session, instance_id, actor)
        result = instances.instance_dict(session, instance, actor)
    return jsonify(result)


@bp.route(f"/process-instances/<{INSTANCE_ID}>/attachments", methods=["POST"])
@token_required()
def upload_attachment(instance_id: int) -> tuple[Response, int]:
    """Upload a material (multipart `file`, `kind`)."""
    actor = api_user()
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInputError(_("请选择要上传的文件（字段 file）。"), {"file": [_("必填。")]})
    with transaction() as session:
        instance = instances.get_instance(session, instance_id, actor)
        attachment = attachments.add_attachment(
            session,
            instance,
            actor,
            kind=request.form.get("kind", ""),
            filename=upload.filename or "",
            stream=upload.stream,
            storage_dir=Path(current_app.config["STORAGE_DIR"]),
            max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
        )
        result = attachments.attachment_dict(attachment)
    return jsonify(result), 201
