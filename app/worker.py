"""One round of background work (the `worker` command, Celery in production)."""

from __future__ import annotations

import logging

from flask import current_app

from app.services import documents, webhooks
from app.services.messages import deliver_outbox_messages
from app.services.notifications import mirror_outbox_notices
from app.services.timers import fire_due_timers
from app.services.uow import transaction

logger = logging.getLogger(__name__)


def run_round() -> dict[str, int]:
    """Fire due timers, route BPMN messages, issue documents, deliver platform webhooks."""
    fired = fire_due_timers()
    with transaction() as session:
        routed = deliver_outbox_messages(session)
    with transaction() as session:
        mirror_outbox_notices(session)
    with transaction() as session:
        issued = documents.process_document_outbox(
            session, **documents.worker_settings(current_app.config)
        )
    with transaction() as session:
        delivered = webhooks.run(session, current_app.config)
    if fired or routed or issued or delivered:
        logger.info(
            "worker round: %s timers, %s messages, %s documents, %s webhooks",
            fired,
            routed,
            issued,
            delivered,
        )
    return {"timers": fired, "messages": routed, "documents": issued, "webhooks": delivered}
