"""In-app notifications: list (unread first), links, mark one or all read."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Notification
from app.models.base import utcnow
from app.services import notifications
from tests.conftest import csrf_token, login
from tests.engine_fixtures import user


def _seed(session: Session) -> tuple[Notification, Notification, Notification]:
    me = user(session, "ent_chengxi")
    old = notifications.notify(
        session, me.id, "decided", "已读的旧通知", link="/enterprise/applications"
    )
    old.read_at = utcnow()
    a = notifications.notify(
        session, me.id, "returned", "申请被退回", "请补正材料", "/enterprise/records"
    )
    b = notifications.notify(session, me.id, "deadline", "期限临近")
    other = user(session, "ent_hongqiao")
    notifications.notify(session, other.id, "decided", "别人的通知")
    session.commit()
    return old, a, b


def test_list_unread_first_with_links(client: FlaskClient, seeded: Session) -> None:
    _seed(seeded)
    login(client, "ent_chengxi")
    page = client.get("/notifications")
    assert page.status_code == 200
    text = page.text
    assert text.index("申请被退回") < text.index("已读的旧通知")
    assert text.index("期限临近") < text.index("已读的旧通知")
    assert 'href="/enterprise/records"' in text
    assert "别人的通知" not in text
    assert "/notifications" in client.get("/").text  # the bell in the top bar


def test_mark_one_and_all_read(client: FlaskClient, seeded: Session) -> None:
    _, a, b = _seed(seeded)
    login(client, "ent_chengxi")
    token = csrf_token(client, "/notifications")
    response = client.post("/notifications/read", data={"csrf_token": token, "id": str(a.id)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/notifications")
    seeded.expire_all()
    assert seeded.get(Notification, a.id).read_at is not None
    assert seeded.get(Notification, b.id).read_at is None
    response = client.post(
        "/notifications/read", data={"csrf_token": token, "next": "//evil.example"}
    )
    assert response.headers["Location"].endswith("/notifications")
    seeded.expire_all()
    me = user(seeded, "ent_chengxi")
    unread = seeded.scalars(
        select(Notification).where(Notification.user_id == me.id, Notification.read_at.is_(None))
    ).all()
    assert unread == []
    other = user(seeded, "ent_hongqiao")
    assert notifications.unread_count(seeded, other) == 1


def test_mark_read_needs_csrf_and_login(client: FlaskClient, seeded: Session) -> None:
    assert client.get("/notifications").status_code == 302
    login(client, "ent_chengxi")
    assert client.post("/notifications/read").status_code == 400
