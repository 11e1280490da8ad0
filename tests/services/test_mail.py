"""Mail notifications through a real SMTP server on loopback: who gets which mail, in which
language, with which link; choices; no SMTP; retries, back-off and dead letters."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Department, MailDelivery, MailState, Notification, OutboxEvent, User
from app.models.base import utcnow
from app.services import documents, instances, mail, notifications, tasks
from app.services.errors import InvalidInputError
from tests.engine_fixtures import deploy_test_bundle, only_task, user
from tests.mail_server import BASE_URL, SmtpServer, mail_on_fixture, smtp_server_fixture  # noqa: F401
from tests.services.test_documents import FAKES

CHENGXI = "91310114MA1GT8QX92"


def _email(session: Session, username: str, locale: str | None = None) -> User:
    found = user(session, username)
    found.email = f"{username}@example.com"
    found.locale = locale
    return found


def _samr_reviewer_en(session: Session) -> User:
    samr = session.scalar(select(Department).where(Department.code == "samr"))
    assert samr is not None
    extra = User(
        username="rev_samr_en",
        password_hash="x",
        display_name="SAMR reviewer (English)",
        role="approver",
        approver_role="reviewer",
        department_id=samr.id,
        locale="en",
        email="rev_samr_en@example.com",
    )
    session.add(extra)
    return extra


def _deliver(session: Session, app: Flask, **kw: object) -> int:
    sent = mail.deliver_mail(session, app.config, **kw)  # type: ignore[arg-type]
    session.commit()
    return sent


def _submitted(session: Session) -> int:
    """A review_case instance of ent_chengxi waiting for SAMR's reviewers."""
    deploy_test_bundle(session, "review_case")
    ent = user(session, "ent_chengxi")
    instance = instances.start_instance(session, "review_case", {}, ent)
    tasks.complete(
        session,
        only_task(session, instance.id, "submit_application").id,
        {"claim": "申请修复"},
        ent,
    )
    session.commit()
    return instance.id


def test_a_task_for_a_department_mails_its_candidates_in_their_language(
    seeded: Session, app: Flask, mail_on: SmtpServer
) -> None:
    for name in ("rev_samr", "rev_ndrc", "insp_samr", "ent_chengxi"):
        _email(seeded, name)
    _samr_reviewer_en(seeded)
    seeded.commit()
    instance_id = _submitted(seeded)
    task = only_task(seeded, instance_id, "review_application")

    assert _deliver(seeded, app) == 2
    assert sorted(r.rcpt_tos[0] for r in mail_on.received) == [
        "rev_samr@example.com",
        "rev_samr_en@example.com",
    ]  # not another department, not another role, and the applicant's own first step is no mail
    (zh,) = mail_on.to("rev_samr@example.com")
    assert zh.subject == f"【CreditFlow】新待办：审核申请（办件 #{instance_id}）"
    assert f"{BASE_URL}/tasks/{task.id}" in zh.text and "分派到您所在的部门" in zh.text
    (en,) = mail_on.to("rev_samr_en@example.com")
    assert en.subject == f"[CreditFlow] New task: 审核申请 (case #{instance_id})"
    assert f"{BASE_URL}/tasks/{task.id}" in en.text and "assigned to your department" in en.text
    assert en.message["From"] == "CreditFlow <no-reply@creditflow.example>"
    assert _deliver(seeded, app) == 0  # sent once


def test_a_returned_application_mails_the_enterprise(
    seeded: Session, app: Flask, mail_on: SmtpServer
) -> None:
    _email(seeded, "ent_chengxi", "en")
    seeded.commit()
    instance_id = _submitted(seeded)
    tasks.complete(
        seeded,
        only_task(seeded, instance_id, "review_application").id,
        {"decision": "return", "opinion": "材料不全"},
        user(seeded, "rev_samr"),
    )
    seeded.commit()
    again = only_task(seeded, instance_id, "submit_application")

    assert _deliver(seeded, app) == 1
    (got,) = mail_on.to("ent_chengxi@example.com")
    assert got.subject == f"[CreditFlow] Application returned for correction: case #{instance_id}"
    assert f"{BASE_URL}/tasks/{again.id}" in got.text


