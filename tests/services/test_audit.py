"""The append-only, hash-chained audit log and `flask audit verify`."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.models import AuditEvent
from app.services import audit
from tests.live_db import live_postgres


def _entries(session: Session, n: int) -> None:
    for i in range(n):
        audit.record(
            session,
            "test.event",
            object_type="case",
            object_id=str(i),
            details={"i": i, "text": "信用修复"},
        )
    session.commit()


def _verify(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def _disable_guards(session: Session) -> None:
    """What an attacker with database access would do first."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))


def test_chain_links_each_entry_to_the_previous(session: Session) -> None:
    _entries(session, 3)
    report = audit.verify_chain(session)
    assert report.ok and report.checked == 3


def test_verify_command_reports_an_intact_chain(app: Flask, session: Session) -> None:
    _entries(session, 2)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "审计链完整：共 2 条" in result.output


def test_database_refuses_update_and_delete(session: Session) -> None:
    _entries(session, 1)
    with pytest.raises(DBAPIError):
        with session.begin_nested():
            session.execute(text("UPDATE audit_event SET action = 'x'"))
    with pytest.raises(DBAPIError):
        with session.begin_nested():
            session.execute(text("DELETE FROM audit_event"))


def test_tampered_entry_is_named_by_verify(app: Flask, session: Session) -> None:
    _entries(session, 4)
    _disable_guards(session)
    session.execute(
        text("UPDATE audit_event SET details = :d WHERE seq = 3"),
        {"d": '{"i": 99, "text": "篡改"}'},
    )
    session.commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert "第 3 条" in result.output and "篡改" in result.output


def test_deleted_entry_is_detected(app: Flask, session: Session) -> None:
    _entries(session, 4)
    _disable_guards(session)
    session.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    session.commit()
    result = _verify(app)
    assert result.exit_code == 1 and "第 2 条" in result.output


def test_truncated_tail_is_detected(session: Session) -> None:
    _entries(session, 3)
    _disable_guards(session)
    session.execute(text("DELETE FROM audit_event WHERE seq = 3"))
    session.commit()
    report = audit.verify_chain(session)
    assert not report.ok and report.broken_seq == 3


# --- entries are chained when their transaction commits ------------------------------------


def _actions(session: Session) -> list[str]:
    return [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def test_entries_of_a_rolled_back_savepoint_are_dropped_the_others_kept(session: Session) -> None:
    audit.record(session, "outer.before")
    with pytest.raises(RuntimeError):
        with session.begin_nested():
            audit.record(session, "inner.failed")
            raise RuntimeError("the step failed")
    with session.begin_nested():
        audit.record(session, "inner.kept")
    audit.record(session, "outer.after")
    session.commit()
    assert _actions(session) == ["outer.before", "inner.kept", "outer.after"]
    assert audit.verify_chain(session).ok


def test_a_query_in_the_same_transaction_sees_the_entries(session: Session) -> None:
    audit.record(session, "first")
    assert _actions(session) == ["first"]  # read before commit: chained at the query
    audit.record(session, "second")
    session.commit()
    assert _actions(session) == ["first", "second"]
    assert audit.verify_chain(session).checked == 2


def test_a_rollback_or_close_drops_the_entries(session: Session) -> None:
    audit.record(session, "rolled.back")
    session.rollback()
    audit.record(session, "closed")
    session.close()
    audit.record(session, "committed")
    session.commit()
    assert _actions(session) == ["committed"]


@pytest.mark.postgres
def test_the_chain_head_is_not_held_while_a_transaction_works(app: Flask, backend: str) -> None:
    """Two use cases record entries at once: the later one commits while the earlier one is
    still working (before, the first held the head row to its end), and the chain stays whole."""
    if not backend.startswith("postgresql"):
        pytest.skip("makes its own PostgreSQL database; runs once, with that backend")
    with live_postgres(app) as engine:
        with Session(engine) as slow, Session(engine) as quick:
            audit.record(slow, "slow.started")
            slow.flush()
            slow.execute(text("SELECT 1"))  # the slow use case is inside its transaction
            quick.execute(text("SET LOCAL lock_timeout = '2s'"))
            audit.record(quick, "quick.done")
            quick.commit()  # would wait for `slow` and time out if the head were locked
            audit.record(slow, "slow.done")
            slow.commit()
        with Session(engine) as session:
            assert _actions(session)[-3:] == ["quick.done", "slow.started", "slow.done"]
            assert audit.verify_chain(session).ok
