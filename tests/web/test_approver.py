"""审批端 pages: inbox tabs and filters, claim/unclaim/reassign, the case page, comments, files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.engine import clock
from app.models import Attachment, Comment, HumanTask, ProcessInstance
from app.services import comments
from app.services.errors import InvalidInputError, NotFoundError
from tests.conftest import csrf_token, login
from tests.engine_fixtures import open_tasks, user
from tests.services.test_inbox import CHENGXI, NOW, PNG, TZ, dept_id, seed_cases, upload

Cases = tuple[ProcessInstance, ProcessInstance]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture()
def cases(seeded: Session, app: Flask) -> Cases:
    return seed_cases(seeded, app)


def _samr_task(session: Session, instance: ProcessInstance) -> HumanTask:
    samr = dept_id(session, "samr")
    return next(t for t in open_tasks(session, instance.id) if t.department_id == samr)


def _switch(client: FlaskClient, username: str) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, username)


def _rows(html: str) -> list[str]:
    return re.findall(r'data-task="([^"]+)"', html)


def _count(html: str, tab: str) -> int:
    match = re.search(rf'data-count="{tab}">(\d+)<', html)
    assert match, tab
    return int(match.group(1))


def test_inbox_tabs_counts_and_rows(client: FlaskClient, seeded: Session, cases: Cases) -> None:
    repair, objection = cases
    login(client, "rev_samr")
    page = client.get("/approver/inbox")
    assert page.status_code == 200
    assert "待认领" in page.text and "我的" in page.text and "已办" in page.text
    assert (_count(page.text, "candidate"), _count(page.text, "mine")) == (2, 0)
    assert _rows(page.text) == [_samr_task(seeded, objection).id, _samr_task(seeded, repair).id]
    assert CHENGXI in page.text and "上海澄溪示例食品有限公司" in page.text
    assert f"/approver/cases/{objection.id}" in page.text
    assert 'name="csrf_token"' in page.text and "本部门" not in page.text
    assert "/approver/inbox" in client.get("/").text  # the navigation shows the inbox
    fragment = client.get("/approver/inbox?tab=mine", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert _rows(fragment.text) == []
    assert client.get("/approver/inbox?tab=nope").status_code == 404


def test_inbox_filters_and_highlight(client: FlaskClient, seeded: Session, cases: Cases) -> None:
    repair, objection = cases
    login(client, "rev_samr")
    only = client.get("/approver/inbox?process=objection_handling").text
    assert _rows(only) == [_samr_task(seeded, objection).id]
    assert _count(only, "candidate") == 1
    assert len(_rows(client.get(f"/approver/inbox?q={CHENGXI}").text)) == 2
    assert _rows(client.get("/approver/inbox?q=91310105MAAY4CL126").text) == []
    assert _rows(client.get("/approver/inbox?overdue=1").text) == []
    with clock.frozen_at(datetime(2026, 11, 30, 10, 0, tzinfo=TZ)):
        late = client.get("/approver/inbox?overdue=1").text
        assert _rows(late) == [_samr_task(seeded, objection).id]
        assert "task-row overdue" in late and "已逾期" in late
        both = client.get("/approver/inbox").text
        assert "task-row due_soon" in both and "即将到期" in both


def test_other_department_sees_nothing(client: FlaskClient, seeded: Session, cases: Cases) -> None:
    repair, objection = cases
    login(client, "rev_tax")
    page = client.get("/approver/inbox")
    assert _rows(page.text) == [] and "暂无任务" in page.text
    assert client.get(f"/approver/cases/{objection.id}").status_code == 404
    task = _samr_task(seeded, objection)
    token = csrf_token(client, "/approver/inbox")
    claim = client.post(f"/approver/tasks/{task.id}/claim", data={"csrf_token": token})
    assert claim.status_code == 404


def test_enterprise_is_refused(client: FlaskClient, cases: Cases) -> None:
    login(client, "ent_chengxi")
    assert client.get("/approver/inbox").status_code == 403
    assert client.get(f"/approver/cases/{cases[0].id}").status_code == 403


def test_claim_unclaim_and_conflict_flash(
    client: FlaskClient, seeded: Session, cases: Cases
) -> None:
    task = _samr_task(seeded, cases[1])
    login(client, "rev_samr")
    token = csrf_token(client, "/approver/inbox")
    done = client.post(
        f"/approver/tasks/{task.id}/claim",
        data={"csrf_token": token, "next": "/approver/inbox?tab=mine"},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "已认领" in done.text
    assert _rows(done.text) == [task.id]
    seeded.expire_all()
    assert task.assignee_id == user(seeded, "rev_samr").id
    back = client.post(
        f"/approver/tasks/{task.id}/unclaim", data={"csrf_token": token}, follow_redirects=True
    )
    assert back.status_code == 200 and "已退回" in back.text
    seeded.expire_all()
    assert task.assignee_id is None
    # someone else takes it while this page is open: a flash, not an error page
    other = seeded.get(HumanTask, task.id)
    other.assignee_id = user(seeded, "lead_samr").id  # held by another person
    seeded.commit()
    conflict = client.post(
        f"/approver/tasks/{task.id}/claim", data={"csrf_token": token}, follow_redirects=False
    )
    assert conflict.status_code == 302
    followed = client.get(conflict.headers["Location"])
    assert followed.status_code == 200 and "已被他人认领" in followed.text
    missing_csrf = client.post(f"/approver/tasks/{task.id}/claim")
    assert missing_csrf.status_code == 400


def test_leader_reassigns_within_department(
    client: FlaskClient, seeded: Session, cases: Cases
) -> None:
    task = _samr_task(seeded, cases[1])
    rev = user(seeded, "rev_samr")
    login(client, "lead_samr")
    page = client.get("/approver/inbox?tab=department")
    assert page.status_code == 200 and "本部门" in page.text and "改派" in page.text
    assert len(_rows(page.text)) == 2
    token = csrf_token(client, "/approver/inbox?tab=department")
    response = client.post(
        f"/approver/tasks/{task.id}/reassign",
        data={"csrf_token": token, "user_id": rev.id},
        follow_redirects=True,
    )
    assert response.status_code == 200 and "已改派" in response.text
    seeded.expire_all()
    assert task.assignee_id == rev.id
    refused = client.post(
        f"/approver/tasks/{task.id}/reassign",
        data={"csrf_token": token, "user_id": user(seeded, "rev_ndrc").id},
    )
    assert refused.status_code == 422
    seeded.expire_all()
    assert task.assignee_id == rev.id


def test_non_leader_cannot_reassign(client: FlaskClient, seeded: Session, cases: Cases) -> None:
    task = _samr_task(seeded, cases[1])
    login(client, "rev_samr")
    token = csrf_token(client, "/approver/inbox")
    response = client.post(
        f"/approver/tasks/{task.id}/reassign",
        data={"csrf_token": token, "user_id": user(seeded, "rev_samr").id},
    )
    assert response.status_code == 403
    assert client.get("/approver/inbox?tab=department").status_code == 404
    seeded.expire_all()
    assert task.assignee_id is None


def test_case_page(client: FlaskClient, seeded: Session, app: Flask, cases: Cases) -> None:
    repair, _ = cases
    picture = upload(seeded, app, repair, PNG)
    seeded.commit()
    login(client, "rev_samr")
    page = client.get(f"/approver/cases/{repair.id}")
    assert page.status_code == 200
    text = page.text
    assert "信用修复" in text and CHENGXI in text and "上海澄溪示例食品有限公司" in text
    assert "分类依据" in text and "公示中" in text  # route reason and record statuses
    pdf = seeded.scalars(select(Attachment).where(Attachment.instance_id == repair.id)).first()
    assert f'<object data="/files/attachments/{pdf.id}" type="application/pdf"' in text
    assert f'<img src="/files/attachments/{picture}"' in text
    assert "发起申请" in text and "办理任务" in text and "ent_chengxi" in text  # history
    assert "审核" in text and "待认领" in text  # open tasks
    assert "record_ids" in text  # the application data
    assert 'name="visible_to_applicant"' in text
    _switch(client, "rev_ndrc")  # ndrc reviews one of the records: it may open the case too
    assert client.get(f"/approver/cases/{repair.id}").status_code == 200
    assert client.get("/approver/cases/999999").status_code == 404


def test_comments(client: FlaskClient, seeded: Session, cases: Cases) -> None:
    repair, _ = cases
    login(client, "rev_samr")
    path = f"/approver/cases/{repair.id}"
    token = csrf_token(client, path)
    empty = client.post(f"{path}/comments", data={"csrf_token": token, "body": "   "})
    assert empty.status_code == 422
    assert 'aria-invalid="true"' in empty.text and "请填写意见内容" in empty.text
    internal = client.post(
        f"{path}/comments", data={"csrf_token": token, "body": "内部意见：待核实"}
    )
    assert internal.status_code == 302
    shown = client.post(
        f"{path}/comments",
        data={"csrf_token": token, "body": "请补充缴款凭证", "visible_to_applicant": "1"},
        follow_redirects=True,
    )
    assert shown.status_code == 200 and "内部意见：待核实" in shown.text
    assert "请补充缴款凭证" in shown.text and "申请人可见" in shown.text
    assert client.post(f"{path}/comments", data={"body": "x"}).status_code == 400  # no CSRF
    rows = seeded.scalars(select(Comment).where(Comment.instance_id == repair.id)).all()
    assert [(c.body, c.visible_to_applicant) for c in rows] == [
        ("内部意见：待核实", False),
        ("请补充缴款凭证", True),
    ]
    approver_view = comments.list_comments(seeded, repair, user(seeded, "rev_ndrc"))
    assert len(approver_view) == 2
    applicant_view = comments.list_comments(seeded, repair, user(seeded, "ent_chengxi"))
    assert [c.body for c in applicant_view] == ["请补充缴款凭证"]
    with pytest.raises(NotFoundError):
        comments.list_comments(seeded, repair, user(seeded, "ent_hongqiao"))
    with pytest.raises(NotFoundError):
        comments.add_comment(seeded, repair, user(seeded, "rev_tax"), "看看")
    with pytest.raises(InvalidInputError):
        comments.add_comment(seeded, repair, user(seeded, "rev_samr"), "长" * 2001)
    own = comments.add_comment(seeded, repair, user(seeded, "ent_chengxi"), "已补充", False)
    assert own.visible_to_applicant is True  # the applicant's own remarks are visible to it


def _fetch(client: FlaskClient, path: str) -> TestResponse:
    """GET and close the response (send_file keeps the stored file open until then)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def test_files_route(client: FlaskClient, seeded: Session, app: Flask, cases: Cases) -> None:
    repair, _ = cases
    png = upload(seeded, app, repair, PNG)
    seeded.commit()
    pdf = seeded.scalars(select(Attachment).where(Attachment.instance_id == repair.id)).first()
    login(client, "rev_samr")
    got = _fetch(client, f"/files/attachments/{pdf.id}")
    assert got.status_code == 200 and got.data.startswith(b"%PDF-")
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("inline")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert _fetch(client, f"/files/attachments/{png}").headers["Content-Type"] == "image/png"
    assert _fetch(client, "/files/attachments/999999").status_code == 404
    _switch(client, "rev_tax")
    assert _fetch(client, f"/files/attachments/{pdf.id}").status_code == 404
    _switch(client, "ent_hongqiao")
    assert _fetch(client, f"/files/attachments/{pdf.id}").status_code == 404
    _switch(client, "ent_chengxi")
    assert _fetch(client, f"/files/attachments/{pdf.id}").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert _fetch(client, f"/files/attachments/{pdf.id}").status_code in (302, 401)
