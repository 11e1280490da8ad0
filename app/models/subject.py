"""Credit subjects (信用主体), identified by the unified social credit code."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin


class Subject(TimestampMixin, Base):
    __tablename__ = "subject"

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    entity_type: Mapped[str | None] = mapped_column(String(64))
    legal_representative: Mapped[str | None] = mapped_column(String(64))
    registration_authority: Mapped[str | None] = mapped_column(String(128))
    region_code: Mapped[str | None] = mapped_column(String(6))
    established_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="存续")
    # Credit grade (DOMAIN §5): scheme, grade and as_of of the source; tier is the internal A–D.
    grade_scheme: Mapped[str | None] = mapped_column(String(32))
    grade: Mapped[str | None] = mapped_column(String(8))
    grade_as_of: Mapped[date | None] = mapped_column(Date)
    # Flags that override the grade tier.
    abnormal_list: Mapped[bool] = mapped_column(Boolean, default=False)
    serious_list: Mapped[bool] = mapped_column(Boolean, default=False)
    judgment_defaulter: Mapped[bool] = mapped_column(Boolean, default=False)
    open_breach: Mapped[bool] = mapped_column(Boolean, default=False)
    false_commitment: Mapped[bool] = mapped_column(Boolean, default=False)

    def masked_name(self) -> str:
        """The name with its middle hidden, for public verification pages."""
        if len(self.name) <= 4:
            return self.name[:1] + "*" * (len(self.name) - 1)
        return self.name[:2] + "*" * (len(self.name) - 4) + self.name[-2:]

    def __repr__(self) -> str:
        return f"<Subject {self.uscc}>"
