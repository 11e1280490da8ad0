"""The benchmark harnesses run end to end at tiny sizes (they measure; nothing here is timed).

Each goes through its `flask bench …` command, as the README tells an operator to run it.
`bench http` and `bench inbox` need PostgreSQL (a scratch database is created on the server of
TEST_DATABASE_URL and dropped after); `bench growth` runs on SQLite too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

import config
from app import create_app
from app.extensions import db as database
from tests.conftest import require_postgres


@pytest.fixture(scope="module")
def cli_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app of its own: the harnesses bind the session to their scratch databases."""
    previous = database.engine
    tmp = tmp_path_factory.mktemp("bench")
    app = create_app(
        config.TestingConfig(),
        overrides={"DATABASE_URL": f"sqlite:///{tmp / 'unused.db'}", "STORAGE_DIR": str(tmp)},
    )
    yield app
    app.extensions["database_engine"].dispose()
    database.session.remove()
    database.session.configure(bind=previous)
    database.engine = previous


def _invoke(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["bench", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_http_bench_drives_credit_repair_through_gunicorn(cli_app: Flask, tmp_path: Path) -> None:
    url = require_postgres()
    out = tmp_path / "http.json"
    output = _invoke(
        cli_app,
        "http",
        "--postgres",
        url,
        "--clients",
        "1,2",
        "--duration",
        "2",
        "--warmup",
        "0.5",
        "--workers",
        "2",
        "--json",
        str(out),
    )
    assert "| clients | completions/s |" in output
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert [r["clients"] for r in rows] == [1, 2]
    for row in rows:
        assert row["errors"] == 0, row["error_examples"]
        assert row["completions"] > 0 and row["complete"]["p95_ms"] > 0
        assert row["start"]["count"] > 0


def test_inbox_bench_seeds_measures_and_explains(cli_app: Flask, tmp_path: Path) -> None:
    url = require_postgres()
    out = tmp_path / "inbox.json"
    output = _invoke(
        cli_app,
        "inbox",
        "--postgres",
        url,
        "--instances",
        "300",
        "--tasks",
        "3000",
        "--runs",
        "2",
        "--try-indexes",
        "--out",
        str(tmp_path),
        "--json",
        str(out),
    )
    assert "| extra indexes | candidate p50 |" in output
    result = json.loads(out.read_text(encoding="utf-8"))
    assert sum(result["task_states"].values()) == 3000  # exactly the rows asked for
    assert result["task_states"]["ready"] > 0 and result["task_states"]["completed"] > 0
    first, with_index = result["measurements"]
    assert first["candidate_total"] > 0 and with_index["indexes_added"] == ["ix_human_task_done"]
    plan = Path(with_index["explain_file"]).read_text(encoding="utf-8")
    assert "-- web count done" in plan and "Execution Time" in plan


def test_growth_bench_reports_latency_and_profile(cli_app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "growth.json"
    output = _invoke(
        cli_app,
        "growth",
        "--sizes",
        "2,6",
        "--samples",
        "2",
        "--profile-at",
        "6",
        "--json",
        str(out),
    )
    assert "growth of p50" in output
    result = json.loads(out.read_text(encoding="utf-8"))
    assert [r["completed"] for r in result["rows"]] == [2, 6]
    assert result["rows"][1]["state_kb"] > result["rows"][0]["state_kb"]  # the instance grew
    assert "complete" in result["profile"]["cumulative"]  # tasks.complete was profiled
