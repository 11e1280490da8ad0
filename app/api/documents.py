"""Issued documents: download for those who may see the case, public verification by serial."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, jsonify, send_file
from werkzeug.wrappers import Response

from app.api import bp
from app.api.common import api_user, token_required
from app.extensions import db
from app.services import documents


@bp.get("/documents/<serial>")
@token_required()
def document_pdf(serial: str) -> Response:
    """The signed PDF (404 unless the caller may see it)."""
    storage = Path(current_app.config["STORAGE_DIR"])
    found = documents.open_for(db.session, serial, api_user(), storage)
    response = send_file(
        documents.file_path(storage, found.sha256),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=documents.download_name(found),
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/verify/<serial>")
def verify(serial: str) -> tuple[Response, int]:
    """Public status of a serial; no token needed. Unknown serials answer 404 {valid: false}."""
    info = documents.verify(db.session, serial)
    keys = (
        "valid",
        "serial",
        "kind",
        "title",
        "status",
        "issued_at",
        "sha256",
        "revoked",
        "superseded",
        "superseded_by",
        "subject_name_masked",
    )
    if not info["found"]:
        return jsonify({"valid": False, "serial": serial, "found": False}), 404
    return jsonify({k: info[k] for k in keys}), 200
