"""The engine's clock: real time, or an instant set by tests and `flask timers fire --at`.

SpiffWorkflow reads `datetime.now(timezone.utc)` inside its timer module and offers no hook,
so that module's `datetime` name is replaced by a subclass whose `now()` consults this clock.
The override is per thread/context, so moving time in one unit of work affects no other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo

_override: ContextVar[datetime | None] = ContextVar("engine_now", default=None)


def now() -> datetime:
    """The engine's current instant (timezone-aware UTC)."""
    value = _override.get()
    return value if value is not None else datetime.now(UTC)


@contextmanager
def frozen_at(instant: datetime) -> Iterator[datetime]:
    """Run the block as if the engine's clock showed `instant`."""
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    token = _override.set(instant.astimezone(UTC))
    try:
        yield instant
    finally:
        _override.reset(token)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        value = now()
        return value.astimezone(tz) if tz is not None else value.replace(tzinfo=None)


def install() -> None:
    """Point SpiffWorkflow's timer module at this clock (idempotent)."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _ClockedDatetime  # type: ignore[misc]
