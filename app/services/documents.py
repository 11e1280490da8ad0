"""Official documents: serial numbers, rendering, signing, content-addressed storage, checks.

A document is requested as an `OutboxEvent(kind="document", name=<kind>, payload=<context>)`;
the worker calls `process_document_outbox`, which issues each one through `issue_document`.
Issued documents are immutable: reissuing supersedes the old serial, revoking marks it revoked.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import (
    Commitment,
    CreditRecord,
    Department,
    Document,
    DocumentCounter,
    DocumentStatus,
    HumanTask,
    Matter,
    OutboxEvent,
    ProcessInstance,
    Role,
    Subject,
    User,
)
from app.models.base import utcnow
from app.services import audit
from app.services.errors import InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)

Renderer = Callable[[str, dict[str, Any]], bytes]
Signer = Callable[[bytes, Any], bytes]
QrMaker = Callable[[str], str]

# kind -> (Chinese title, serial prefix)
KINDS: dict[str, tuple[str, str]] = {
    "commitment": ("信用承诺书", "信承"),
    "rongque_notice": ("容缺受理通知书", "容缺"),
    "notify_commit_decision": ("告知承诺审批决定书", "告承决"),
    "repair_decision": ("信用修复决定书", "信修决"),
    "objection_result": ("异议处理结果告知书", "异议告"),
    "breach_notice": ("违诺认定告知书", "违诺告"),
}
STATUS_LABELS = {
    DocumentStatus.VALID.value: "有效",
    DocumentStatus.REVOKED.value: "已撤销",
    DocumentStatus.SUPERSEDED.value: "已被新文书替代",
    "preparing": "正在制作",
}

# Legal bases (DOMAIN.md §0 table); a payload's own `legal_basis` wins.
NOTIFY_COMMIT_BASIS = (
    "《国务院办公厅关于全面推行证明事项和涉企经营许可事项告知承诺制的指导意见》"
    "（国办发〔2020〕42号）"
)
RONGQUE_BASIS = (
    "《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》"
    "（国办发〔2019〕35号）"
)
NDRC_REPAIR_BASIS = "《信用修复管理办法》（国家发展改革委令2025年第36号）"
SAMR_REPAIR_BASIS = "《市场监督管理信用修复管理办法》（市场监管总局令第107号）"
OBJECTION_BASIS = "《上海市社会信用条例》第三十六条"
COMMITMENT_BASIS = {
    "notify_commit": NOTIFY_COMMIT_BASIS,
    "rongque": RONGQUE_BASIS,
    "repair": f"{NDRC_REPAIR_BASIS}；{SAMR_REPAIR_BASIS}",
}
COMMITMENT_KIND_LABELS = {
    "notify_commit": "告知承诺书",
    "rongque": "申请容缺受理承诺书",
    "repair": "信用修复承诺书",
}
RULE_SET_BASIS = {"NDRC-36": NDRC_REPAIR_BASIS, "SAMR-107": SAMR_REPAIR_BASIS}


# --- small helpers ---------------------------------------------------------------------------


def title_of(kind: str) -> str:
    return KINDS[kind][0] if kind in KINDS else kind


def serial_path(serial: str) -> str:
    """The serial as one URL path segment (percent-encoded UTF-8)."""
    return quote(serial, safe="")


def verify_url(base_url: str, serial: str) -> str:
    return f"{base_url.rstrip('/')}/verify/{serial_path(serial)}"


def download_url(serial: str) -> str:
    return f"/documents/{serial_path(serial)}/download"


def file_path(storage_dir: Path, sha256: str) -> Path:
    return Path(storage_dir) / sha256[:2] / sha256[2:4] / sha256


def _local_now() -> datetime:
    from app.services.host import SETTINGS

    return clock.now().astimezone(ZoneInfo(SETTINGS.timezone))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


# --- serial numbers and storage ----------------------------------------------------------------


def next_seq(session: Session, kind: str, year: int) -> int:
    """Lock the (kind, year) counter row, creating it if missing, and take the next number."""
    query = (
        select(DocumentCounter)
        .where(DocumentCounter.kind == kind, DocumentCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    counter = session.scalars(query).one_or_none()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(DocumentCounter(kind=kind, year=year, last=0))
        except IntegrityError:
            pass  # another transaction created it first; lock theirs below
        counter = session.scalars(query).one()
    counter.last += 1
    session.flush()
    return counter.last


def format_serial(kind: str, year: int, seq: int) -> str:
    return f"{KINDS[kind][1]}〔{year}〕{seq}号"


def store_bytes(storage_dir: Path, data: bytes) -> str:
    """Write `data` content-addressed (atomic rename); return its sha256."""
    sha = hashlib.sha256(data).hexdigest()
    target = file_path(storage_dir, sha)
    if target.is_file() and target.stat().st_size == len(data):
        return sha
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".doc-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return sha


# --- context ---------------------------------------------------------------------------------


def _subject_for(
    session: Session, instance: ProcessInstance | None, payload: Mapping[str, Any]
) -> Subject | None:
    if instance is not None and instance.subject_id:
        return session.get(Subject, instance.subject_id)
    if payload.get("commitment_id"):
        commitment = session.get(Commitment, int(payload["commitment_id"]))
        if commitment is not None:
            return session.get(Subject, commitment.subject_id)
    if payload.get("subject_uscc"):
        return session.scalar(select(Subject).where(Subject.uscc == payload["subject_uscc"]))
    return None


def _records(session: Session, payload: Mapping[str, Any]) -> list[CreditRecord]:
    ids = [r.get("record_id") for r in payload.get("records") or [] if isinstance(r, dict)]
    if payload.get("record_id"):
        ids.append(payload["record_id"])
    return [r for i in ids if i and (r := session.get(CreditRecord, int(i))) is not None]


def _department_for(
    session: Session, kind: str, instance: ProcessInstance | None, payload: Mapping[str, Any]
) -> Department | None:
    """The deciding department: the one named by the payload or records, else the instance's."""
    code = payload.get("department")
    if isinstance(code, str) and code:
        found = session.scalar(select(Department).where(Department.code == code))
        if found is not None:
            return found
    departments = {r.department_id for r in _records(session, payload)}
    if len(departments) == 1:
        return session.get(Department, departments.pop())
    if kind == "commitment" and payload.get("commitment_id"):
        commitment = session.get(Commitment, int(payload["commitment_id"]))
        if commitment is not None and commitment.department_id:
            return session.get(Department, commitment.department_id)
    if instance is not None and instance.department_id:
        return session.get(Department, instance.department_id)
    if instance is not None and not payload.get("authority"):
        # The department that last decided on the instance (its latest completed task).
        dept_id = session.scalar(
            select(HumanTask.department_id)
            .where(
                HumanTask.instance_id == instance.id,
                HumanTask.state == "completed",
                HumanTask.department_id.is_not(None),
            )
            .order_by(HumanTask.completed_at.desc())
            .limit(1)
        )
        return session.get(Department, dept_id) if dept_id else None
    return None


