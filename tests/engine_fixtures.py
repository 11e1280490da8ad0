"""Helpers for engine tests: deploy test bundles, act as demo users."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import HumanTask, User
from app.services.definitions import deploy_bundle, read_bundle_dir

BUNDLES = Path(__file__).parent / "bpmn"


def deploy_test_bundle(session: Session, name: str, **replace: str) -> None:
    files = read_bundle_dir(BUNDLES / name)
    for filename, (old, new) in ((k, v.split("=>", 1)) for k, v in replace.items()):
        files[filename] = files[filename].replace(old.encode(), new.encode())
    deploy_bundle(session, files)
    session.commit()


def user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def open_tasks(session: Session, instance_id: int) -> list[HumanTask]:
    return list(
        session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.state == "ready"
            )
        )
    )


def only_task(session: Session, instance_id: int, bpmn_id: str) -> HumanTask:
    tasks = open_tasks(session, instance_id)
    assert [t.bpmn_id for t in tasks] == [bpmn_id], [t.bpmn_id for t in tasks]
    return tasks[0]
