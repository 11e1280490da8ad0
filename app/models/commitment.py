"""Credit commitments (信用承诺): who signed what, when, and how it was kept."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin, UTCDateTime


class CommitmentKind(StrEnum):
    NOTIFY_COMMIT = "notify_commit"  # 告知承诺书
    RONGQUE = "rongque"  # 申请容缺受理承诺书
    REPAIR = "repair"  # 信用修复承诺书


class CommitmentStatus(StrEnum):
    OPEN = "open"  # signed, being verified or awaiting its deadline
    FULFILLED = "fulfilled"  # kept on time
    FULFILLED_LATE = "fulfilled_late"
    BREACHED = "breached"  # 违诺
    WITHDRAWN = "withdrawn"  # withdrawn before the decision (excluded from 践诺率)
    REPAIRED = "repaired"  # breach later repaired


class Commitment(TimestampMixin, Base):
    __tablename__ = "commitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    text: Mapped[str] = mapped_column(Text)  # the exact text signed
    text_sha256: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(64))
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(24), default=CommitmentStatus.OPEN.value)
    due_on: Mapped[date | None] = mapped_column(Date)  # deadline (容缺) or verification due
    closed_on: Mapped[date | None] = mapped_column(Date)  # fulfilled / breached date
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