def test_a_decision_mails_the_applicant_once(
    seeded: Session, app: Flask, mail_on: SmtpServer
) -> None:
    _email(seeded, "ent_chengxi")
    _email(seeded, "rev_samr")
    seeded.commit()
    instance_id = _submitted(seeded)
    tasks.complete(
        seeded,
        only_task(seeded, instance_id, "review_application").id,
        {"decision": "reject"},
        user(seeded, "rev_samr"),
    )
    # The process also tells the decision as a notice: still one mail.
    seeded.add(
        OutboxEvent(
            instance_id=instance_id,
            kind="notification",
            name="repair_decided",
            payload={
                "recipient": "applicant",
                "subject_uscc": CHENGXI,
                "outcome_label": "不予修复",
            },
        )
    )
    seeded.flush()
    notifications.mirror_outbox_notices(seeded)
    seeded.commit()

    _deliver(seeded, app)
    (got,) = mail_on.to("ent_chengxi@example.com")
    assert got.subject == f"【CreditFlow】办件 #{instance_id} 已作出决定"
    assert f"{BASE_URL}/enterprise/applications/{instance_id}" in got.text


def test_a_deadline_one_working_day_away_mails_enterprise_and_inspector(
    seeded: Session, app: Flask, mail_on: SmtpServer
) -> None:
    _email(seeded, "ent_chengxi", "en")
    _email(seeded, "insp_samr")
    _email(seeded, "ent_hongqiao")
    seeded.commit()
    instance_id = _submitted(seeded)
    seeded.add(
        OutboxEvent(
            instance_id=instance_id,
            kind="notification",
            name="rongque_supplement_reminder",
            payload={
                "subject_uscc": CHENGXI,
                "material_name": "卫生检测报告",
                "due_on": "2026-12-18",
                "text": "您承诺补齐的容缺材料「卫生检测报告」将于 2026-12-18 到期，请及时上传。",
            },
        )
    )
    seeded.add(
        OutboxEvent(
            instance_id=instance_id,
            kind="notification",
            name="verification_reminder",
            payload={
                "lane": "inspector",
                "department": "samr",
                "due": "2026-12-21T23:59:59+08:00",
            },
        )
    )
    seeded.flush()
    notifications.mirror_outbox_notices(seeded)
    seeded.commit()

    assert _deliver(seeded, app) == 2
    (ent,) = mail_on.to("ent_chengxi@example.com")
    assert (
        ent.subject == f"[CreditFlow] Deadline reminder: case #{instance_id} is due on 2026-12-18"
    )
    assert "卫生检测报告" in ent.text and "2026-12-18" in ent.text
    assert f"{BASE_URL}/enterprise/applications/{instance_id}" in ent.text
    (insp,) = mail_on.to("insp_samr@example.com")
    assert insp.subject == f"【CreditFlow】期限提醒：办件 #{instance_id} 将于 2026-12-21 到期"
    assert (
        "核查将于 2026-12-21 到期" in insp.text
        and f"{BASE_URL}/approver/cases/{instance_id}" in insp.text
    )
    assert mail_on.to("ent_hongqiao@example.com") == []  # another enterprise


def test_a_ready_document_mails_the_enterprise(
    seeded: Session, app: Flask, mail_on: SmtpServer, tmp_path: Path
) -> None:
    _email(seeded, "ent_chengxi")
    seeded.commit()
    instance_id = _submitted(seeded)
    document = documents.issue_document(
        seeded,
        kind="rongque_notice",
        instance_id=instance_id,
        context={
            "matter_name": "食品经营许可",
            "authority": "上海市嘉定区市场监督管理局",
            "materials": [{"name": "卫生检测报告", "days": 20, "due_on": "2026-12-18"}],
            "consequences": "逾期未补齐的，终止办理。",
        },
        storage_dir=tmp_path,
        base_url=BASE_URL,
        key=object(),
        **FAKES,
    )
    seeded.commit()

    assert _deliver(seeded, app) == 1
    (got,) = mail_on.to("ent_chengxi@example.com")
    assert got.subject == f"【CreditFlow】文书已出具：容缺受理通知书（{document.serial}）"
    assert f"{BASE_URL}/enterprise/applications/{instance_id}" in got.text
    note = seeded.scalar(
        select(Notification).where(
            Notification.user_id == user(seeded, "ent_chengxi").id,
            Notification.kind == "document",
        )
    )
    assert note is not None and "容缺受理通知书" in note.title  # in the app as well


def test_a_mail_turned_off_is_not_sent(seeded: Session, app: Flask, mail_on: SmtpServer) -> None:
    off = _email(seeded, "rev_samr")
    off.mail_preferences = {"task_assigned": False}
    _samr_reviewer_en(seeded)
    seeded.commit()
    _submitted(seeded)

    _deliver(seeded, app)
    assert [r.rcpt_tos for r in mail_on.received] == [["rev_samr_en@example.com"]]
    assert notifications.unread_count(seeded, off) == 1  # the in-app notice is still there


