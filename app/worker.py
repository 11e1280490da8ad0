"""One round of background work (the `worker` command, Celery in production)."""

from __future__ import annotations

import logging

from flask import current_app

from app.services import documents
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
    with transaction() as session:
        issued = documents.process_document_outbox(
            session, **documents.worker_settings(current_app.config)
        )
    if fired or routed or issued:
        logger.info("worker round: %s timers, %s messages, %s documents", fired, routed, issued)
    return {"timers": fired, "messages": routed, "documents": issued}
