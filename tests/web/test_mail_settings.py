"""The mail settings page: address and choices per user, validated, audited, and obeyed."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent
from app.services import instances, mail, tasks
from tests.conftest import csrf_token, login
from tests.engine_fixtures import deploy_test_bundle, only_task, user
from tests.mail_server import BASE_URL, SmtpServer, mail_on_fixture, smtp_server_fixture  # noqa: F401

PAGE = "/notifications/settings"


def _checked(html: str) -> set[str]:
    return set(re.findall(r'name="events" value="([a-z_]+)" checked', html))


def _offered(html: str) -> set[str]:
    return set(re.findall(r'name="events" value="([a-z_]+)"', html))


def test_linked_from_notifications_and_shows_the_role_s_mails(
    client: FlaskClient, seeded: Session
) -> None:
    login(client, "ent_chengxi")
    assert f'href="{PAGE}"' in client.get("/notifications").text
    page = client.get(PAGE)
    assert page.status_code == 200
    assert _offered(page.text) == {"returned", "deadline", "decided", "document_ready"}
    assert _checked(page.text) == _offered(page.text)  # all on by default
    assert "尚未配置邮件服务器" in page.text  # tests run without SMTP
    client.post("/logout", data={"csrf_token": csrf_token(client, "/notifications")})

    login(client, "rev_samr")
    assert _offered(client.get(PAGE).text) == {"task_assigned", "deadline"}


def test_saving_the_address_and_choices_is_audited(client: FlaskClient, seeded: Session) -> None:
    login(client, "ent_chengxi")
    response = client.post(
        PAGE,
        data={
            "csrf_token": csrf_token(client, PAGE),
            "email": " li.ming@example.com ",
            "events": ["returned", "document_ready"],
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)
    seeded.expire_all()
    me = user(seeded, "ent_chengxi")
    assert me.email == "li.ming@example.com"
    assert me.mail_preferences == {
        "returned": True,
        "deadline": False,
        "decided": False,
        "document_ready": True,
    }
    page = client.get(PAGE).text
    assert 'value="li.ming@example.com"' in page and "邮件通知设置已保存" in page
    assert _checked(page) == {"returned", "document_ready"}
    event = seeded.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "user.mail_preferences")
        .order_by(AuditEvent.seq.desc())
    )
    assert event is not None and event.actor_name == "ent_chengxi"
    assert (
        event.details["email_changed"] is True
        and event.details["mail_preferences"]["decided"] is False
    )


def test_a_bad_address_is_422_with_its_message_and_nothing_saved(
    client: FlaskClient, seeded: Session
) -> None:
    login(client, "ent_chengxi")
    response = client.post(
        PAGE,
        data={"csrf_token": csrf_token(client, PAGE), "email": "li.ming@", "events": ["decided"]},
    )
    assert response.status_code == 422
    assert 'id="email-error"' in response.text and "请输入有效的电子邮箱地址" in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="li.ming@"' in response.text  # the input is kept for correction
    seeded.expire_all()
    me = user(seeded, "ent_chengxi")
    assert me.email is None and me.mail_preferences == {}

    tampered = client.post(
        PAGE,
        data={"csrf_token": csrf_token(client, PAGE), "email": "", "events": ["<script>"]},
    )
    assert tampered.status_code == 422 and "请选择列表中的邮件类型" in tampered.text


def test_csrf_and_sign_in_are_required(client: FlaskClient, seeded: Session) -> None:
    assert client.get(PAGE).status_code == 302  # to the login page
    login(client, "ent_chengxi")
    assert client.post(PAGE, data={"email": "a@example.com"}).status_code == 400
    seeded.expire_all()
    assert user(seeded, "ent_chengxi").email is None


def test_choices_from_the_page_decide_which_mails_arrive(
    client: FlaskClient, seeded: Session, app: Flask, mail_on: SmtpServer
) -> None:
    login(client, "ent_chengxi")
    client.post(
        PAGE,
        data={
            "csrf_token": csrf_token(client, PAGE),
            "email": "li.ming@example.com",
            "events": ["returned"],  # decisions turned off
        },
    )
    deploy_test_bundle(seeded, "review_case")
    ent, reviewer = user(seeded, "ent_chengxi"), user(seeded, "rev_samr")
    instance = instances.start_instance(seeded, "review_case", {}, ent)
    for decision in ("return", "reject"):
        tasks.complete(
            seeded,
            only_task(seeded, instance.id, "submit_application").id,
            {"claim": "申请修复"},
            ent,
        )
        tasks.complete(
            seeded,
            only_task(seeded, instance.id, "review_application").id,
            {"decision": decision},
            reviewer,
        )
    seeded.commit()

    assert mail.deliver_mail(seeded, app.config) == 1
    (got,) = mail_on.received
    assert got.rcpt_tos == ["li.ming@example.com"]
    assert got.subject == f"【CreditFlow】申请被退回补正：办件 #{instance.id}"
    assert BASE_URL + "/tasks/" in got.text
