"""Per-worker cache of workflow objects this worker committed, keyed by their exact state.

A cached object is handed out at most once (`take` removes it) and comes back only when the
transaction that used it commits, so no two threads ever share one, and a rolled-back step
never leaks its in-memory changes. A hit requires the stored state to equal, byte for byte,
the state the object produced: any other writer, restore or migration simply misses.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

MAX_ENTRIES = 256
_lock = threading.Lock()
_cache: OrderedDict[int, tuple[str, Any]] = OrderedDict()
_PENDING_KEY = "cf_live_workflows"


def take(instance_id: int, state: str) -> Any | None:
    with _lock:
        entry = _cache.pop(instance_id, None)
    if entry is None or entry[0] != state:
        return None
    return entry[1]


def keep_after_commit(session: Session, instance_id: int, state: str, workflow: Any) -> None:
    """Remember the workflow once (and only if) the session's transaction commits."""
    session.info.setdefault(_PENDING_KEY, {})[instance_id] = (state, workflow)


def clear() -> None:
    with _lock:
        _cache.clear()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    with _lock:
        for instance_id, entry in pending.items():
            _cache[instance_id] = entry
            _cache.move_to_end(instance_id)
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
