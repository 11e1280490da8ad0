"""JSON API under /api/v1 (CONTRACT §5): one module per resource, one error envelope."""

from __future__ import annotations

from flask import Blueprint, Flask

from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def register_api(app: Flask) -> None:
    from app.api import auth, definitions, instances, messages, subjects, tasks  # noqa: F401

    csrf.exempt(bp)
    app.register_blueprint(bp)
