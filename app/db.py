"""The SQLAlchemy engine and the request-scoped session.

Plain SQLAlchemy 2 rather than an extension: services own transactions (see services/uow.py),
tests bind the session to an outer transaction, and the worker and CLI use the same session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import scoped_session, sessionmaker


class Database:
    """Holds the engine and a thread-scoped session; bound to an app by `init_app`."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        # expire_on_commit (the default): a long-lived worker session must never read stale rows.
        self.session = scoped_session(sessionmaker())

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        self.engine = make_engine(url)
        self.session.remove()
        self.session.configure(bind=self.engine)
        app.extensions["database"] = self
        app.extensions["database_engine"] = self.engine

        @app.teardown_appcontext
        def _remove_session(exc: BaseException | None) -> None:
            self.session.remove()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys and real (savepoint-capable) transactions."""
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            from sqlalchemy.pool import StaticPool

            kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        _sqlite_transactional(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)  # a connection the server dropped is replaced
    if "connect_timeout" not in url:  # an unreachable server answers 503 soon, not a hung worker
        kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **kwargs)


def _sqlite_transactional(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, emit BEGIN (SQLAlchemy docs: pysqlite serializable recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE: writers serialise at BEGIN. A deferred transaction that read first could
        # not upgrade to a write in WAL mode ("database is locked") — a lost update in waiting.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def scratch_postgres(server_url: str, prefix: str = "cf_scratch") -> Iterator[str]:
    """A throw-away database on the server of `server_url` (benchmarks and tests); dropped after."""
    import uuid

    from sqlalchemy import text

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
