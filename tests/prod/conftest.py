"""Production topology under test: a real Celery worker and beat on Redis and PostgreSQL.

The `stack` fixture (one per module) creates a scratch PostgreSQL database beside
TEST_DATABASE_URL, migrates and seeds it, flushes Redis db 11 (TEST_REDIS_URL), and starts
`celery beat` plus `celery worker` as subprocesses with the environment a deployment would
set. The test process writes to the same database through its own app and only observes:
it never calls a job itself.

Without PostgreSQL or Redis the tests skip with the reason; REQUIRE_POSTGRES=1 makes either
missing service a failure instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app, migrate
from app.db import scratch_postgres
from app.extensions import db as database
from app.services.uow import transaction
from config import TestingConfig
from tests.conftest import REQUIRE_PG, require_postgres
from tests.webhook_receiver import Receiver, running_receiver

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).parent / "celery")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
BUNDLE = Path(__file__).resolve().parent / "bundle"
SECRET = "prod-test-webhook-secret-0123456789"
T = TypeVar("T")


def require_redis() -> str:
    """Redis db for these tests, flushed; skip (or fail under REQUIRE_POSTGRES=1) without it."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        if REQUIRE_PG:
            pytest.fail(f"Redis required but not reachable at {REDIS_URL!r}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL!r} (set TEST_REDIS_URL): {exc}")
    return REDIS_URL


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll `probe` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


@dataclass
class Stack:
    """The services' processes and what the test process shares with them."""

    app: Flask
    database_url: str
    storage: Path
    tmp: Path
    env: dict[str, str]
    receiver: Receiver
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)

    def wait(self, what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
        """`wait_for`, with the end of the worker's log in the failure message."""
        try:
            return wait_for(what, probe, timeout)
        except pytest.fail.Exception:
            pytest.fail(f"timed out waiting for {what}; worker log:\n{self.tail('worker')}")

    def log(self, name: str) -> Path:
        return self.tmp / f"{name}.log"

    def start(self, name: str, args: list[str]) -> None:
        self.starts[name] = self.starts.get(name, 0) + 1
        with self.log(name).open("ab") as out:
            out.write(f"\n==== start {self.starts[name]} ====\n".encode())
            out.flush()
            # A session of its own: `kill` below reaches the pool children too (a crash).
            self.procs[name] = subprocess.Popen(
                [CELERY, "-A", "app.celery_app:celery", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_worker(self) -> None:
        size = self.log("worker").stat().st_size if self.log("worker").exists() else 0
        self.start(
            "worker",
            [
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--hostname=prodtest@%h",
                "--without-gossip",
                "--without-mingle",
            ],
        )
        wait_for(
            "the Celery worker to be ready",
            lambda: b"ready." in self.log("worker").read_bytes()[size:] or self.exited("worker"),
            timeout=40,
        )
        assert not self.exited("worker"), self.tail("worker")

    def start_beat(self) -> None:
        schedule = self.tmp / "celerybeat-schedule"
        self.start("beat", ["beat", "--loglevel=INFO", f"--schedule={schedule}"])

    def exited(self, name: str) -> bool:
        return self.procs[name].poll() is not None

    def kill(self, name: str) -> None:
        """kill -9 of the process and its children, as a crash or OOM kill would."""
        proc = self.procs.get(name)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def tail(self, name: str, lines: int = 40) -> str:
        text = self.log(name).read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def _bind_app(url: str, storage: Path) -> Flask:
    return create_app(TestingConfig(), overrides={"DATABASE_URL": url, "STORAGE_DIR": str(storage)})


def _prepare(app: Flask, receiver_url: str) -> None:
    from app.models import Role, User
    from app.services import webhooks
    from app.services.definitions import deploy_bundle, read_bundle_dir
    from app.services.seed import seed_demo

    with app.app_context(), transaction() as session:
        seed_demo(session, password="demo12345", today=date.today())
        deploy_bundle(session, read_bundle_dir(BUNDLE))
        admin = session.scalar(select(User).where(User.role == Role.ADMIN.value).limit(1))
        webhooks.create_endpoint(
            session,
            admin,
            name="信用平台（生产模式测试）",
            url=receiver_url,
            events=["document_issued"],
            secret_mode="custom",
            secret=SECRET,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    pg_url = require_postgres()
    broker = require_redis()
    tmp = tmp_path_factory.mktemp("prod")
    storage = tmp / "files"
    previous_engine = database.engine
    with scratch_postgres(pg_url, "cf_celery") as url, running_receiver(SECRET) as receiver:
        migrate.upgrade(url)
        app = _bind_app(url, storage)
        _prepare(app, receiver.url)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "BROKER_URL": broker,
            "STORAGE_DIR": str(storage),
            "JOB_INTERVAL_S": "1",
            # A task taken by a killed worker comes back after 5 s (default 10 min).
            "CELERY_VISIBILITY_TIMEOUT_S": "5",
            "WEBHOOK_BACKOFF_S": "1",
            "SECRET_KEY": "prod-test-secret-key",
            "WEBHOOK_SECRET": SECRET,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("TEST_DATABASE_URL", None)
        running = Stack(app, url, storage, tmp, env, receiver)
        try:
            running.start_beat()
            running.start_worker()
            yield running
        finally:
            for name in ("beat", "worker"):
                running.kill(name)  # nothing to finish: the database is dropped next
            app.extensions["database_engine"].dispose()
            database.session.remove()
            database.session.configure(bind=previous_engine)
            database.engine = previous_engine
