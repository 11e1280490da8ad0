"""Every shipped BPMN (bpmn/) and every test bundle: deploy, start, save, load, continue."""

from __future__ import annotations

from pathlib import Path

import pytest
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
    actor: User = user(seeded, "rev_samr")
    for item in deployed:
        instance = instances.start_instance(seeded, item.key, START_DATA.get(item.key, {}), actor)
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
