"""The matter catalogue (事项目录) with its materials and 容缺 list."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TimestampMixin
from app.models.department import Department


class MaterialKind(StrEnum):
    CORE = "core"  # 主要材料: must be complete at acceptance
    DEFERRABLE = "deferrable"  # 次要材料: may follow on a 容缺 commitment


class Matter(TimestampMixin, Base):
    __tablename__ = "matter"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    legal_basis: Mapped[str | None] = mapped_column(String(255))
    notify_commit: Mapped[bool] = mapped_column(Boolean, default=False)
    rongque: Mapped[bool] = mapped_column(Boolean, default=False)
    promised_days: Mapped[int] = mapped_column(default=20)  # 承诺办结时限, working days
    verification_days: Mapped[int | None] = mapped_column()  # 核查期限, working days
    notice_text: Mapped[str | None] = mapped_column(Text)  # 告知内容 (证明义务、证明内容)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department] = relationship(lazy="joined")
    materials: Mapped[list[MatterMaterial]] = relationship(
        back_populates="matter", order_by="MatterMaterial.position", cascade="all, delete-orphan"
    )

    def deferrable_materials(self) -> list[MatterMaterial]:
        return [m for m in self.materials if m.kind == MaterialKind.DEFERRABLE]


class MatterMaterial(Base):
    __tablename__ = "matter_material"
    __table_args__ = (UniqueConstraint("matter_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default=MaterialKind.CORE.value)
    # Deadline for a deferred material, in working days; never beyond the matter's promised time.
    deferral_days: Mapped[int | None] = mapped_column()
    position: Mapped[int] = mapped_column(default=0)

    matter: Mapped[Matter] = relationship(back_populates="materials")
