"""One round of background work for the embedded `flask worker` loop (no BROKER_URL).

The jobs themselves live in `app.jobs`; with BROKER_URL set, Celery runs the same functions as
tasks (`app.celery_app`), so both modes share one code path.
"""

from __future__ import annotations

from app.jobs import run_round

__all__ = ["run_round"]