def test_a_mail_turned_off_after_queueing_is_discarded(
    seeded: Session, app: Flask, mail_on: SmtpServer
) -> None:
    reviewer = _email(seeded, "rev_samr")
    seeded.commit()
    _submitted(seeded)
    reviewer.mail_preferences = {"task_assigned": False}
    seeded.commit()

    assert _deliver(seeded, app) == 0
    assert mail_on.received == []
    (row,) = seeded.scalars(select(MailDelivery)).all()
    assert row.state == MailState.DISCARDED


def test_without_smtp_nothing_is_queued_and_in_app_notices_stay(
    seeded: Session, app: Flask, smtp_server: SmtpServer
) -> None:
    assert not app.config.get("SMTP_HOST")
    reviewer = _email(seeded, "rev_samr")
    seeded.commit()
    _submitted(seeded)

    assert seeded.scalars(select(MailDelivery)).all() == []
    assert mail.deliver_mail(seeded, app.config) == 0
    assert smtp_server.received == []
    assert notifications.unread_count(seeded, reviewer) == 1


def test_smtp_down_is_retried_with_back_off_then_delivered_once(
    seeded: Session, app: Flask, mail_on: SmtpServer
) -> None:
    _email(seeded, "rev_samr")
    seeded.commit()
    _submitted(seeded)
    mail_on.stop()
    now = utcnow()

    assert _deliver(seeded, app, now=now) == 0
    (row,) = seeded.scalars(select(MailDelivery)).all()
    assert row.state == MailState.PENDING and row.attempts == 1
    assert "Connection" in (row.last_error or "") or "refused" in (row.last_error or "")
    first_wait = row.next_attempt_at - now
    assert timedelta(seconds=60) <= first_wait <= timedelta(seconds=75)

    assert _deliver(seeded, app, now=now + timedelta(seconds=30)) == 0  # not due yet
    assert row.attempts == 1

    later = row.next_attempt_at
    assert _deliver(seeded, app, now=later) == 0  # still down: the wait doubles
    assert row.attempts == 2
    assert timedelta(seconds=120) <= row.next_attempt_at - later <= timedelta(seconds=150)

    mail_on.start()
    assert _deliver(seeded, app, now=row.next_attempt_at) == 1
    assert row.state == MailState.SENT and row.attempts == 3 and row.last_error is None
    assert _deliver(seeded, app, now=row.next_attempt_at + timedelta(days=1)) == 0
    assert len(mail_on.to("rev_samr@example.com")) == 1  # delivered once, no duplicate


def test_a_mail_is_dead_after_the_attempt_limit(
    seeded: Session, app: Flask, mail_on: SmtpServer
) -> None:
    _email(seeded, "rev_samr")
    seeded.commit()
    _submitted(seeded)
    mail_on.stop()
    (row,) = seeded.scalars(select(MailDelivery)).all()
    for _ in range(3):  # MAIL_MAX_ATTEMPTS
        assert row.state == MailState.PENDING
        _deliver(seeded, app, now=row.next_attempt_at)
    assert row.state == MailState.DEAD and row.attempts == 3

    mail_on.start()
    assert _deliver(seeded, app, now=utcnow() + timedelta(days=2)) == 0
    assert mail_on.received == []


def test_a_refused_recipient_is_dead_at_once_and_does_not_block_others(
    seeded: Session, app: Flask, mail_on: SmtpServer
) -> None:
    _email(seeded, "rev_samr")
    _samr_reviewer_en(seeded)
    seeded.commit()
    mail_on.handler.refuse.add("rev_samr@example.com")
    _submitted(seeded)

    assert _deliver(seeded, app) == 1
    states = {r.to_addr: (r.state, r.attempts) for r in seeded.scalars(select(MailDelivery))}
    assert states == {
        "rev_samr@example.com": (MailState.DEAD, 1),
        "rev_samr_en@example.com": (MailState.SENT, 1),
    }
    assert [r.rcpt_tos for r in mail_on.received] == [["rev_samr_en@example.com"]]


@pytest.mark.parametrize(
    "raw",
    ["not-an-email", "a@b", "a b@example.com", "x@example.com\r\nBcc: y@example.com", "@x.cn"],
)
def test_bad_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        mail.clean_email(raw)
    assert "email" in caught.value.fields


def test_good_addresses_are_kept() -> None:
    assert mail.clean_email("  li.ming+credit@example.gov.cn ") == "li.ming+credit@example.gov.cn"
    assert mail.clean_email("") is None
    with pytest.raises(InvalidInputError):
        mail.clean_email("a" * 250 + "@example.com")
