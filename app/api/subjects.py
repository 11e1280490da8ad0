"""GET /api/v1/subjects/{uscc}/records."""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.wrappers import Response

from app.api import bp
from app.api.common import api_user, token_required
from app.extensions import db
from app.services import subjects


@bp.route("/subjects/<uscc>/records")
@token_required()
def subject_records(uscc: str) -> Response:
    """A subject's credit records: the enterprise itself, approvers and admins."""
    subject = subjects.get_subject_for(db.session, uscc, api_user())
    rows = subjects.list_records(db.session, subject)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = min(max(request.args.get("per_page", 50, type=int) or 50, 1), 200)
    items = [subjects.record_dict(r) for r in rows[(page - 1) * per_page : page * per_page]]
    return jsonify(items=items, total=len(rows), page=page, per_page=per_page)
