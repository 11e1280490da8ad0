"""The background jobs, as plain functions: the embedded worker and Celery run exactly these.

Each job is one sweep of idempotent units of work (one transaction per unit where the service
allows it) and is safe to run on several workers at once:

- timers, documents, webhooks and mail lock their rows with FOR UPDATE SKIP LOCKED, so concurrent
  sweeps share the rows and never take the same one;
- messages and notifications read their outbox rows without row locks, so on PostgreSQL a
  sweep first takes a transaction-scoped advisory lock and returns 0 when another worker holds
  it (the lock goes with the transaction: a killed worker never leaves it behind). SQLite
  serialises writers at BEGIN anyway.

Every function needs an app context (`current_app.config`, the database session) and returns
how much it did. `run_round` runs them in order: the embedded `flask worker` loop.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable

from flask import current_app
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import documents, webhooks
from app.services.messages import deliver_outbox_messages
from app.services.notifications import mirror_outbox_notices
from app.services.timers import fire_due_timers
from app.services.uow import transaction

logger = logging.getLogger(__name__)

#: Default wall-clock budget of one document sweep: the sweep stops taking new rows after it,
#: well inside the Celery soft time limit; what is left waits for the next sweep.
DOCUMENT_BUDGET_S = 30.0


def _exclusive(session: Session, job: str) -> bool:
    """Hold the job's advisory lock until this transaction ends; False if another worker has it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = zlib.crc32(f"creditflow.jobs.{job}".encode())
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


def fire_timers() -> int:
    """Fire every timer that is due now: one instance per transaction (SKIP LOCKED)."""
    return fire_due_timers()


def route_messages() -> int:
    """Route the BPMN messages thrown by instances (outbox) to the instances waiting for them."""
    with transaction() as session:
        if not _exclusive(session, "messages"):
            return 0
        return deliver_outbox_messages(session)


def mirror_notifications() -> int:
    """Copy the processes' notices from the outbox into the users' in-app notifications."""
    with transaction() as session:
        if not _exclusive(session, "notifications"):
            return 0
        return mirror_outbox_notices(session)


def issue_documents(limit: int = 50, budget_s: float = DOCUMENT_BUDGET_S) -> int:
    """Render, sign and store the requested documents: one document per transaction.

    A worker killed mid-render loses only that document's transaction (the row stays pending
    and the next sweep issues it; a stored file is content-addressed, so a retry rewrites the
    same bytes under the same name). The sweep stops at the first row that fails (it stays
    pending with its error and counts an attempt), after `limit` documents, or after `budget_s`.
    """
    settings = documents.worker_settings(current_app.config)
    deadline = time.monotonic() + budget_s
    issued = 0
    while issued < limit and time.monotonic() < deadline:
        with transaction() as session:
            done = documents.process_document_outbox(session, limit=1, **settings)
        if not done:
            break
        issued += done
    return issued


def deliver_webhooks() -> int:
    """Fan platform events out to the subscribed endpoints and POST the deliveries that are due."""
    with transaction() as session:
        return webhooks.run(session, current_app.config)


def deliver_mail() -> int:
    """Send the due notification mails over SMTP (nothing without SMTP_HOST; SKIP LOCKED)."""
    from app.services import mail

    with transaction() as session:
        return mail.deliver_mail(session, current_app.config)


#: The jobs in the order of one round (a timer may throw a message; a message may request a
#: document; an issued document emits a platform event).
JOBS: dict[str, Callable[[], int]] = {
    "timers": fire_timers,
    "messages": route_messages,
    "notifications": mirror_notifications,
    "documents": issue_documents,
    "webhooks": deliver_webhooks,
    "mail": deliver_mail,
}


def run_round() -> dict[str, int]:
    """Run every job once, in order; how much each did (notifications are not reported)."""
    done = {name: job() for name, job in JOBS.items()}
    counts = {
        "timers": done["timers"],
        "messages": done["messages"],
        "documents": done["documents"],
        "webhooks": done["webhooks"],
        "mail": done["mail"],
    }
    if any(counts.values()):
        logger.info(
            "worker round: %s timers, %s messages, %s documents, %s webhooks, %s mails",
            *counts.values(),
        )
    return counts