def legal_basis_for(session: Session, kind: str, payload: Mapping[str, Any]) -> str | None:
    """The legal basis printed on a document of `kind` (DOMAIN.md)."""
    if payload.get("legal_basis"):
        return str(payload["legal_basis"])
    commitment_kind = payload.get("commitment_kind_code")
    if payload.get("commitment_id") and not commitment_kind:
        commitment = session.get(Commitment, int(payload["commitment_id"]))
        commitment_kind = commitment.kind if commitment is not None else None
    if kind == "notify_commit_decision":
        return NOTIFY_COMMIT_BASIS
    if kind == "rongque_notice":
        return RONGQUE_BASIS
    if kind == "objection_result":
        return OBJECTION_BASIS
    if kind == "repair_decision":
        rule_sets = sorted({r.rule_set or "" for r in _records(session, payload)})
        bases = [RULE_SET_BASIS[s] for s in rule_sets if s in RULE_SET_BASIS]
        return "；".join(bases) or COMMITMENT_BASIS["repair"]
    if kind in ("commitment", "breach_notice"):
        return COMMITMENT_BASIS.get(str(commitment_kind or ""))
    return None


REVOKED_KEY = "_revoked_before_issue"  # outbox payload flag set by revoke_for_instance
REPAIR_OUTCOMES = {"approved": "approved", "partly_approved": "partly", "partly": "partly"}
BREACH_RIGHTS = (
    "如对本认定有异议，可自收到本告知书之日起5个工作日内向本机关提出陈述、申辩；"
    "对认定结果不服的，可依法申请行政复议或者提起行政诉讼。"
)


def _iso_day(value: Any) -> str | None:
    return str(value)[:10] if value else None


def _commitment_serial(session: Session, commitment_id: Any) -> str | None:
    if not commitment_id:
        return None
    docs = session.scalars(
        select(Document).where(
            Document.kind == "commitment", Document.status == DocumentStatus.VALID.value
        )
    )
    return next((d.serial for d in docs if d.context.get("commitment_id") == commitment_id), None)


def _commitment_fields(session: Session, payload: Mapping[str, Any]) -> dict[str, Any]:
    commitment = (
        session.get(Commitment, int(payload["commitment_id"]))
        if payload.get("commitment_id")
        else None
    )
    matter = (
        session.get(Matter, commitment.matter_id) if commitment and commitment.matter_id else None
    )
    return {
        "text": commitment.text if commitment else "",
        "signer_name": commitment.signer_name if commitment else "",
        "signed_at": commitment.signed_at if commitment else None,
        "commitment_kind": payload.get("commitment_kind_label")
        or (COMMITMENT_KIND_LABELS.get(commitment.kind) if commitment else None),
        "matter_name": matter.name if matter else payload.get("matter_name"),
    }


