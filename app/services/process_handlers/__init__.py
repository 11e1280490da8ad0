"""Service-task handlers of the shipped processes, one module per process or domain.

Every module in this package is imported by `load_all()` (called once by create_app), which
registers its `@handler(...)` functions in `app.services.handlers.HANDLERS`.
"""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
