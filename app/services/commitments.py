"""Commitments: signing (exact text, signer, time), status changes, and the 践诺率."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Commitment, CommitmentStatus, CreditRecord, RecordStatus, Subject, User
from app.models.base import utcnow
from app.rules.routing import Route, SubjectFacts, route_for
from app.services import audit
from app.services.errors import ConflictError, InvalidInputError, NotFoundError


def subject_facts(session: Session, subject: Subject) -> SubjectFacts:
    """The facts routing needs, read from the subject and its unrepaired records."""
    open_statuses = [RecordStatus.PUBLISHED.value, RecordStatus.UNDER_OBJECTION.value]
    serious = session.scalars(
        select(CreditRecord.decision_no).where(
            CreditRecord.subject_id == subject.id,
            CreditRecord.severity == "serious",
            CreditRecord.record_type != "breach_of_commitment",
            CreditRecord.status.in_(open_statuses),
        )
    ).all()
    breaches = session.scalars(
        select(CreditRecord.decision_no)
        .where(
            CreditRecord.subject_id == subject.id,
            CreditRecord.record_type == "breach_of_commitment",
            CreditRecord.status.in_([*open_statuses, RecordStatus.CORRECTED.value]),
        )
        .order_by(CreditRecord.decided_on.desc())
    ).all()
    return SubjectFacts(
        grade_scheme=subject.grade_scheme,
        grade=subject.grade,
        open_breach=subject.open_breach,
        false_commitment=subject.false_commitment,
        serious_list=subject.serious_list,
        unrepaired_serious_records=tuple(serious),
        open_breach_records=tuple(breaches),
    )


def route_for_subject(session: Session, subject: Subject) -> Route:
    return route_for(subject_facts(session, subject))


def sign(
    session: Session,
    *,
    kind: str,
    subject: Subject,
    text: str,
    signer_name: str,
    signed_by: User | None,
    instance_id: int | None = None,
    matter_id: int | None = None,
    department_id: int | None = None,
    due_on: date | None = None,
    details: dict[str, object] | None = None,
) -> Commitment:
    """Record a signed commitment with the exact text, who signed and when."""
    signer_name = (signer_name or "").strip()
    if not signer_name or len(signer_name) > 64:
        raise InvalidInputError(
            _("请填写签署人姓名。"), {"signer_name": [_("请填写签署人姓名（64 字以内）。")]}
        )
    if not text.strip():
        raise InvalidInputError(_("承诺书内容为空。"), {"text": [_("承诺书内容为空。")]})
    commitment = Commitment(
        kind=kind,
        subject_id=subject.id,
        instance_id=instance_id,
        matter_id=matter_id,
        department_id=department_id,
        text=text,
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        signer_name=signer_name,
        signed_by_id=signed_by.id if signed_by else None,
        signed_at=utcnow(),
        due_on=due_on,
        details=dict(details or {}),
    )
    session.add(commitment)
    session.flush()
    audit.record(
        session,
        "commitment.signed",
        actor=signed_by,
        object_type="commitment",
        object_id=str(commitment.id),
        details={"kind": kind, "sha256": commitment.text_sha256, "instance_id": instance_id},
    )
    from app.services import documents  # the signed commitment is issued as a document

    documents.request_commitment_document(session, commitment)
    return commitment


def set_status(
    session: Session,
    commitment_id: int,
    status: str,
    on: date,
    actor: User | None = None,
    note: str = "",
) -> Commitment:
    """Close or reopen a commitment (fulfilled, fulfilled late, breached, withdrawn, repaired)."""
    if status not in {s.value for s in CommitmentStatus}:
        raise InvalidInputError(_("承诺状态无效。"), {"status": [status]})
    commitment = session.get(Commitment, commitment_id)
    if commitment is None:
        raise NotFoundError(_("承诺不存在。"))
    if commitment.status == status:
        return commitment
    if commitment.status in (CommitmentStatus.WITHDRAWN,) or (
        commitment.status == CommitmentStatus.REPAIRED
    ):
        raise ConflictError(_("承诺已是 %(status)s 状态，不能再变更。", status=commitment.status))
    previous = commitment.status
    commitment.status = status
    commitment.closed_on = on if status != CommitmentStatus.OPEN else None
    audit.record(
        session,
        "commitment.status",
        actor=actor,
        object_type="commitment",
        object_id=str(commitment.id),
        details={"from": previous, "to": status, "on": on.isoformat(), "note": note},
    )
    return commitment


@dataclass(frozen=True)
class FulfilmentRate:
    due: int
    on_time: int
    late: int
    breached: int

    @property
    def rate(self) -> float | None:
        """践诺率 = fulfilled on time ÷ due (DOMAIN §3); None when nothing was due."""
        return self.on_time / self.due if self.due else None
