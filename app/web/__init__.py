"""Server-rendered UI: one blueprint package per area, discovered automatically."""

from __future__ import annotations

import importlib
import pkgutil

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Register `bp` of every package under app/web (auth, main, admin, approver, …)."""
    from app.web import labels, nav

    labels.init_app(app)
    nav.init_app(app)
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        package = importlib.import_module(f"{__name__}.{module.name}")
        blueprint = getattr(package, "bp", None)
        if blueprint is not None:
            app.register_blueprint(blueprint)
