"""Enterprise self-registration with the unified social credit code."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Subject, User
from tests.conftest import csrf_token


def _register(client: FlaskClient, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "uscc": "91310105MAW0RB7FXU",
        "name": "上海长宁示例咨询有限公司",
        "username": "ent_changning",
        "password": "Changning2026",
        "password_confirm": "Changning2026",
    }
    data.update(fields)
    data["csrf_token"] = csrf_token(client, "/register")
    return client.post("/register", data=data)


def test_registration_creates_account_and_subject(client: FlaskClient, session: Session) -> None:
    response = _register(client, uscc=" ９１３１０１０５maw0rb7fxu ")  # full-width, lowercase
    assert response.status_code == 302
    subject = session.scalar(select(Subject).where(Subject.uscc == "91310105MAW0RB7FXU"))
    assert subject is not None and subject.name == "上海长宁示例咨询有限公司"
    user = session.scalar(select(User).where(User.username == "ent_changning"))
    assert user is not None and user.subject_id == subject.id
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/records").status_code == 200


def test_invalid_uscc_is_explained_and_input_kept(client: FlaskClient, session: Session) -> None:
    response = _register(client, uscc="91350100M000100Y44")
    assert response.status_code == 422
    assert "校验" in response.text
    assert 'value="上海长宁示例咨询有限公司"' in response.text  # input kept
    assert session.scalar(select(User).where(User.username == "ent_changning")) is None


def test_weak_password_and_mismatch_are_refused(client: FlaskClient, session: Session) -> None:
    response = _register(client, password="short", password_confirm="short")
    assert response.status_code == 422
    assert "至少需要 8 个字符" in response.text
    response = _register(client, password_confirm="Different2026")
    assert response.status_code == 422
    assert "两次输入的密码不一致" in response.text


def test_second_account_for_a_subject_is_refused(client: FlaskClient, seeded: Session) -> None:
    response = _register(client, uscc="91310114MA1GT8QX92", name="上海澄溪示例食品有限公司")
    assert response.status_code == 422
    assert "已开通企业账号" in response.text
