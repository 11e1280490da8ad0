"""`flask seed demo`: reference rules plus the demo data of CONTRACT §3 (idempotent)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CreditRecord, Department, Matter, MatterMaterial, Subject, User
from app.services import audit
from app.services.accounts import create_user
from app.services.records import apply_publication_rules, ensure_reference_rules, load_rules
from app.services.seed_data import DEPARTMENTS, MATTERS, RECORDS, SUBJECTS, USERS

logger = logging.getLogger(__name__)


def seed_demo(session: Session, *, password: str, today: date) -> dict[str, int]:
    """Create whatever part of the demo data is missing; never touches existing rows."""
    counts = {"rules": ensure_reference_rules(session)}
    departments = _departments(session)
    counts["subjects"] = _subjects(session, today)
    counts["users"] = _users(session, password)
    counts["records"] = _records(session, departments, today)
    counts["matters"] = _matters(session, departments)
    if any(counts.values()):
        audit.record(session, "seed.demo", details={"today": today.isoformat(), **counts})
        logger.info("demo seed: %s", counts)
    return counts


def _departments(session: Session) -> dict[str, Department]:
    existing = {d.code: d for d in session.scalars(select(Department))}
    for code, name, authority in DEPARTMENTS:
        if code not in existing:
            existing[code] = Department(code=code, name=name, authority_name=authority)
            session.add(existing[code])
    session.flush()
    return existing


def _subjects(session: Session, today: date) -> int:
    known = set(session.scalars(select(Subject.uscc)))
    added = 0
    for uscc, name, entity_type, legal_rep, authority, region, grade in SUBJECTS:
        if uscc in known:
            continue
        session.add(
            Subject(
                uscc=uscc,
                name=name,
                entity_type=entity_type,
                legal_representative=legal_rep,
                registration_authority=authority,
                region_code=region,
                established_on=date(2019, 4, 16),
                grade_scheme="public_comprehensive",
                grade=grade,
                grade_as_of=today.replace(day=1),
                serious_list=uscc == "91310115MAC4R7LN0W",
            )
        )
        added += 1
    session.flush()
    return added


def _users(session: Session, password: str) -> int:
    known = set(session.scalars(select(User.username)))
    added = 0
    for username, role, approver_role, dept, uscc, display in USERS:
        if username in known:
            continue
        create_user(
            session,
            username=username,
            role=role,
            password=password,
            display_name=display,
            department_code=dept,
            approver_role=approver_role,
            uscc=uscc,
        )
        added += 1
    return added


def _records(session: Session, departments: dict[str, Department], today: date) -> int:
    subjects = {s.uscc: s for s in session.scalars(select(Subject))}
    existing = {
        (r.subject_id, r.extra.get("seed_key")) for r in session.scalars(select(CreditRecord))
    }
    rules = load_rules(session)
    added = 0
    for (
        uscc,
        key,
        rtype,
        severity,
        dept,
        days_ago,
        sector,
        number,
        violation,
        content,
        fine,
    ) in RECORDS:
        subject = subjects[uscc]
        if (subject.id, key) in existing:
            continue
        decided = today - timedelta(days=days_ago)
        record = CreditRecord(
            subject=subject,
            record_type=rtype,
            severity=severity,
            decision_no=number.format(year=decided.year),
            violation=violation,
            penalty_content=content,
            fine_yuan=Decimal(fine) if fine else None,
            sector=sector,
            procedure="普通程序",
            department=departments[dept],
            authority=departments[dept].authority_name,
            decided_on=decided,
            published_on=decided + timedelta(days=7),
            platforms=["gsxt", "creditchina"] if dept == "samr" else ["creditchina"],
            source="seed",
            extra={"seed_key": key},
        )
        apply_publication_rules(session, record, rules)
        session.add(record)
        added += 1
    session.flush()
    return added


def _matters(session: Session, departments: dict[str, Department]) -> int:
    known = set(session.scalars(select(Matter.code)))
    added = 0
    for code, name, dept, notify, rongque, promised, verify_days, notice, materials in MATTERS:
        if code in known:
            continue
        matter = Matter(
            code=code,
            name=name,
            department=departments[dept],
            notify_commit=notify,
            rongque=rongque,
            promised_days=promised,
            verification_days=verify_days,
            notice_text=notice,
        )
        matter.materials = [
            MatterMaterial(code=m_code, name=m_name, kind=kind, deferral_days=days, position=i)
            for i, (m_code, m_name, kind, days) in enumerate(materials)
        ]
        session.add(matter)
        added += 1
    session.flush()
    return added
