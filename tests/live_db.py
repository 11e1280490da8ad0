"""A scratch PostgreSQL database with real commits, for tests that need several connections."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import Flask
from sqlalchemy import Engine

from app import migrate
from app.db import make_engine, scratch_postgres
from app.extensions import db as database
from app.services.seed import seed_demo
from app.services.uow import transaction
from tests.conftest import require_postgres


@contextmanager
def live_postgres(app: Flask) -> Iterator[Engine]:
    """Bind the app's session to a fresh, migrated, seeded scratch database; drop it after."""
    with scratch_postgres(require_postgres(), "cf_live") as url:
        yield from _bound(app, url)


def _bound(app: Flask, url: str) -> Iterator[Engine]:
    engine = make_engine(url, pool_size=25, max_overflow=10)
    previous = database.engine
    try:
        migrate.upgrade(url)
        database.session.remove()
        database.session.configure(bind=engine)
        database.engine = engine
        with app.app_context():
            with transaction() as session:
                seed_demo(session, password="demo12345", today=date(2026, 11, 20))
            yield engine
    finally:
        database.session.remove()
        database.session.configure(bind=previous)
        database.engine = previous
        engine.dispose()
