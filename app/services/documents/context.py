"""What a document says: subject, department, legal basis and the kind-specific fields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Commitment,
    CreditRecord,
    Department,
    Document,
    DocumentStatus,
    HumanTask,
    Matter,
    ProcessInstance,
    Subject,
)
from app.services.documents.common import (
    COMMITMENT_BASIS,
    COMMITMENT_KIND_LABELS,
    NOTIFY_COMMIT_BASIS,
    OBJECTION_BASIS,
    RONGQUE_BASIS,
    RULE_SET_BASIS,
    QrMaker,
    title_of,
    verify_url,
)


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
