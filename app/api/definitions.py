"""/api/v1/process-definitions."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.api import bp
from app.api.common import api_user, token_required
from app.api.pagination import Filters, paginate_list
from app.extensions import db
from app.models import Role
from app.services import definitions
from app.services.errors import InvalidInputError
from app.services.uow import transaction


@bp.route("/process-definitions")
@token_required()
def list_definitions() -> Response:
    """Latest version of each process (`?all=1`: every version; `?key=` one process)."""
    filters = Filters()
    every, key = filters.flag("all"), filters.text("key")
    filters.done()
    rows = definitions.list_versions(db.session, all_versions=every)
    if key is not None:
        rows = [v for v in rows if v.key == key]
    return jsonify(paginate_list(rows, definitions.version_dict))


@bp.route("/process-definitions", methods=["POST"])
@token_required(Role.PROCESS_OWNER, Role.ADMIN)
def deploy_definitions() -> tuple[Response, int]:
    """Deploy uploaded .bpmn/.dmn/.json files (multipart field `files`)."""
    uploads = request.files.getlist("files")
    if not uploads:
        raise InvalidInputError(
            _("请上传流程文件（字段 files）。"), {"files": [_("至少上传一个文件。")]}
        )
    files = {(u.filename or "unnamed"): u.read() for u in uploads}
    with transaction() as session:
        results = definitions.deploy_bundle(session, files, actor=api_user())
    created = [r for r in results if r.created] or results
    first = created[0]
    return jsonify(
        key=first.key,
        version=first.version,
        deployed=[{"key": r.key, "version": r.version, "created": r.created} for r in results],
    ), 201 if any(r.created for r in results) else 200
