"""Mail notifications waiting for (or done with) the SMTP server: the mail outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class MailState:
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"  # the SMTP server accepted it
    DEAD = "dead"  # gave up: MAIL_MAX_ATTEMPTS failures, a permanent refusal or a bad template
    DISCARDED = "discarded"  # the recipient turned the mail off or has no address any more

    ALL = (PENDING, SENT, DEAD, DISCARDED)


class MailDelivery(Base):
    """One mail to one user, queued in the transaction that made its event true.

    Rendered when sent, in the recipient's language then; `dedupe_key` keeps one event from
    mailing a user twice (e.g. a decision told by the process and by the case's end).
    """

    __tablename__ = "mail_delivery"
    __table_args__ = (Index("ix_mail_delivery_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(200), index=True)
    instance_id: Mapped[int | None] = mapped_column()
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16), default=MailState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
