"""Versioned rule rows: publication periods by effective date, and calendar overrides."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class PublicationRule(Base):
    """One row of a publication-period table (DOMAIN §1.1). Rows are never edited in place."""

    __tablename__ = "publication_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set: Mapped[str] = mapped_column(String(32), index=True)  # e.g. NDRC-36, NDRC-58
    scheme: Mapped[str] = mapped_column(String(16))  # creditchina | gsxt
    record_type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(16))  # None: any severity
    sector: Mapped[str | None] = mapped_column(String(32))  # None: any sector
    procedure: Mapped[str | None] = mapped_column(String(16))  # None: any procedure
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    repairable: Mapped[bool] = mapped_column(Boolean, default=True)
    min_months: Mapped[int | None] = mapped_column()  # minimum publication before repair
    max_months: Mapped[int | None] = mapped_column()  # then removed without application
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)  # inclusive; None: open-ended
    source: Mapped[str] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(String(255))


class CalendarOverride(Base):
    """An admin-entered working-day fact, for years the calendar package does not know yet."""

    __tablename__ = "calendar_override"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
