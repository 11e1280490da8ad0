"""Celery in production: the jobs of `app.jobs` as tasks, and the beat schedule that sweeps.

    celery -A app.celery_app:celery worker     # runs the tasks (prefork, one Flask app per child)
    celery -A app.celery_app:celery beat       # exactly one: sends every job every JOB_INTERVAL_S

With BROKER_URL set, this is the only place background jobs run (the embedded `flask worker`
is for installations without a broker). The tasks call the same functions as the embedded
worker, so both modes share one code path.

Delivery guarantees: tasks are acknowledged after they finish (`acks_late`) and put back when
the worker process dies (`task_reject_on_worker_lost`), but correctness never rests on that —
every job is a sweep over database state, each unit of work is one transaction, and rows are
taken with FOR UPDATE SKIP LOCKED (or the job's advisory lock), so a sweep that runs twice,
concurrently or after a crash, finds nothing left to do. Beat messages expire after a few
intervals, so sweeps piled up while no worker ran are dropped rather than replayed.

The Flask app is created lazily in each worker process (after the fork, so no database
connection is shared between processes); importing this module touches neither the database
nor the disk.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask
from sqlalchemy.exc import OperationalError

from app import jobs
from config import INSTANCE_DIR, Config

logger = logging.getLogger(__name__)

TASK_PREFIX = "creditflow.jobs."
_flask_app: Flask | None = None


def flask_app() -> Flask:
    """This process's Flask app (created on first use, from the environment like `wsgi`)."""
    global _flask_app
    if _flask_app is None:
        from app import create_app
        from app.engine.sandbox import limit_memory

        _flask_app = create_app()
        limit_memory(_flask_app.config.get("WORKER_MEMORY_LIMIT_MB", 0))
    return _flask_app


def use_flask_app(app: Flask | None) -> None:
    """Run the tasks of this process in `app` (tests, eager execution); None resets."""
    global _flask_app
    _flask_app = app


class FlaskTask(Task):  # type: ignore[misc]
    """A task body runs inside the Flask app context (config, database session)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with flask_app().app_context():
            return super().__call__(*args, **kwargs)


def beat_schedule(interval_s: float) -> dict[str, dict[str, Any]]:
    """Every job every `interval_s` seconds; a send not started within 5 intervals expires."""
    expires = max(5 * interval_s, 10.0)
    return {
        f"sweep-{name}": {
            "task": TASK_PREFIX + name,
            "schedule": float(interval_s),
            "options": {"expires": expires},
        }
        for name in jobs.JOBS
    }


def make_celery(config: Any = Config) -> Celery:
    """The Celery app, configured from `config` (the class attributes read from the env)."""
    soft = int(config.CELERY_SOFT_TIME_LIMIT_S)
    hard = max(int(config.CELERY_TIME_LIMIT_S), soft + 1)
    app = Celery("creditflow", task_cls=FlaskTask)
    app.conf.update(
        broker_url=config.BROKER_URL,
        broker_connection_retry_on_startup=True,
        # Redis hands a message back to the queue when its worker never acknowledged it; it
        # must outlast the longest task, or a slow task would run a second time meanwhile.
        broker_transport_options={
            "visibility_timeout": max(int(config.CELERY_VISIBILITY_TIMEOUT_S), 1),
        },
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_soft_time_limit=soft,
        task_time_limit=hard,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        # The app configures logging itself (create_app); stderr stays the real one in the
        # pool processes, so their log lines reach the worker's output.
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        enable_utc=True,
        timezone="UTC",
        beat_schedule=beat_schedule(config.JOB_INTERVAL_S),
        beat_schedule_filename=str(INSTANCE_DIR / "celerybeat-schedule"),
    )
    for name, job in jobs.JOBS.items():
        _register(app, name, job, soft)
    return app


def _register(app: Celery, name: str, job: Any, soft_limit_s: int) -> None:
    def run() -> int:
        # The document sweep stops taking rows well before the soft time limit.
        if name == "documents":
            done = jobs.issue_documents(budget_s=min(jobs.DOCUMENT_BUDGET_S, soft_limit_s / 2))
        else:
            done = job()
        if done:
            logger.info("job %s: %s done", name, done)
        return int(done)

    run.__name__ = run.__qualname__ = f"job_{name}"
    run.__doc__ = job.__doc__
    app.task(
        name=TASK_PREFIX + name,
        acks_late=True,
        reject_on_worker_lost=True,
        # The database went away (restart, failover): retry with exponential back-off.
        autoretry_for=(OperationalError,),
        retry_backoff=2,
        retry_backoff_max=60,
        retry_jitter=True,
        max_retries=5,
    )(run)


celery = make_celery()


@worker_process_init.connect
def _init_worker_process(**_: Any) -> None:
    """Build the Flask app in each pool process before its first task (warm caches)."""
    flask_app()
