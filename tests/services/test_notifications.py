"""In-app notifications reach exactly the candidates of a new task."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Notification
from app.services import instances, notifications, tasks
from tests.engine_fixtures import deploy_test_bundle, only_task, user


def test_new_tasks_notify_their_candidates_only(seeded: Session) -> None:
    deploy_test_bundle(seeded, "review_case")
    ent = user(seeded, "ent_chengxi")
    instance = instances.start_instance(seeded, "review_case", {}, ent)
    assert notifications.unread_count(seeded, ent) == 1  # its own submit task
    tasks.complete(
        seeded, only_task(seeded, instance.id, "submit_application").id, {"claim": "申请修复"}, ent
    )
    seeded.commit()
    reviewer, other = user(seeded, "rev_samr"), user(seeded, "rev_ndrc")
    assert notifications.unread_count(seeded, reviewer) == 1
    assert notifications.unread_count(seeded, other) == 0  # another department
    assert notifications.unread_count(seeded, user(seeded, "insp_samr")) == 0  # another role
    note = seeded.scalar(select(Notification).where(Notification.user_id == reviewer.id))
    assert note.link and note.link.startswith("/tasks/") and "审核申请" in note.title
    notifications.mark_read(seeded, reviewer)
    assert notifications.unread_count(seeded, reviewer) == 0
