"""A scratch PostgreSQL database with real commits, for tests that need several connections."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import Flask
from sqlalchemy import Engine, text

from app import migrate
from app.db import make_engine
from app.extensions import db as database
from app.services.seed import seed_demo
from app.services.uow import transaction
from tests.conftest import require_postgres


@contextmanager
def live_postgres(app: Flask) -> Iterator[Engine]:
    """Bind the app's session to a fresh, migrated, seeded scratch database; drop it after."""
    base = require_postgres()
    name = f"cf_live_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
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
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
