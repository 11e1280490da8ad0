"""Public credit records (公共信用信息) held about a subject."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin
from app.models.department import Department
from app.models.subject import Subject


class RecordType(StrEnum):
    ADMINISTRATIVE_PENALTY = "administrative_penalty"  # 行政处罚
    ABNORMAL_OPERATIONS = "abnormal_operations"  # 经营异常名录
    SERIOUS_VIOLATION_LIST = "serious_violation_list"  # 严重违法失信名单
    SERIOUS_DISHONESTY_LIST = "serious_dishonesty_list"  # 严重失信主体名单
    BREACH_OF_COMMITMENT = "breach_of_commitment"  # 违诺记录


class Severity(StrEnum):
    MINOR = "minor"  # 轻微
    GENERAL = "general"  # 一般
    SERIOUS = "serious"  # 严重


class RecordStatus(StrEnum):
    PUBLISHED = "published"
    UNDER_OBJECTION = "under_objection"
    REPAIRED = "repaired"
    CORRECTED = "corrected"
    DELETED = "deleted"
    EXPIRED = "expired"


class CreditRecord(TimestampMixin, Base):
    __tablename__ = "credit_record"
    __table_args__ = (UniqueConstraint("subject_id", "decision_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(16))
    decision_no: Mapped[str] = mapped_column(String(128))
    violation: Mapped[str | None] = mapped_column(String(255))
    facts: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(String(255))
    penalty_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    penalty_content: Mapped[str | None] = mapped_column(String(255))
    fine_yuan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    sector: Mapped[str | None] = mapped_column(String(32))
    procedure: Mapped[str | None] = mapped_column(String(16))  # 简易程序 / 普通程序
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    authority: Mapped[str | None] = mapped_column(String(128))
    decided_on: Mapped[date] = mapped_column(Date)
    published_on: Mapped[date | None] = mapped_column(Date)
    public_until: Mapped[date | None] = mapped_column(Date)
    repairable: Mapped[bool] = mapped_column(Boolean, default=False)
    repairable_from: Mapped[date | None] = mapped_column(Date)
    rule_set: Mapped[str | None] = mapped_column(String(32))
    platforms: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(24), default=RecordStatus.PUBLISHED.value)
    source: Mapped[str] = mapped_column(String(32), default="manual")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    subject: Mapped[Subject] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")

    def is_repairable_on(self, day: date) -> bool:
        """True when the record may be repaired on `day` (status and minimum period)."""
        return (
            self.repairable
            and self.status == RecordStatus.PUBLISHED
            and self.repairable_from is not None
            and self.repairable_from <= day
        )

    def __repr__(self) -> str:
        return f"<CreditRecord {self.decision_no}>"
