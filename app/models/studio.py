"""Process studio: drafts edited in the browser and their sandboxed test runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class ProcessDraft(Base):
    """An editable copy of a process bundle (BPMN, DMN and form files) saved on the server.

    `files` maps file name -> text. `key` is the process id the draft deploys (only that
    process is deployed from it). `lock_version` guards against saving over a newer save
    from another tab (stale saves get 409).
    """

    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    files: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | deployed | discarded
    deployed_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class DraftTestRun(Base):
    """A test run of a draft: an in-memory engine run persisted here, never as an instance.

    Service tasks do not call their handlers; they record the call and return the sample
    result given for that handler. `state` is the serialized workflow (spec included, as
    the draft may change after the run started); `steps` is the log shown to the user.
    """

    __tablename__ = "draft_test_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("process_draft.id"), index=True)
    files_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|completed|error
    state: Mapped[str] = mapped_column(Text)
    sample_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    service_results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}
