"""/api/v1/process-instances/<id>/migration (dry run) and …/migrate (process owners, admins)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.api import bp
from app.api.common import api_user, token_required
from app.models import Role
from app.services import migration
from app.services.errors import InvalidInputError, ServiceError
from app.services.uow import transaction

# Ids and versions are INTEGER columns: a larger number cannot exist and overflows a query.
INT_MAX = 2147483647


def _version(value: Any) -> int | None:
    """`to` as a positive version number, or None for the latest version."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT_MAX:
        raise InvalidInputError(_("to 必须是正整数（目标版本号）。"), {"to": [_("须为正整数。")]})
    return value


@bp.route("/process-instances/<int(max=2147483647):instance_id>/migration")
@token_required(Role.PROCESS_OWNER, Role.ADMIN)
def migration_dry_run(instance_id: int) -> Response:
    """What migrating to version `?to=N` (default: latest) would change; nothing is saved."""
    target = _version(request.args.get("to"))
    with transaction() as session:
        report = migration.dry_run(session, instance_id, api_user(), target)
    return jsonify(report)


@bp.route("/process-instances/<int(max=2147483647):instance_id>/migrate", methods=["POST"])
@token_required(Role.PROCESS_OWNER, Role.ADMIN)
def migrate_instance(instance_id: int) -> Response:
    """Migrate to `{"to": N}` (default: latest); 409 with `details.blocking` when unsafe."""
    body = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        raise ServiceError(_("请求体必须是 JSON 对象（Content-Type: application/json）。"))
    target = _version(body.get("to"))
    with transaction() as session:
        report = migration.migrate(session, instance_id, api_user(), target)
    return jsonify(report)
