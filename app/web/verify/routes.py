"""Public verification of issued documents: status by serial, and a byte-for-byte upload check."""

from __future__ import annotations

from flask import render_template, request

from app.extensions import db
from app.services import documents
from app.web.verify import bp


@bp.get("/<serial>")
def show(serial: str) -> tuple[str, int]:
    """The document's status (有效 / 已撤销 / 已被新文书替代 / 不存在), no sign-in needed."""
    info = documents.verify(db.session, serial)
    return render_template("verify/show.html", info=info, check=None), (
        200 if info["found"] else 404
    )


@bp.post("/<serial>")
def check(serial: str) -> tuple[str, int]:
    """Compare an uploaded PDF with the issued one, byte for byte."""
    info = documents.verify(db.session, serial)
    if not info["found"]:
        return render_template("verify/show.html", info=info, check=None), 404
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("verify/show.html", info=info, check="missing"), 422
    same = documents.matches(db.session, serial, upload.read())
    return render_template("verify/show.html", info=info, check="match" if same else "differ"), 200
