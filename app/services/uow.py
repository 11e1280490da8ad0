"""The unit of work: one commit point per use case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from app.extensions import db


@contextmanager
def transaction() -> Iterator[Session]:
    """Commit the session's open transaction on success, roll it back on any error.

    The session may already have begun (flask-login's user_loader queried it), so this
    works with the transaction that is open rather than starting a nested one.
    """
    session = db.session()
    try:
        yield session
        session.commit()
    except BaseException as exc:
        # Some errors carry records that must survive (e.g. an incident): keep them, then raise.
        if getattr(exc, "commit_before_raise", False):
            session.commit()
        else:
            session.rollback()
        raise
