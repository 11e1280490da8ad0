"""Issued documents (PDFs): immutable, content-addressed, verifiable by serial number."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class DocumentStatus(StrEnum):
    VALID = "valid"
    SUPERSEDED = "superseded"  # reissued under a new serial
    REVOKED = "revoked"  # e.g. a repair revoked, an approval withdrawn


class Document(Base):
    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("kind", "year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)  # e.g. 沪信修决〔2026〕12号
    kind: Mapped[str] = mapped_column(String(32), index=True)
    year: Mapped[int] = mapped_column()
    seq: Mapped[int] = mapped_column()
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.VALID.value)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what was printed
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DocumentCounter(Base):
    """The last serial number used per kind and year (locked while allocating)."""

    __tablename__ = "document_counter"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
