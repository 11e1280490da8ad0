"""Downloading issued documents (signed-in users who may see the case; 404 otherwise)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.extensions import db
from app.services import documents
from app.web.documents import bp


@bp.get("/<serial>/download")
@login_required
def download(serial: str) -> Response:
    """The signed PDF as an attachment named after its Chinese title and serial."""
    storage = Path(current_app.config["STORAGE_DIR"])
    found = documents.open_for(db.session, serial, current_user._get_current_object(), storage)
    response = send_file(
        documents.file_path(storage, found.sha256),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=documents.download_name(found),
        conditional=True,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
