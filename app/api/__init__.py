"""JSON API under /api/v1 (CONTRACT §5): one module per resource, one error envelope."""

from __future__ import annotations

from flask import Blueprint, Flask

from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def register_api(app: Flask) -> None:
    from app.api import (  # noqa: F401
        auth,
        definitions,
        documents,
        instances,
        messages,
        migration,
        openapi,
        records,
        subjects,
        tasks,
    )

    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(openapi.docs_bp)
