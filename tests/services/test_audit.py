"""The append-only, hash-chained audit log and `flask audit verify`."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.services import audit


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
