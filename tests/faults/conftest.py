"""Fault tests: real processes (gunicorn, `flask worker`) against a scratch PostgreSQL database.

Each test gets its own database on the server of TEST_DATABASE_URL (created, migrated, seeded
with the demo data and the shipped BPMN, dropped afterwards). Without a reachable PostgreSQL they
skip, unless REQUIRE_POSTGRES=1 turns that into a failure.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from app.db import scratch_postgres
from tests.conftest import require_postgres

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
FLASK = str(Path(sys.executable).with_name("flask"))
SEED_DAY = "2026-11-20"

_PREPARE = """
import json, sys
from datetime import date
from pathlib import Path
from app import create_app, migrate
from app.services.definitions import deploy_bundle, read_bundle_dir
from app.services.seed import seed_demo
from app.services.uow import transaction

url, bundles, starts = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
setup = sys.argv[5] == "1"
if setup:
    migrate.upgrade(url)
app = create_app()
with app.app_context():
    if setup:
        with transaction() as session:
            seed_demo(session, password="demo12345", today=date.fromisoformat(sys.argv[4]))
    for path in bundles:
        with transaction() as session:
            deploy_bundle(session, read_bundle_dir(Path(path)))
    from sqlalchemy import select
    from app.models import HumanTask, User
    from app.services import instances
    created = []
    for key, username, count in starts:
        for _ in range(count):
            with transaction() as session:
                actor = session.scalar(select(User).where(User.username == username))
                instance = instances.start_instance(session, key, {}, actor)
                task_ids = list(session.scalars(select(HumanTask.id).where(
                    HumanTask.instance_id == instance.id, HumanTask.state == "ready")))
                created.append({"instance": instance.id, "tasks": task_ids})
print("PREPARED " + json.dumps(created))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(tmp: Path, database_url: str, **extra: str) -> dict[str, str]:
    """Environment of a server/worker subprocess: its own instance and storage directories."""
    env = {k: v for k, v in os.environ.items() if k not in {"BROKER_URL", "APP_ENV", "FLASK_ENV"}}
    (tmp / "instance").mkdir(exist_ok=True)
    env.update(
        DATABASE_URL=database_url,
        INSTANCE_DIR=str(tmp / "instance"),
        STORAGE_DIR=str(tmp / "files"),
        SECRET_KEY="fault-test-secret",
        WEBHOOK_SECRET="fault-test-webhook",
        LOGIN_RATE_LIMIT="10000 per minute",
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def prepare_database(
    tmp: Path,
    url: str,
    bundles: tuple[Path, ...] = (),
    starts: tuple[tuple[str, str, int], ...] = (),
    setup: bool = True,
) -> list[dict[str, Any]]:
    """Migrate, seed the demo and deploy `bpmn/` (unless `setup` is False), deploy `bundles`,
    start `count` instances of (process key, username, count); all in a subprocess (the app
    factory rebinds the process-wide session, which other tests' app uses)."""
    all_bundles = [str(REPO / "bpmn")] if setup else []
    all_bundles += [str(b) for b in bundles]
    args = [url, json.dumps(all_bundles), json.dumps(starts), SEED_DAY, "1" if setup else "0"]
    result = subprocess.run(
        [PYTHON, "-c", _PREPARE, *args],
        cwd=REPO,
        env=app_env(tmp, url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("PREPARED "))
    return list(json.loads(line.removeprefix("PREPARED ")))


@pytest.fixture()
def scratch_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (dropped after the test)."""
    with scratch_postgres(require_postgres(), "cf_fault") as url:
        yield url


class Gunicorn:
    """gunicorn serving wsgi:app with `workers` sync workers on a free loopback port."""

    def __init__(
        self,
        tmp: Path,
        env: dict[str, str],
        workers: int = 2,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        conf = tmp / "gunicorn_test.conf.py"  # not the repository's gunicorn.conf.py
        conf.write_text("# fault tests: settings on the command line\n", encoding="utf-8")
        self.log = (tmp / "gunicorn.log").open("w+", encoding="utf-8")
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "--config",
                str(conf),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--timeout",
                "30",
                "--graceful-timeout",
                "2",
                "wsgi:app",
            ],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.output()}")
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn not ready:\n{self.output()}")

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-5000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def process_state(pid: int) -> str:
    """The one-letter /proc state (R running, S sleeping, …), or '' when gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def api_token(base: str, username: str) -> dict[str, str]:
    response = requests.post(
        base + "/api/v1/auth/token",
        json={"username": username, "password": "demo12345"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
