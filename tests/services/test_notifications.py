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


def test_process_notices_appear_in_the_app_once(seeded: Session) -> None:
    from app.models import OutboxEvent

    deploy_test_bundle(seeded, "review_case")
    ent = user(seeded, "ent_chengxi")
    instance = instances.start_instance(seeded, "review_case", {}, ent)
    seeded.add(
        OutboxEvent(
            instance_id=instance.id,
            kind="notification",
            name="rongque_supplement_reminder",
            payload={
                "subject_uscc": "91310114MA1GT8QX92",
                "text": "您承诺补齐的容缺材料将于明日到期。",
            },
        )
    )
    seeded.add(
        OutboxEvent(
            instance_id=instance.id,
            kind="notification",
            name="breach_feedback",
            payload={"department": "samr", "lane": "reviewer"},
        )
    )
    seeded.flush()
    assert notifications.mirror_outbox_notices(seeded) == 2  # ent_chengxi + rev_samr
    assert notifications.mirror_outbox_notices(seeded) == 0  # once only
    reminder = seeded.scalar(
        select(Notification).where(Notification.user_id == ent.id, Notification.kind == "notice")
    )
    assert reminder.title == "容缺材料补齐提醒" and "明日到期" in reminder.body
    assert notifications.unread_count(seeded, user(seeded, "rev_samr")) == 1
    assert notifications.unread_count(seeded, user(seeded, "rev_ndrc")) == 0


def test_the_applicant_is_told_when_a_case_finishes(seeded: Session) -> None:
    deploy_test_bundle(seeded, "review_case")
    ent = user(seeded, "ent_chengxi")
    instance = instances.start_instance(seeded, "review_case", {}, ent)
    tasks.complete(
        seeded, only_task(seeded, instance.id, "submit_application").id, {"claim": "申请修复"}, ent
    )
    tasks.complete(
        seeded,
        only_task(seeded, instance.id, "review_application").id,
        {"decision": "reject"},
        user(seeded, "rev_samr"),
    )
    seeded.commit()
    note = seeded.scalar(
        select(Notification).where(Notification.user_id == ent.id, Notification.kind == "decided")
    )
    assert note is not None and note.link == f"/enterprise/applications/{instance.id}"
