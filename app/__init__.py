"""CreditFlow application factory."""

from __future__ import annotations

import logging.config
from collections.abc import Mapping
from typing import Any

from flask import Flask

from config import BASE_DIR, default_config

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "SpiffWorkflow": {"level": "WARNING"},
        "spiff": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "alembic": {"level": "WARNING"},
    },
}


def create_app(config: object | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, error handlers, CLI."""
    logging.config.dictConfig(LOGGING)
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.from_object(config if config is not None else default_config())
    if overrides:
        app.config.update(overrides)

    from app import auth, cli, i18n, security
    from app.api import register_api
    from app.extensions import csrf, db, limiter, login_manager
    from app.web import register_blueprints
    from app.web.errors import register_error_handlers

    db.init_app(app)
    from app.services import host, passwords

    host.SETTINGS.timezone = app.config["APP_TIMEZONE"]
    passwords.configure(app.config.get("PASSWORD_HASH_PROFILE", "default"))
    from app.services.process_handlers import load_all

    load_all()
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    register_blueprints(app)
    register_api(app)
    register_error_handlers(app)
    cli.init_app(app)
    return app
