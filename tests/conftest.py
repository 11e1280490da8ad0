"""Fixtures: one app per database backend, each test in a rolled-back transaction.

SQLite always; PostgreSQL too when TEST_DATABASE_URL is set. With REQUIRE_POSTGRES=1 an
unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app import create_app, migrate
from app.db import make_engine
from app.extensions import db as database
from app.extensions import limiter
from config import TestingConfig

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("REQUIRE_POSTGRES") == "1"
SEED_DAY = date(2026, 11, 20)  # a Friday; records are dated relative to it


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_PG and not PG_URL:
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")


def _backends() -> list[str]:
    return ["sqlite", "postgres"] if PG_URL else ["sqlite"]


def pg_available() -> bool:
    try:
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def require_postgres() -> str:
    """Return the PostgreSQL URL, skipping (or failing under REQUIRE_POSTGRES) without one."""
    if PG_URL and pg_available():
        return PG_URL
    if REQUIRE_PG:
        pytest.fail(f"PostgreSQL required but not reachable at {PG_URL!r}")
    pytest.skip("PostgreSQL not configured (set TEST_DATABASE_URL)")


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="creditflow-test-") as root:
        yield Path(root)


@pytest.fixture(scope="session", params=_backends())
def backend(request: pytest.FixtureRequest, tmp_root: Path) -> str:
    """The database URL of this run's backend, migrated to head."""
    if request.param == "postgres":
        url = require_postgres()
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_root / 'test.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def app(backend: str, tmp_root: Path) -> Iterator[Flask]:
    config = TestingConfig()
    flask_app = create_app(
        config, overrides={"DATABASE_URL": backend, "STORAGE_DIR": str(tmp_root / "files")}
    )
    yield flask_app
    flask_app.extensions["database_engine"].dispose()


@pytest.fixture()
def engine(app: Flask) -> Engine:
    return app.extensions["database_engine"]  # type: ignore[no-any-return]


@pytest.fixture()
def session(app: Flask, engine: Engine) -> Iterator[Session]:
    """A session whose commits are savepoints inside one outer transaction, rolled back after."""
    with app.app_context():
        database.engine = engine  # the backend of this test's app
        connection = engine.connect()
        outer = connection.begin()
        database.session.remove()
        database.session.configure(bind=connection, join_transaction_mode="create_savepoint")
        limiter.reset()
        try:
            yield database.session()
        finally:
            database.session.remove()
            outer.rollback()
            connection.close()
            database.session.configure(bind=engine)


@pytest.fixture()
def seeded(session: Session, app: Flask) -> Session:
    """The demo data of CONTRACT §3, seeded as of SEED_DAY."""
    from app.services.seed import seed_demo

    seed_demo(session, password=app.config["DEMO_PASSWORD"], today=SEED_DAY)
    session.commit()
    return session


@pytest.fixture()
def client(app: Flask, session: Session) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or re.search(
        r'name="csrf_token" value="([^"]+)"', page.text
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = "demo12345") -> None:
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.text


def api_token(client: FlaskClient, username: str, password: str = "demo12345") -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json['token']}"}
