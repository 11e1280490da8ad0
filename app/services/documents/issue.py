"""Issuing documents: from outbox requests to signed, stored, numbered PDFs."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Commitment,
    Document,
    DocumentStatus,
    OutboxEvent,
    ProcessInstance,
    User,
)
from app.models.base import utcnow
from app.services import audit, notifications, webhooks
from app.services.documents.access import revoke
from app.services.documents.common import (
    COMMITMENT_KIND_LABELS,
    KINDS,
    QrMaker,
    Renderer,
    Signer,
    _jsonable,
    _local_now,
    format_serial,
    next_seq,
    store_bytes,
    verify_url,
)
from app.services.documents.context import REVOKED_KEY, _department_for, _subject_for, build_context
from app.services.errors import InvalidInputError

logger = logging.getLogger(__name__)


def _default_renderer() -> Renderer:
    from app.pdf import render_pdf

    return render_pdf


def _default_signer() -> Signer:
    from app.pdf.signing import sign_pdf

    return sign_pdf


def _default_qr() -> QrMaker:
    from app.pdf import qr_svg

    return qr_svg


def find_issued(
    session: Session, instance_id: int | None, kind: str, payload: Mapping[str, Any]
) -> Document | None:
    """The valid document already issued for (instance, kind) — per commitment for commitments."""
    if instance_id is None and not payload.get("commitment_id"):
        return None
    query = select(Document).where(
        Document.kind == kind, Document.status == DocumentStatus.VALID.value
    )
    if instance_id is not None:
        query = query.where(Document.instance_id == instance_id)
    for doc in session.scalars(query.order_by(Document.id)):
        if kind != "commitment" or (doc.context or {}).get("commitment_id") == payload.get(
            "commitment_id"
        ):
            return doc
    return None


def issue_document(
    session: Session,
    *,
    kind: str,
    instance_id: int | None,
    context: Mapping[str, Any],
    storage_dir: Path | str,
    base_url: str,
    key: Any,
    renderer: Renderer | None = None,
    signer: Signer | None = None,
    qr: QrMaker | None = None,
    reissue: bool = False,
    actor: User | None = None,
) -> Document:
    """Issue (render, sign, store, record) a document; idempotent per (instance, kind)."""
    if kind not in KINDS:
        raise InvalidInputError(_("未知的文书类型：%(kind)s", kind=kind), {"kind": [kind]})
    existing = find_issued(session, instance_id, kind, context)
    if existing is not None and not reissue:
        return existing
    instance = session.get(ProcessInstance, instance_id) if instance_id is not None else None
    now = _local_now()
    seq = next_seq(session, kind, now.year)
    serial = format_serial(kind, now.year, seq)
    full = build_context(
        session,
        kind=kind,
        instance=instance,
        payload=context,
        serial=serial,
        issued_on=now.date(),
        base_url=base_url,
        qr=qr or _default_qr(),
    )
    pdf = (signer or _default_signer())((renderer or _default_renderer())(kind, full), key)
    sha = store_bytes(Path(storage_dir), pdf)
    subject = _subject_for(session, instance, context)
    department = _department_for(session, kind, instance, context)
    stored = {k: v for k, v in full.items() if k not in ("qr_svg", REVOKED_KEY)}
    document = Document(
        serial=serial,
        kind=kind,
        year=now.year,
        seq=seq,
        instance_id=instance_id,
        subject_id=subject.id if subject else None,
        department_id=department.id if department else None,
        sha256=sha,
        size=len(pdf),
        status=DocumentStatus.VALID.value,
        context=_jsonable(stored),
        issued_at=now,
    )
    session.add(document)
    session.flush()
    if existing is not None:
        existing.status = DocumentStatus.SUPERSEDED.value
        existing.superseded_by_id = document.id
    audit.record(
        session,
        "document.reissued" if existing is not None else "document.issued",
        actor=actor,
        object_type="document",
        object_id=serial,
        details={
            "kind": kind,
            "instance_id": instance_id,
            "sha256": sha,
            "supersedes": existing.serial if existing is not None else None,
        },
    )
    webhooks.emit(
        session,
        "document_issued",
        subject.uscc if subject else None,
        {
            "serial": serial,
            "kind": kind,
            "sha256": sha,
            "issued_at": now.isoformat(),
            "verify_url": verify_url(base_url, serial),
            "supersedes": existing.serial if existing is not None else None,
        },
        instance_id=instance_id,
    )
    logger.info("document issued: %s (%s) for instance %s", serial, kind, instance_id)
    if context.get(REVOKED_KEY):
        revoke(session, serial, str(context[REVOKED_KEY]), actor)
    else:
        notifications.document_issued(session, document)
    return document


def process_document_outbox(
    session: Session,
    *,
    storage_dir: Path | str,
    base_url: str,
    key: Any,
    renderer: Renderer | None = None,
    signer: Signer | None = None,
    qr: QrMaker | None = None,
    limit: int = 20,
    max_attempts: int = 10,
) -> int:
    """Issue pending document requests; a failure leaves the row pending with its error."""
    rows = session.scalars(
        select(OutboxEvent)
        .where(
            OutboxEvent.kind == "document",
            OutboxEvent.state == "pending",
            OutboxEvent.available_at <= utcnow(),
        )
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    issued = 0
    for row in rows:
        try:
            with session.begin_nested():
                issue_document(
                    session,
                    kind=row.name,
                    instance_id=row.instance_id,
                    context=dict(row.payload or {}),
                    storage_dir=storage_dir,
                    base_url=base_url,
                    key=key,
                    renderer=renderer,
                    signer=signer,
                    qr=qr,
                )
        except Exception as exc:  # noqa: BLE001 - any render/sign failure is retried later
            logger.exception("document %s for outbox row %s failed", row.name, row.id)
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= max_attempts or isinstance(exc, InvalidInputError):
                row.state = "dead"
        else:
            row.state, row.done_at, row.last_error = "done", utcnow(), None
            issued += 1
        session.flush()
    return issued


def request_document(
    session: Session, kind: str, *, instance_id: int | None, payload: Mapping[str, Any]
) -> OutboxEvent:
    """Queue a document for the worker (e.g. `commitment` right after a commitment is signed)."""
    event = OutboxEvent(
        instance_id=instance_id, kind="document", name=kind, payload=_jsonable(dict(payload))
    )
    session.add(event)
    session.flush()
    return event


def request_commitment_document(session: Session, commitment: Commitment) -> OutboxEvent:
    """The 信用承诺书 request for a freshly signed commitment (once per commitment)."""
    session.flush()
    for row in session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.kind == "document",
            OutboxEvent.name == "commitment",
            OutboxEvent.instance_id == commitment.instance_id,
        )
    ):
        if (row.payload or {}).get("commitment_id") == commitment.id:
            return row
    return request_document(
        session,
        "commitment",
        instance_id=commitment.instance_id,
        payload={
            "commitment_id": commitment.id,
            "commitment_kind_code": commitment.kind,
            "commitment_kind_label": COMMITMENT_KIND_LABELS.get(commitment.kind, commitment.kind),
            "text": commitment.text,
            "text_sha256": commitment.text_sha256,
            "signer_name": commitment.signer_name,
            "signed_at": commitment.signed_at.isoformat(),
            "due_on": commitment.due_on.isoformat() if commitment.due_on else None,
        },
    )


def worker_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """storage_dir, base_url and signing key for `process_document_outbox` from app config."""
    from config import INSTANCE_DIR

    instance_dir = Path(config.get("INSTANCE_DIR") or INSTANCE_DIR)
    return {
        "storage_dir": Path(config["STORAGE_DIR"]),
        "base_url": str(config.get("PUBLIC_BASE_URL") or "http://localhost:5000"),
        "key": _signing_key(
            str(instance_dir), config.get("SIGNING_KEY_PATH"), config.get("SIGNING_CERT_PATH")
        ),
    }


@functools.lru_cache(maxsize=4)
def _signing_key(instance_dir: str, key_path: str | None, cert_path: str | None) -> Any:
    """Load (or generate) the signing key once per process: loading costs ~0.1 s."""
    from app.pdf.signing import ensure_signing_key

    paths = {"key_path": Path(key_path), "cert_path": Path(cert_path)} if key_path else {}
    return ensure_signing_key(Path(instance_dir), **paths)
