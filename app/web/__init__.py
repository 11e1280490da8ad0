"""Server-rendered UI: one blueprint package per area."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.web import labels
    from app.web.admin import bp as admin_bp
    from app.web.auth import bp as auth_bp
    from app.web.main import bp as main_bp

    labels.init_app(app)

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(admin_bp)
