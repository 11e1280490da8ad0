"""Credit subjects and the records held about them."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CreditRecord, Subject, User
from app.rules.uscc import normalize_uscc
from app.services.errors import InvalidInputError, NotFoundError
from app.services.permissions import can_view_subject


def get_subject_for(session: Session, uscc: str, actor: User) -> Subject:
    """The subject with this USCC if the actor may see it.

    An enterprise asking about another subject gets the same NotFoundError as for an unknown
    code, so it learns nothing about which codes exist.
    """
    code = normalize_uscc(uscc)
    if len(code) != 18:
        raise InvalidInputError(
            _("统一社会信用代码应为 18 位。"), {"uscc": [_("统一社会信用代码应为 18 位。")]}
        )
    subject = session.scalar(select(Subject).where(Subject.uscc == code))
    if subject is None or not can_view_subject(actor, subject):
        raise NotFoundError(_("未找到该信用主体。"))
    return subject


def list_records(session: Session, subject: Subject) -> Sequence[CreditRecord]:
    """The subject's records, newest decision first."""
    return session.scalars(
        select(CreditRecord)
        .where(CreditRecord.subject_id == subject.id)
        .order_by(CreditRecord.decided_on.desc(), CreditRecord.id.desc())
    ).all()


def record_dict(record: CreditRecord) -> dict[str, object]:
    """The API shape of a record (CONTRACT §5)."""
    return {
        "id": record.id,
        "type": record.record_type,
        "severity": record.severity,
        "decision_no": record.decision_no,
        "department": record.department.code,
        "authority": record.authority,
        "violation": record.violation,
        "decided_on": _iso(record.decided_on),
        "published_on": _iso(record.published_on),
        "public_until": _iso(record.public_until),
        "repairable": record.repairable,
        "repairable_from": _iso(record.repairable_from),
        "rule_set": record.rule_set,
        "status": record.status,
    }


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]
