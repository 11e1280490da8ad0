"""One round of background work (the `worker` command, Celery in production)."""

from __future__ import annotations

import logging

from app.services.messages import deliver_outbox_messages
from app.services.notifications import mirror_outbox_notices
from app.services.timers import fire_due_timers
from app.services.uow import transaction

logger = logging.getLogger(__name__)


def run_round() -> dict[str, int]:
    """Fire due timers, then route pending BPMN messages from the outbox."""
    fired = fire_due_timers()
    with transaction() as session:
        routed = deliver_outbox_messages(session)
    with transaction() as session:
        mirror_outbox_notices(session)
    if fired or routed:
        logger.info("worker round: %s timers, %s messages", fired, routed)
    return {"timers": fired, "messages": routed}
