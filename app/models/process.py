"""Process definitions (immutable versions), instances and their projections."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow


class InstanceStatus(StrEnum):
    RUNNING = "running"  # waiting for people, timers or messages
    COMPLETED = "completed"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    ERROR = "error"  # an open incident blocks it


class ProcessVersion(Base):
    """One deployed, immutable version of a process key."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    files: Mapped[dict[str, str]] = mapped_column(JSON)  # the bundle as deployed
    forms: Mapped[dict[str, Any]] = mapped_column(JSON)  # form file name -> JSON Schema
    spec_json: Mapped[str] = mapped_column(Text)  # serialized spec + subprocess specs
    lanes: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_messages: Mapped[list[str]] = mapped_column(JSON, default=list)  # message start events
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ProcessInstance(Base):
    """A running case. `state` is the lean SpiffWorkflow serialization (spec stored once)."""

    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_process_instance_due", "next_timer_due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(64), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    status: Mapped[str] = mapped_column(String(16), default=InstanceStatus.RUNNING.value)
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(16))
    lock_version: Mapped[int] = mapped_column(default=1)
    next_timer_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    version: Mapped[ProcessVersion] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """Inbox projection of user tasks, rewritten in the same transaction as the instance."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_inbox", "state", "lane", "department_id"),
        Index("ix_human_task_done", "completed_by_id", "state"),  # the inbox's 已办 tab
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task UUID
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(64))
    bpmn_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))  # ready | completed | cancelled
    form_file: Mapped[str | None] = mapped_column(String(128))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    form_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class MessageSubscription(Base):
    """A message an instance waits for, with the correlation values it expects."""

    __tablename__ = "message_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    message_name: Mapped[str] = mapped_column(String(128), index=True)
    correlations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutboxEvent(Base):
    """Work to do after commit: route a BPMN message, notify a platform, render a document."""

    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_pending", "state", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # bpmn_message | platform | document
    name: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    correlations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|dead
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Incident(Base):
    """A run-time failure of an instance (script error, timeout, …) waiting for an operator."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    element_id: Mapped[str | None] = mapped_column(String(128))
    line: Mapped[int | None] = mapped_column()
    message: Mapped[str] = mapped_column(Text)
    action: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what to retry
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProcessedMessage(Base):
    """Idempotency record of an inbound message id and the answer it got."""

    __tablename__ = "processed_message"

    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attachment(Base):
    """An uploaded file, stored content-addressed under STORAGE_DIR."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    content_type: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


__all__ = [
    "Attachment",
    "HumanTask",
    "Incident",
    "InstanceStatus",
    "MessageSubscription",
    "OutboxEvent",
    "ProcessInstance",
    "ProcessVersion",
    "ProcessedMessage",
]
