"""The append-only, hash-chained audit log.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical JSON.
Appends lock the single `audit_head` row, so concurrent transactions never fork the chain; an
entry is chained when its transaction commits (see `record`), so the lock is held briefly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, scoped_session

from app.models import AuditEvent, AuditHead, User
from app.models.base import utcnow

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"


def canonical(entry: AuditEvent) -> str:
    """The exact text the hash covers."""
    payload = {
        "seq": entry.seq,
        "occurred_at": entry.occurred_at.isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "details": entry.details,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(prev_hash: str, entry: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(entry)).encode("utf-8")).hexdigest()


def record(
    session: Session,
    action: str,
    *,
    actor: User | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one entry to the chain when the caller's transaction commits.

    The entry waits in the session until the commit (or until a query reads the audit
    tables), so the chain's head row is locked only for the last moment of the transaction:
    concurrent use cases serialize on it for one INSERT, not for their whole work. An entry
    made inside a savepoint that rolls back is dropped with it.
    """
    # Round-trip details through JSON so the hashed form equals what the database returns.
    clean = json.loads(json.dumps(dict(details or {}), ensure_ascii=False, default=str))
    entry = AuditEvent(
        occurred_at=at or utcnow(),
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else SYSTEM_ACTOR,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=clean,
    )
    if isinstance(session, scoped_session):  # views may pass Flask-SQLAlchemy's proxy
        session = session()
    scope = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(_PENDING, []).append((scope, entry))


_PENDING = "audit_pending"


def _append_pending(session: Session) -> None:
    """Lock the head and chain the waiting entries, in the order they were recorded."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    for _scope, entry in pending:
        entry.seq, entry.prev_hash = head.seq + 1, head.hash
        entry.hash = entry_hash(head.hash, entry)
        session.add(entry)
        head.seq, head.hash = entry.seq, entry.hash
    session.flush()


@event.listens_for(Session, "before_commit")
def _chain_on_commit(session: Session) -> None:
    if session.info.get(_PENDING) and not session.in_nested_transaction():
        session.flush()  # everything else first: the head stays locked only for the append
        _append_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    kept = [(scope, entry) for scope, entry in pending if not _inside(scope, previous)]
    session.info[_PENDING] = kept


@event.listens_for(Session, "after_transaction_end")
def _drop_at_end(session: Session, transaction: SessionTransaction) -> None:
    """Entries of a transaction that ended uncommitted (rollback, close) never reach the chain."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _inside(scope: SessionTransaction | None, transaction: SessionTransaction) -> bool:
    while scope is not None:
        if scope is transaction:
            return True
        scope = scope.parent
    return False


@event.listens_for(Session, "do_orm_execute")
def _chain_before_reading(state: ORMExecuteState) -> None:
    """A query of the audit tables in the same transaction sees the entries recorded so far."""
    if state.session.info.get(_PENDING) and any(
        m.class_ in (AuditEvent, AuditHead) for m in state.all_mappers
    ):
        _append_pending(state.session)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


def verify_chain(session: Session, batch: int = 1000) -> ChainReport:
    """Walk the chain in order; name the first entry whose link or content does not match."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            problem = _check(entry, expected_seq, prev_hash)
            if problem:
                return ChainReport(False, checked, entry.seq, problem)
            prev_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return ChainReport(
            False,
            checked,
            checked + 1,
            _(
                "链尾不一致：记录到第 %(seq)s 条，实际只有 %(checked)s 条（条目可能被删除）。",
                seq=head.seq,
                checked=checked,
            ),
        )
    return ChainReport(True, checked)


def _check(entry: AuditEvent, expected_seq: int, prev_hash: str) -> str | None:
    if entry.seq != expected_seq:
        return _("缺少第 %(seq)s 条（条目可能被删除）。", seq=expected_seq)
    if entry.prev_hash != prev_hash:
        return _("前序哈希与上一条不一致（链被改动）。")
    if entry.hash != entry_hash(prev_hash, entry):
        return _("内容与哈希不符（条目被篡改）。")
    return None


def history_for(session: Session, object_type: str, object_id: str) -> list[dict[str, Any]]:
    """The audit entries about one object, oldest first."""
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.seq)
    ).all()
    return [
        {
            "at": e.occurred_at.isoformat(),
            "actor": e.actor_name,
            "action": e.action,
            "details": e.details,
        }
        for e in rows
    ]
