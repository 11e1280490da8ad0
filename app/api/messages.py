"""POST /api/v1/messages: external feedback into waiting processes."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from app.api import bp
from app.api.common import api_user, json_body, token_required
from app.models import Role
from app.services import messages
from app.services.errors import InvalidInputError
from app.services.uow import transaction


@bp.route("/messages", methods=["POST"])
@token_required(Role.APPROVER, Role.ADMIN)
def post_message() -> tuple[Response, int]:
    """{"name", "correlation", "payload", "message_id"} → 202 {"delivered_to": [...]}."""
    body = json_body()
    fields = {
        k: ["必填，且须为字符串。"]
        for k in ("name", "message_id")
        if not isinstance(body.get(k), str) or not body.get(k)
    }
    # message_id is stored as a key (and audit object id) of at most 64 characters.
    if "message_id" not in fields and len(body["message_id"]) > 64:
        fields["message_id"] = ["不超过 64 个字符。"]
    if fields:
        raise InvalidInputError("消息字段校验失败。", fields)
    with transaction() as session:
        result = messages.deliver(
            session,
            body["name"],
            body.get("correlation") or {},
            body.get("payload") or {},
            body["message_id"],
            api_user(),
        )
    return jsonify(result), 202
