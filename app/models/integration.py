"""Outbound platform integration: webhook endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow


class DeliveryState:
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    DEAD = "dead"  # gave up after WEBHOOK_MAX_ATTEMPTS; an admin may retry it
    DISCARDED = "discarded"  # an admin decided it will never be sent

    ALL = (PENDING, DELIVERED, DEAD, DISCARDED)


class WebhookEndpoint(Base):
    """A receiver of platform events (信用中国, a local platform, a credit agency …)."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(String(1000))
    # Kept in clear: it is the HMAC key every delivery is signed with (shown masked in the UI).
    # NULL = sign with the deployment-wide WEBHOOK_SECRET.
    secret: Mapped[str | None] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Platform keys this endpoint stands for (creditchina, gsxt, …); empty = every platform.
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint; its id is the idempotency key the receiver sees."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "state", "next_attempt_at"),
        Index("ix_webhook_delivery_order", "endpoint_id", "subject_uscc", "created_seq"),
        Index("ix_webhook_delivery_dedupe", "endpoint_id", "dedupe_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id"), index=True)
    outbox_event_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_event.id"), index=True)
    # Order of creation (the outbox id it came from): deliveries of one endpoint and subject
    # are attempted strictly in this order.
    created_seq: Mapped[int] = mapped_column(default=0)
    # Same fact pushed to several platforms → one delivery to an endpoint serving them all.
    dedupe_key: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(128), index=True)
    subject_uscc: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_status: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined", innerjoin=True)
