"""Every shipped BPMN (bpmn/) and every test bundle: deploy, start, save, load, continue."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import runner, specs
from app.models import User
from app.services import host, instances, live_workflows
from app.services.definitions import check_bundle, deploy_bundle, read_bundle_dir
from tests.engine_fixtures import user

ROOT = Path(__file__).resolve().parent.parent
BUNDLE_DIRS = [
    ROOT / "bpmn",
    *sorted(p for p in (ROOT / "tests" / "bpmn").iterdir() if p.is_dir()),
    ROOT / "bench" / "bpmn",
]


START_DATA = {"loop_counter": {"counter": 0, "limit": 5}}


def _start_args(session: Session, key: str) -> tuple[str, dict[str, object]]:
    """Who starts each shipped process and with which data (CONTRACT §4)."""
    from app.models import Commitment, CreditRecord, Subject
    from app.services import commitments
    from tests.conftest import SEED_DAY

    chengxi = session.scalar(select(Subject).where(Subject.uscc == "91310114MA1GT8QX92"))
    records = session.scalars(
        select(CreditRecord).where(CreditRecord.subject_id == chengxi.id).order_by(CreditRecord.id)
    ).all()
    repairable = [r.id for r in records if r.is_repairable_on(SEED_DAY)]
    if key == "notify_commit_approval":
        return "ent_chengxi", {"matter_code": "SAMR-SPJY-001"}
    if key == "rongque_acceptance":
        return "ent_chengxi", {
            "matter_code": "SAMR-SPJY-001",
            "deferred_materials": ["safety_rules"],
        }
    if key == "credit_repair":
        return "ent_chengxi", {"record_ids": repairable[:2]}
    if key == "objection_handling":
        return "ent_chengxi", {
            "record_id": records[0].id,
            "ground": "wrong_info",
            "claim": "处罚决定书中的违法事实与实际不符",
        }
    if key == "commitment_breach":
        commitment: Commitment = commitments.sign(
            session,
            kind="notify_commit",
            subject=chengxi,
            text="本人承诺所填信息真实。",
            signer_name="王某某",
            signed_by=None,
            department_id=records[0].department_id,
        )
        return "rev_samr", {"commitment_id": commitment.id, "reason": "核查发现承诺内容不实"}
    return "rev_samr", START_DATA.get(key, {})


def test_shipped_bundle_validates() -> None:
    files = read_bundle_dir(ROOT / "bpmn")
    if not files:
        pytest.skip("no shipped BPMN yet (the five processes come with issue 4)")
    check = check_bundle(files)
    assert check.ok, [p.as_dict() for p in check.problems]


@pytest.mark.parametrize("bundle", BUNDLE_DIRS, ids=lambda p: p.name)
def test_bundle_round_trips(seeded: Session, bundle: Path) -> None:
    files = read_bundle_dir(bundle)
    if not any(name.endswith(".bpmn") for name in files):
        pytest.skip(f"{bundle.name} holds no BPMN yet")
    deployed = deploy_bundle(seeded, files)
    seeded.commit()
    for item in deployed:
        username, data = _start_args(seeded, item.key)
        actor: User = user(seeded, username)
        instance = instances.start_instance(seeded, item.key, data, actor)
        seeded.commit()
        before = instance.state
        specs.clear()
        live_workflows.clear()  # a new worker: nothing cached
        workflow = host.load(seeded, instance)
        assert runner.dumps(workflow) == before  # save → load → save is stable
        snapshot = runner.snapshot(workflow)
        assert (
            snapshot.completed
            or snapshot.ready_tasks
            or snapshot.waiting_messages
            or (snapshot.next_timer_due is not None)
        ), f"{item.key} is stuck after start"
