"""POST /api/v1/records: batch import of credit records from a public credit platform."""

from __future__ import annotations

import json

from flask import jsonify, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.api import bp
from app.api.auth import is_integration
from app.api.common import api_user, token_required
from app.models import Role
from app.services import record_import
from app.services.errors import InvalidInputError, NotAllowedError, ServiceError
from app.services.uow import transaction


class TooLargeError(ServiceError):
    status = 413
    code = "too_large"


class UnsupportedTypeError(ServiceError):
    status = 415
    code = "unsupported_type"


@bp.route("/records", methods=["POST"])
@token_required()
def import_records() -> tuple[Response, int]:
    """{"records": [row, …]} (1–500 rows) → 200 {"results": [...], "summary": {...}}.

    Admins with a personal token, or integration tokens holding `records:import`.
    Every row is answered; rejected rows carry per-field errors and do not stop the others.
    """
    if not is_integration() and api_user().role != Role.ADMIN:
        raise NotAllowedError(_("只有管理员或持有 records:import 权限的集成令牌可以导入信用记录。"))
    if not request.is_json:
        raise UnsupportedTypeError(_("请求体须为 JSON（Content-Type: application/json）。"))
    try:
        body = json.loads(request.get_data(cache=False) or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ServiceError(_("请求体不是合法的 JSON。")) from exc
    rows = body.get("records") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows:
        raise InvalidInputError(
            _('请求体须为 {"records": [...]}。'),
            {"records": [_("必填，须为 1 至 %(max)s 条记录的数组。", max=record_import.MAX_ROWS)]},
        )
    if len(rows) > record_import.MAX_ROWS:
        raise TooLargeError(
            _(
                "一次最多导入 %(max)s 条记录（本次 %(rows)s 条），请分批报送。",
                max=record_import.MAX_ROWS,
                rows=len(rows),
            ),
            details={"max_rows": record_import.MAX_ROWS, "rows": len(rows)},
        )
    with transaction() as session:
        result = record_import.import_records(session, rows, api_user())
    return jsonify(result), 200
