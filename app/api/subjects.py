"""GET /api/v1/subjects/{uscc}/records."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from app.api import bp
from app.api.common import api_user, token_required
from app.api.pagination import Filters, paginate_list
from app.extensions import db
from app.models.credit_record import RecordStatus, RecordType
from app.services import subjects


@bp.route("/subjects/<uscc>/records")
@token_required()
def subject_records(uscc: str) -> Response:
    """A subject's credit records, newest decision first: the enterprise itself, approvers
    and admins. Filters `status` and `record_type`."""
    filters = Filters()
    status = filters.choice("status", (s.value for s in RecordStatus))
    record_type = filters.choice("record_type", (t.value for t in RecordType))
    filters.done()
    subject = subjects.get_subject_for(db.session, uscc, api_user())
    rows = [
        r
        for r in subjects.list_records(db.session, subject)
        if (status is None or r.status == status)
        and (record_type is None or r.record_type == record_type)
    ]
    return jsonify(paginate_list(rows, subjects.record_dict))
