"""`flask bench engine`: load + complete + save latency as an instance grows.

Each sample is one real service call in its own transaction — lock the instance row, restore
the lean state, validate the form, complete the task, run the engine, rewrite the inbox and
audit projections, save and commit — on a scratch database that is dropped afterwards.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app import migrate
from app.db import make_engine, scratch_postgres
from app.extensions import db
from app.models import HumanTask, ProcessInstance, User
from app.services import instances, tasks
from app.services.definitions import deploy_bundle, read_bundle_dir
from app.services.seed import seed_demo
from app.services.uow import transaction

BUNDLE = Path(__file__).parent / "bpmn"


@contextmanager
def scratch_database(url: str | None) -> Iterator[str]:
    """A temporary SQLite file, or a temporary database on the given PostgreSQL server."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="cf-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    with scratch_postgres(url, "cf_bench") as scratch_url:
        yield scratch_url


@contextmanager
def bound_to(url: str) -> Iterator[None]:
    """Point the app's session at `url` for the duration of the block."""
    engine = make_engine(url)
    previous = db.engine
    db.session.remove()
    db.session.configure(bind=engine)
    db.engine = engine
    try:
        yield
    finally:
        db.session.remove()
        db.session.configure(bind=previous)
        db.engine = previous
        engine.dispose()


def _ready_task_id(instance_id: int) -> str:
    with transaction() as session:
        return session.scalar(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.state == "ready"
            )
        )  # type: ignore[return-value]


def _complete_once(instance_id: int, reviewer_id: int) -> float:
    task_id = _ready_task_id(instance_id)
    started = time.perf_counter()
    with transaction() as session:
        actor = session.get(User, reviewer_id)
        tasks.complete(session, task_id, {"decision": "return", "opinion": "继续补正"}, actor)
    return (time.perf_counter() - started) * 1000


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(
    url: str | None,
    sizes: tuple[int, ...],
    samples: int,
    after_size: Callable[[int, Callable[[], float]], None] | None = None,
) -> list[dict[str, Any]]:
    """Rows of {backend, completed, p50_ms, p95_ms, state_kb} for each instance size.

    `after_size(size, complete)` may run more completions (`complete()` does one and counts it)
    once a size is measured, e.g. under a profiler.
    """
    rows = []
    with scratch_database(url) as db_url:
        migrate.upgrade(db_url)
        with bound_to(db_url):
            with transaction() as session:
                seed_demo(session, password="bench-password-1", today=date.today())
                deploy_bundle(session, read_bundle_dir(BUNDLE))
                reviewer = session.scalar(select(User).where(User.username == "rev_samr"))
                instance = instances.start_instance(session, "bench_review", {}, reviewer)
                instance_id, reviewer_id = instance.id, reviewer.id
            done = 0

            def complete() -> float:
                nonlocal done
                done += 1
                return _complete_once(instance_id, reviewer_id)

            for size in sizes:
                while done < size:
                    complete()
                timings = [complete() for _ in range(samples)]
                with transaction() as session:
                    state_kb = len(session.get(ProcessInstance, instance_id).state) / 1024
                rows.append(
                    {
                        "backend": db_url.split(":", 1)[0].split("+")[0],
                        "completed": size,
                        "p50_ms": statistics.median(timings),
                        "p95_ms": _percentile(timings, 0.95),
                        "state_kb": state_kb,
                    }
                )
                if after_size is not None:
                    after_size(size, complete)
    return rows


def run(
    url: str | None, sizes: tuple[int, ...] = (10, 100, 500), samples: int = 30
) -> list[dict[str, Any]]:
    """Rows of {backend, completed, p50_ms, p95_ms, state_kb} for each instance size."""
    return measure(url, sizes, samples)
