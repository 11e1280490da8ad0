"""Migrations: one head, models match, and upgrade → downgrade → upgrade works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from app import migrate
from app.db import make_engine
from app.db import scratch_postgres as scratch_database
from app.models import Base
from tests.conftest import require_postgres


def test_single_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def _round_trip(url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    assert "audit_event" in inspect(engine).get_table_names()
    engine.dispose()
    migrate.downgrade(url, "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT seq FROM audit_head")).scalar() == 0
    engine.dispose()


def test_upgrade_downgrade_upgrade_on_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'roundtrip.db'}")


@pytest.fixture()
def scratch_postgres() -> Iterator[str]:
    with scratch_database(require_postgres(), "cf_migtest") as url:
        yield url


@pytest.mark.postgres
def test_upgrade_downgrade_upgrade_on_postgres(scratch_postgres: str) -> None:
    _round_trip(scratch_postgres)
