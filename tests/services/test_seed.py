"""`flask seed demo`: CONTRACT §3 data, idempotent, dated relative to the seed day."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import CreditRecord, Matter, Subject, User
from app.rules.uscc import validate_uscc
from app.services.seed import seed_demo
from tests.conftest import SEED_DAY


def test_contract_accounts_exist_with_their_roles(seeded: Session) -> None:
    users = {u.username: u for u in seeded.scalars(select(User))}
    assert users["clerk_window"].approver_role == "window"
    assert users["rev_samr"].department.code == "samr"
    assert users["insp_samr"].approver_role == "inspector"
    assert (
        users["lead_ndrc"].approver_role == "leader"
        and users["lead_ndrc"].department.code == "ndrc"
    )
    assert users["owner"].role == "process_owner" and users["admin"].role == "admin"
    assert users["ent_haian"].subject.uscc == "91370200MADD272H4F"


def test_demo_subjects_are_synthetic_and_valid(seeded: Session) -> None:
    for subject in seeded.scalars(select(Subject)):
        assert "示例" in subject.name
        assert validate_uscc(subject.uscc).ok
    grades = set(seeded.scalars(select(Subject.grade)))
    assert {"A", "B", "C", "D"} <= grades


def test_chengxi_has_the_records_the_demo_needs(seeded: Session) -> None:
    subject = seeded.scalar(select(Subject).where(Subject.uscc == "91310114MA1GT8QX92"))
    records = seeded.scalars(
        select(CreditRecord).where(CreditRecord.subject_id == subject.id)
    ).all()
    repairable = [r for r in records if r.is_repairable_on(SEED_DAY)]
    assert len(repairable) >= 3
    assert len({r.department.code for r in repairable}) >= 2
    assert any(r.repairable and not r.is_repairable_on(SEED_DAY) for r in records)
    assert any(r.record_type == "abnormal_operations" for r in records)
    severities = set(seeded.scalars(select(CreditRecord.severity)))
    assert {"minor", "general", "serious"} <= severities


def test_matter_catalogue_has_both_routes(seeded: Session) -> None:
    matters = seeded.scalars(select(Matter)).all()
    assert any(m.notify_commit for m in matters) and any(not m.notify_commit for m in matters)
    rongque = [m for m in matters if m.rongque]
    assert rongque and all(m.deferrable_materials() for m in rongque)
    for m in matters:
        for material in m.deferrable_materials():
            assert 0 < material.deferral_days <= m.promised_days


def test_seeding_twice_changes_nothing(app: Flask, seeded: Session) -> None:
    before = seeded.scalar(select(func.count()).select_from(CreditRecord))
    counts = seed_demo(seeded, password="demo12345", today=SEED_DAY)
    assert not any(counts.values())
    assert seeded.scalar(select(func.count()).select_from(CreditRecord)) == before


def test_seed_command_is_idempotent(app: Flask, session: Session) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "demo", "--today", "2026-11-20"])
    assert first.exit_code == 0 and "新增" in first.output
    second = runner.invoke(args=["seed", "demo", "--today", "2026-11-20"])
    assert second.exit_code == 0 and "未作改动" in second.output
