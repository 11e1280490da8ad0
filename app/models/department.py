"""Departments (认定单位, windows, offices)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Department(Base):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    authority_name: Mapped[str | None] = mapped_column(String(128))

    def __repr__(self) -> str:
        return f"<Department {self.code}>"