def kind_fields(
    session: Session, kind: str, instance: ProcessInstance | None, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """The template keys of `kind` (templates/pdf/<kind>.html) from the workflow's payload."""
    if kind == "repair_decision":
        return {
            "outcome": REPAIR_OUTCOMES.get(str(payload.get("outcome")), "refused"),
            "records": [
                {
                    "decision_no": r.get("decision_no") or "",
                    "department": r.get("department") or r.get("department_name") or "",
                    "result": r.get("result") or r.get("result_label") or "",
                    "reason": r.get("reason") or "",
                }
                for r in payload.get("records") or []
            ],
            "applied_on": payload.get("applied_on")
            or (instance.created_at.date() if instance else None),
        }
    if kind == "rongque_notice":
        defaults = {"matter_name": "", "materials": [], "consequences": ""}
        return {k: payload.get(k) or v for k, v in defaults.items()}
    if kind == "notify_commit_decision":
        due = payload.get("verification_due")
        note = f"本机关将于{due}前对你单位承诺的内容进行核查。" if due else ""
        return {
            "matter_name": payload.get("matter_name") or "",
            "decision": payload.get("decision") or "approved",
            "verification_note": payload.get("verification_note") or note,
            "commitment_serial": payload.get("commitment_serial")
            or _commitment_serial(session, payload.get("commitment_id")),
        }
    if kind == "objection_result":
        return {
            "record": payload.get("record")
            or {
                "title": payload.get("violation") or payload.get("record_type") or "",
                "decision_no": payload.get("decision_no"),
                "department": payload.get("authority"),
            },
            "outcome": payload.get("outcome") or "uphold",
            "reasons": payload.get("reasons") or "",
            "received_on": payload.get("received_on") or _iso_day(payload.get("received_at")),
        }
    if kind == "breach_notice":
        commitment = _commitment_fields(session, payload)
        return {
            "record": payload.get("record")
            or {
                "matter_name": payload.get("matter_name") or commitment["matter_name"] or "",
                "commitment_serial": _commitment_serial(session, payload.get("commitment_id")),
                "signed_on": _iso_day(commitment["signed_at"]),
            },
            "reason": payload.get("reason")
            or "；".join(str(payload[k]) for k in ("facts", "opinion") if payload.get(k)),
            "rights": payload.get("rights") or BREACH_RIGHTS,
        }
    if kind == "commitment":
        fields = _commitment_fields(session, payload)
        return {k: payload.get(k) or v for k, v in fields.items()}
    return {}


def build_context(
    session: Session,
    *,
    kind: str,
    instance: ProcessInstance | None,
    payload: Mapping[str, Any],
    serial: str,
    issued_on: date,
    base_url: str,
    qr: QrMaker,
) -> dict[str, Any]:
    """The full context `render_pdf` receives: payload plus the keys every document carries."""
    subject = _subject_for(session, instance, payload)
    department = _department_for(session, kind, instance, payload)
    department_name = (
        (department.authority_name or department.name)
        if department is not None
        else payload.get("department_name") or payload.get("authority")
    )
    url = verify_url(base_url, serial)
    return {
        **payload,
        **kind_fields(session, kind, instance, payload),
        "kind": kind,
        "serial": serial,
        "title": title_of(kind),
        "issued_on": issued_on,
        "department_name": department_name or "",
        "subject_name": subject.name if subject else payload.get("subject_name", ""),
        "subject_uscc": subject.uscc if subject else payload.get("subject_uscc", ""),
        "legal_basis": legal_basis_for(session, kind, payload),
        "verify_url": url,
        "qr_svg": qr(url),
    }


# --- issuing ---------------------------------------------------------------------------------


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
        raise InvalidInputError(f"未知的文书类型：{kind}", {"kind": [kind]})
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
    logger.info("document issued: %s (%s) for instance %s", serial, kind, instance_id)
    if context.get(REVOKED_KEY):
        revoke(session, serial, str(context[REVOKED_KEY]), actor)
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


# --- revocation, verification, access ----------------------------------------------------------


def get_document(session: Session, serial: str) -> Document:
    found = session.scalar(select(Document).where(Document.serial == serial))
    if found is None:
        raise NotFoundError("文书不存在。")
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
        "title": title_of(document.kind),
        "status": document.status,
        "status_label": STATUS_LABELS.get(document.status, document.status),
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
        raise NotFoundError("文书不存在或您无权查看。")
    if not file_path(Path(storage_dir), document.sha256).is_file():
        raise NotFoundError("文书文件不存在。")
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
            "title": title_of(d.kind),
            "serial": d.serial,
            "status": d.status,
            "status_label": STATUS_LABELS.get(d.status, d.status),
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
            "title": title_of(e.name),
            "serial": None,
            "status": "preparing",
            "status_label": STATUS_LABELS["preparing"],
            "url": None,
            "verify_url": None,
        }
        for e in pending
    ]
    return rows


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
