"""Stored materials, streamed inline to the users who may see their case (404 otherwise)."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import Attachment
from app.services.instances import get_instance
from app.web.files import bp


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> Response:
    """The file with its sniffed content type, for inline preview (PDF, images)."""
    found = db.session.get(Attachment, attachment_id)
    if found is None:
        abort(404)
    get_instance(db.session, found.instance_id, current_user._get_current_object())  # 404
    sha = found.sha256
    path = Path(current_app.config["STORAGE_DIR"]) / sha[:2] / sha[2:4] / sha
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=found.content_type,
        as_attachment=False,
        download_name=found.original_name,
        conditional=True,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
