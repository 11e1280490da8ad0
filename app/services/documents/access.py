"""Reading issued documents: verification, revocation, downloads and listings."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import (
    Document,
    DocumentStatus,
    OutboxEvent,
    ProcessInstance,
    Role,
    Subject,
    User,
)
from app.services import audit
from app.services.documents.common import (
    STATUS_LABELS,
    download_url,
    file_path,
    serial_path,
    title_of,
)
from app.services.documents.context import REVOKED_KEY
from app.services.errors import NotFoundError

logger = logging.getLogger(__name__)


def get_document(session: Session, serial: str) -> Document:
    found = session.scalar(select(Document).where(Document.serial == serial))
    if found is None:
        raise NotFoundError(_("文书不存在。"))
    return found


def revoke(session: Session, serial: str, reason: str, actor: User | None) -> Document:
    """Mark a document revoked (the verify page then says 已撤销); idempotent."""
    document = get_document(session, serial)
    if document.status == DocumentStatus.REVOKED.value:
        return document
    document.status = DocumentStatus.REVOKED.value
    document.revoked_at = clock.now()
    document.revoke_reason = reason
    audit.record(
        session,
        "document.revoked",
        actor=actor,
        object_type="document",
        object_id=serial,
        details={"reason": reason, "instance_id": document.instance_id},
    )
    logger.info("document revoked: %s", serial)
    return document


def revoke_for_instance(
    session: Session, instance_id: int, kind: str, reason: str, actor: User | None = None
) -> list[Document]:
    """Revoke every valid document of `kind` issued for an instance (e.g. approval withdrawn).

    A request still waiting in the outbox is marked too: it is issued, then revoked at once,
    so its serial and the revocation both stay on record.
    """
    for row in session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.instance_id == instance_id,
            OutboxEvent.kind == "document",
            OutboxEvent.name == kind,
            OutboxEvent.state == "pending",
        )
    ):
        row.payload = {**(row.payload or {}), REVOKED_KEY: reason}
    valid = session.scalars(
        select(Document).where(
            Document.instance_id == instance_id,
            Document.kind == kind,
            Document.status == DocumentStatus.VALID.value,
        )
    ).all()
    return [revoke(session, d.serial, reason, actor) for d in valid]


def _local_date(value: datetime) -> str:
    from app.services.host import SETTINGS

    return value.astimezone(ZoneInfo(SETTINGS.timezone)).date().isoformat()


def verify(session: Session, serial: str) -> dict[str, Any]:
    """The public status of a serial; `{"valid": False, "found": False}` when unknown."""
    document = session.scalar(select(Document).where(Document.serial == serial))
    if document is None:
        return {"valid": False, "found": False, "serial": serial}
    subject = session.get(Subject, document.subject_id) if document.subject_id else None
    successor = (
        session.get(Document, document.superseded_by_id) if document.superseded_by_id else None
    )
    return {
        "valid": document.status == DocumentStatus.VALID.value,
        "found": True,
        "serial": document.serial,
        "kind": document.kind,
        "title": _(title_of(document.kind)),
        "status": document.status,
        "status_label": _(STATUS_LABELS.get(document.status, document.status)),
        "issued_at": document.issued_at.isoformat(),
        "issued_on": _local_date(document.issued_at),
        "department_name": (document.context or {}).get("department_name") or "",
        "sha256": document.sha256,
        "revoked": document.status == DocumentStatus.REVOKED.value,
        "revoked_at": document.revoked_at.isoformat() if document.revoked_at else None,
        "revoke_reason": document.revoke_reason,
        "superseded": document.status == DocumentStatus.SUPERSEDED.value,
        "superseded_by": successor.serial if successor is not None else None,
        "subject_name_masked": subject.masked_name() if subject else "",
    }


def matches(session: Session, serial: str, uploaded: bytes) -> bool:
    """True when `uploaded` is byte-for-byte the issued document."""
    document = session.scalar(select(Document).where(Document.serial == serial))
    if document is None or len(uploaded) != document.size:
        return False
    return hmac.compare_digest(hashlib.sha256(uploaded).hexdigest(), document.sha256)


def can_download(session: Session, actor: User, document: Document) -> bool:
    """The subject's enterprise users, the instance's participants, owners and admins."""
    from app.services.instances import can_view_instance

    if actor.role in (Role.PROCESS_OWNER, Role.ADMIN):
        return True
    if actor.role == Role.ENTERPRISE:
        return document.subject_id is not None and document.subject_id == actor.subject_id
    instance = session.get(ProcessInstance, document.instance_id) if document.instance_id else None
    if instance is not None:
        return can_view_instance(session, actor, instance)
    return actor.department_id is not None and actor.department_id == document.department_id


def open_for(session: Session, serial: str, actor: User, storage_dir: Path | str) -> Document:
    """The document if `actor` may download it and its file exists (NotFoundError otherwise)."""
    document = session.scalar(select(Document).where(Document.serial == serial))
    if document is None or not can_download(session, actor, document):
        raise NotFoundError(_("文书不存在或您无权查看。"))
    if not file_path(Path(storage_dir), document.sha256).is_file():
        raise NotFoundError(_("文书文件不存在。"))
    return document


def download_name(document: Document) -> str:
    return f"{title_of(document.kind)}（{document.serial}）.pdf"


def for_instance(session: Session, instance_id: int) -> list[dict[str, Any]]:
    """Issued documents of an instance, plus requests still being prepared (for the portal)."""
    docs = session.scalars(
        select(Document).where(Document.instance_id == instance_id).order_by(Document.id)
    ).all()
    rows: list[dict[str, Any]] = [
        {
            "kind": d.kind,
            "title": _(title_of(d.kind)),
            "serial": d.serial,
            "status": d.status,
            "status_label": _(STATUS_LABELS.get(d.status, d.status)),
            "url": download_url(d.serial),
            "verify_url": f"/verify/{serial_path(d.serial)}",
        }
        for d in docs
    ]
    pending = session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.instance_id == instance_id,
            OutboxEvent.kind == "document",
            OutboxEvent.state == "pending",
        )
    ).all()
    rows += [
        {
            "kind": e.name,
            "title": _(title_of(e.name)),
            "serial": None,
            "status": "preparing",
            "status_label": _(STATUS_LABELS.get("preparing", "")),
            "url": None,
            "verify_url": None,
        }
        for e in pending
    ]
    return rows
