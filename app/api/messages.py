"""POST /api/v1/messages: external feedback into waiting processes."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from app.api import bp
from app.api.auth import is_integration
from app.api.common import api_user, json_body, token_required
from app.extensions import db
from app.models import ProcessedMessage, Role
from app.services import messages
from app.services.errors import ConflictError, InvalidInputError, NotAllowedError, NotFoundError
from app.services.uow import transaction

MAX_NAME = 128  # message_subscription.message_name
MAX_MESSAGE_ID = 64  # kept as the audit entry's object id


def _validated(body: dict[str, Any]) -> dict[str, Any]:
    fields = {
        k: [_("必填，且须为字符串。")]
        for k in ("name", "message_id")
        if not isinstance(body.get(k), str) or not body[k].strip()
    }
    if "name" not in fields and len(body["name"]) > MAX_NAME:
        fields["name"] = [_("不超过 %(max)s 个字符。", max=MAX_NAME)]
    if "message_id" not in fields and len(body["message_id"]) > MAX_MESSAGE_ID:
        fields["message_id"] = [_("不超过 %(max)s 个字符。", max=MAX_MESSAGE_ID)]
    for key in ("correlation", "payload"):
        if body.get(key) is not None and not isinstance(body[key], dict):
            fields[key] = [_("须为 JSON 对象。")]
    if fields:
        raise InvalidInputError(_("消息字段校验失败。"), fields)
    return {
        "name": body["name"],
        "correlation": body.get("correlation") or {},
        "payload": body.get("payload") or {},
        "message_id": body["message_id"],
    }


@bp.route("/messages", methods=["POST"])
@token_required()
def post_message() -> tuple[Response, int]:
    """{"name", "correlation", "payload", "message_id"} → 202 {"delivered_to": [...]}.

    Integration tokens holding `messages:send`, approvers and admins. A repeated
    `message_id` is a no-op answered like the first delivery, also when both arrive at once.
    """
    actor = api_user()
    if not is_integration() and actor.role not in (Role.APPROVER, Role.ADMIN):
        raise NotAllowedError(_("只有审批人或持有 messages:send 权限的集成令牌可以发送消息。"))
    message = _validated(json_body())
    try:
        with transaction() as session:
            result = messages.deliver(
                session,
                message["name"],
                message["correlation"],
                message["payload"],
                message["message_id"],
                actor,
            )
    except (IntegrityError, ConflictError, NotFoundError):
        # A concurrent request with the same message_id may have delivered it first (we then
        # found the instance done, or lost the insert race): answer as that request did.
        db.session.rollback()
        done = db.session.get(ProcessedMessage, message["message_id"])
        if done is None:
            raise
        return jsonify(dict(done.response)), 202
    return jsonify(result), 202
