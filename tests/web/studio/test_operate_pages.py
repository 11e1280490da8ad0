"""Studio operating pages: instances, the instance page, operator actions and migration."""

from __future__ import annotations

import html
import json
import re
import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import AuditEvent, Incident, ProcessInstance
from app.services import handlers, host, instances, tasks
from app.services.uow import transaction
from tests.conftest import csrf_token, login
from tests.engine_fixtures import deploy_test_bundle, only_task, user
from tests.live_db import live_postgres

KEY = "review_case"
LIST = f"/studio/processes/{KEY}/instances"


@pytest.fixture()
def review(seeded: Session) -> Session:
    deploy_test_bundle(seeded, KEY)
    return seeded


def _start(session: Session, who: str = "ent_chengxi") -> int:
    instance = instances.start_instance(session, KEY, {}, user(session, who))
    session.commit()
    return instance.id


def _submit(session: Session, instance_id: int) -> None:
    task = only_task(session, instance_id, "submit_application")
    tasks.complete(session, task.id, {"claim": "请求修复"}, user(session, "ent_chengxi"))
    session.commit()


def _signed_in(client: FlaskClient, username: str) -> str:
    """Sign in and return a CSRF token of the session (from a page the user may open)."""
    login(client, username)
    page = LIST if username in ("owner", "admin") else "/notifications"
    return csrf_token(client, page)


def _post(client: FlaskClient, url: str, token: str, **form: object) -> TestResponse:
    return client.post(url, data={"csrf_token": token, **form})


def _status(session: Session, instance_id: int) -> str:
    session.expire_all()
    return session.get(ProcessInstance, instance_id).status


def _data_list(page: str, name: str) -> list[str]:
    match = re.search(rf'data-{name}="([^"]*)"', page)
    assert match, name
    return json.loads(html.unescape(match.group(1)))  # type: ignore[no-any-return]


def _routes(instance_id: int) -> list[tuple[str, str, dict[str, str]]]:
    base = f"/studio/instances/{instance_id}"
    return [
        ("GET", LIST, {}),
        ("GET", base, {}),
        ("POST", f"{base}/suspend", {}),
        ("POST", f"{base}/resume", {}),
        ("POST", f"{base}/terminate", {"reason": "测试"}),
        ("POST", f"{base}/retry", {}),
        ("GET", f"/studio/processes/{KEY}/migrate", {}),
        ("POST", f"/studio/processes/{KEY}/migrate/run", {"ids": str(instance_id), "target": "1"}),
    ]


def test_anonymous_users_are_sent_to_login(client: FlaskClient, review: Session) -> None:
    instance_id = _start(review)
    token = csrf_token(client)
    for method, url, form in _routes(instance_id):
        response = client.open(url, method=method, data={"csrf_token": token, **form})
        assert response.status_code == 302, (method, url)
        assert "/login" in response.headers["Location"]
    assert _status(review, instance_id) == "running"


@pytest.mark.parametrize("username", ["ent_chengxi", "rev_samr", "lead_samr"])
def test_enterprises_and_approvers_are_refused(
    client: FlaskClient, review: Session, username: str
) -> None:
    instance_id = _start(review)
    token = _signed_in(client, username)
    for method, url, form in _routes(instance_id):
        response = client.open(url, method=method, data={"csrf_token": token, **form})
        assert response.status_code == 403, (method, url)
    assert _status(review, instance_id) == "running"
    assert review.scalar(select(AuditEvent).where(AuditEvent.action.like("studio.%"))) is None


@pytest.mark.parametrize("username", ["owner", "admin"])
def test_owners_and_admins_reach_every_page(
    client: FlaskClient, review: Session, username: str
) -> None:
    instance_id = _start(review)
    token = _signed_in(client, username)
    for url in (LIST, f"/studio/instances/{instance_id}", f"/studio/processes/{KEY}/migrate"):
        assert client.get(url).status_code == 200, url
    base = f"/studio/instances/{instance_id}"
    assert _post(client, f"{base}/suspend", token).status_code == 303
    assert _post(client, f"{base}/resume", token).status_code == 303
    assert _post(client, f"{base}/retry", token).status_code == 409  # no incident
    assert _post(client, f"{base}/terminate", token, reason="重复申请").status_code == 303
    assert _status(review, instance_id) == "terminated"
    run = _post(client, f"/studio/processes/{KEY}/migrate/run", token, ids=instance_id, target=1)
    assert run.status_code == 200 and "已迁移 0 个，未迁移 1 个" in run.text
    actions = review.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_name == username).order_by(AuditEvent.seq)
    ).all()
    assert [a for a in actions if not a.startswith("auth.")] == [
        "instance.suspended",
        "instance.resumed",
        "instance.terminated",
        "studio.instances_migrated",
    ]


def test_unknown_ids_and_processes_are_404(client: FlaskClient, review: Session) -> None:
    token = _signed_in(client, "owner")
    assert client.get("/studio/instances/999999").status_code == 404
    assert client.get(f"/studio/instances/{10**12}").status_code == 404
    assert _post(client, "/studio/instances/999999/suspend", token).status_code == 404
    assert _post(client, "/studio/instances/999999/terminate", token, reason="x").status_code == 404
    assert _post(client, "/studio/instances/999999/terminate", token).status_code == 404
    assert client.get("/studio/processes/nope/instances").status_code == 404
    assert client.get("/studio/processes/nope/instances?version=x").status_code == 404
    assert client.get("/studio/processes/nope/migrate").status_code == 404
    assert _post(client, "/studio/processes/nope/migrate/run", token, ids=1).status_code == 404


def test_instances_page_lists_counts_and_filters(client: FlaskClient, review: Session) -> None:
    first = _start(review, "ent_chengxi")
    second = _start(review, "ent_hongqiao")
    _submit(review, first)
    _signed_in(client, "owner")

    page = client.get(LIST)
    assert page.status_code == 200
    assert re.findall(r'<tr data-instance="(\d+)"', page.text) == [str(second), str(first)]
    assert re.search(
        r'data-status="running">\s*<span[^>]*>运行中</span> <strong class="cf-count">2<', page.text
    )
    assert f'href="/studio/instances/{first}"' in page.text
    assert "审核申请" in page.text and "上海虹桥示例商贸有限公司" in page.text

    filtered = client.get(LIST, query_string={"subject": "澄溪", "status": "running"})
    assert re.findall(r'<tr data-instance="(\d+)"', filtered.text) == [str(first)]
    assert 'value="澄溪"' in filtered.text
    none = client.get(LIST, query_string={"status": "completed"})
    assert "没有符合条件的实例" in none.text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"started_from": "2026-02-30"}, "started_from", "日期格式应为"),
        ({"started_to": "9999-12-31"}, "started_to", "日期超出范围"),
        ({"version": "abc"}, "version", "版本号必须是正整数"),
        ({"status": "paused"}, "status", "状态只能是"),
        ({"page": "x"}, "page", "页码必须是正整数"),
    ],
)
def test_bad_filters_answer_422_with_the_field(
    client: FlaskClient, review: Session, query: dict[str, str], field: str, message: str
) -> None:
    _start(review)
    _signed_in(client, "owner")
    response = client.get(LIST, query_string=query)
    assert response.status_code == 422
    assert f'id="err-{field}"' in response.text and message in response.text
    assert "<tr data-instance" not in response.text  # no rows for a filter that means nothing


def test_instance_page_shows_diagram_path_tasks_data_audit(
    client: FlaskClient, review: Session
) -> None:
    instance_id = _start(review)
    _submit(review, instance_id)
    _signed_in(client, "owner")
    page = client.get(f"/studio/instances/{instance_id}")
    assert page.status_code == 200
    text = page.text
    assert {"start", "submit_application", "prepare_review"} <= set(_data_list(text, "completed"))
    assert "review_application" in _data_list(text, "active")
    assert _data_list(text, "errored") == []
    assert 'src="/static/dist/viewer.js"' in text and 'id="cf-diagram-xml"' in text
    xml = json.loads(re.search(r'id="cf-diagram-xml">(.*?)</script>', text, re.S).group(1))
    assert 'id="review_application"' in xml
    path = re.findall(r'<li data-element="([^"]+)"', text)
    assert path[:3] == ["start", "submit_application", "prepare_review"]
    assert 'class="cf-task-completed"' in text and 'class="cf-task-ready"' in text
    assert "<code>claim</code>" in text and "请求修复" in text  # data, read-only
    assert 'data-action="instance.started"' in text and 'data-action="task.completed"' in text
    assert "挂起" in text and "终止实例" in text and "<textarea" in text
    assert 'name="csrf_token"' in text


def test_suspend_twice_is_a_conflict_not_an_error(client: FlaskClient, review: Session) -> None:
    instance_id = _start(review)
    token = _signed_in(client, "owner")
    base = f"/studio/instances/{instance_id}"
    first = _post(client, f"{base}/suspend", token)
    assert first.status_code == 303 and first.headers["Location"] == base
    assert "实例已挂起" in client.get(base).text
    second = _post(client, f"{base}/suspend", token)
    assert second.status_code == 409
    assert "只有运行中的实例可以挂起" in second.text and 'id="cf-problem"' in second.text
    assert _status(review, instance_id) == "suspended"
    assert _post(client, f"{base}/resume", token).status_code == 303
    assert _post(client, f"{base}/resume", token).status_code == 409
    assert _status(review, instance_id) == "running"


def test_terminate_needs_a_reason(client: FlaskClient, review: Session) -> None:
    instance_id = _start(review)
    token = _signed_in(client, "admin")
    base = f"/studio/instances/{instance_id}"
    for reason in ("", "   ", "长" * 501):
        missing = _post(client, f"{base}/terminate", token, reason=reason)
        assert missing.status_code == 422
        assert 'id="err-reason"' in missing.text
    assert _status(review, instance_id) == "running"
    done = _post(client, f"{base}/terminate", token, reason="企业撤回申请")
    assert done.status_code == 303
    assert _status(review, instance_id) == "terminated"
    entry = review.scalar(select(AuditEvent).where(AuditEvent.action == "instance.terminated"))
    assert entry.details == {"reason": "企业撤回申请"} and entry.actor_name == "admin"
    again = _post(client, f"{base}/terminate", token, reason="再次终止")
    assert again.status_code == 409 and "实例已结束" in again.text
    page = client.get(base).text
    assert "终止实例" not in page and "实例已结束，不能再操作" in page


def test_incident_is_shown_and_retry_reports_then_resolves(
    client: FlaskClient, review: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = {"down": True}

    def flaky(ctx: handlers.HandlerContext, params: dict[str, object]) -> object:
        if outage["down"]:
            raise ConnectionError("平台接口暂时不可用")
        return params

    monkeypatch.setitem(handlers.HANDLERS, "test.flaky_notify", flaky)
    deploy_test_bundle(
        review, KEY, **{"review_case.bpmn": 'id="system.echo"=>id="test.flaky_notify"'}
    )
    instance_id = _start(review)
    _submit(review, instance_id)
    review_task = only_task(review, instance_id, "review_application")
    with pytest.raises(host.ProcessIncidentError):
        tasks.complete(review, review_task.id, {"decision": "approve"}, user(review, "rev_samr"))
    review.commit()

    token = _signed_in(client, "owner")
    base = f"/studio/instances/{instance_id}"
    page = client.get(base).text
    assert _data_list(page, "errored") == ["notify_platform"]
    assert "平台接口暂时不可用" in page and "通知平台" in page
    assert f'action="{base}/retry"' in page and "重试" in page

    still_down = _post(client, f"{base}/retry", token)  # the cause is not fixed yet
    assert still_down.status_code == 409
    problem = re.search(r'id="cf-problem">([^<]*)<', still_down.text).group(1)
    assert problem.startswith("重试未成功：") and "平台接口暂时不可用" in problem
    assert _status(review, instance_id) == "error"
    open_incidents = review.scalars(
        select(Incident).where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
    ).all()
    assert len(open_incidents) == 1  # the failed retry's incident replaces the old one
    assert open_incidents[0].message.count("平台接口暂时不可用") == 1

    outage["down"] = False
    fixed = _post(client, f"{base}/retry", token)
    assert fixed.status_code == 303
    assert _status(review, instance_id) == "running"
    page = client.get(base).text
    assert "notify_platform" in _data_list(page, "completed")
    assert "wait_confirmation" in _data_list(page, "active")
    assert 'data-action="instance.retried"' in page


def test_migrate_dry_run_then_confirm(client: FlaskClient, review: Session) -> None:
    early = _start(review)
    submitted = _start(review)
    _submit(review, submitted)
    deploy_test_bundle(review, KEY, **{"review_case.bpmn": 'name="提交申请"=>name="提交修复申请"'})
    token = _signed_in(client, "owner")

    listing = client.get(LIST).text
    assert (
        f'name="ids" value="{early}"' in listing
        and 'action="/studio/processes/review_case/migrate"' in listing
    )
    chooser = client.get(f"/studio/processes/{KEY}/migrate")
    assert chooser.status_code == 200
    assert f'value="{early}"' in chooser.text and f'value="{submitted}"' in chooser.text

    dry = client.get(
        f"/studio/processes/{KEY}/migrate",
        query_string={"ids": [str(early), str(submitted)], "target": "2"},
    )
    assert dry.status_code == 200
    assert re.search(rf'data-instance="{early}" class="cf-allowed"', dry.text)
    assert re.search(rf'data-instance="{submitted}" class="cf-refused"', dry.text)
    assert "已完成的环节 submit_application 在新版本中被修改" in dry.text
    assert f'name="ids" value="{early}" checked' in dry.text
    assert f'name="ids" value="{submitted}"' not in dry.text  # refused ones are not offered
    assert review.get(ProcessInstance, early).version.version == 1  # a dry run moves nothing

    result = _post(
        client, f"/studio/processes/{KEY}/migrate/run", token, ids=[early, submitted], target=2
    )
    assert result.status_code == 200
    assert "已迁移 1 个，未迁移 1 个" in result.text
    migrated = re.search(r'id="cf-migrated".*?</section>', result.text, re.S).group(0)
    refused = re.search(r'id="cf-refused".*?</section>', result.text, re.S).group(0)
    assert f'data-instance="{early}"' in migrated and f'data-instance="{submitted}"' in refused
    assert "submit_application" in refused
    review.expire_all()
    assert review.get(ProcessInstance, early).version.version == 2
    assert review.get(ProcessInstance, submitted).version.version == 1
    page = client.get(f"/studio/instances/{early}").text
    assert 'data-action="instance.migrated"' in page


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"ids": "1", "target": "9"}, "target"),
        ({"ids": "1", "target": "v1"}, "target"),
        ({"ids": "x", "target": "1"}, "ids"),
        ({"target": "1"}, "ids"),
    ],
)
def test_bad_migration_input_is_422(
    client: FlaskClient, review: Session, query: dict[str, str], field: str
) -> None:
    _start(review)
    token = _signed_in(client, "owner")
    dry = client.get(f"/studio/processes/{KEY}/migrate", query_string=query)
    assert dry.status_code == 422 and f'id="err-{field}"' in dry.text
    run = _post(client, f"/studio/processes/{KEY}/migrate/run", token, **query)
    assert run.status_code == 422 and f'id="err-{field}"' in run.text
    assert review.scalar(select(AuditEvent).where(AuditEvent.action.like("studio.%"))) is None


def test_actions_need_the_csrf_token(client: FlaskClient, review: Session) -> None:
    instance_id = _start(review)
    _signed_in(client, "owner")
    response = client.post(f"/studio/instances/{instance_id}/suspend")
    assert response.status_code == 400
    assert _status(review, instance_id) == "running"


@pytest.mark.postgres
def test_two_suspend_clicks_at_once_one_wins_one_conflicts(app: Flask, backend: str) -> None:
    """On PostgreSQL with real commits: the row lock serializes them; never a 500."""
    if not backend.startswith("postgresql"):
        pytest.skip("runs with the PostgreSQL backend")
    with live_postgres(app):
        with transaction() as session:
            deploy_test_bundle(session, KEY)
            instance_id = instances.start_instance(
                session, KEY, {}, user(session, "ent_chengxi")
            ).id
        barrier = threading.Barrier(2)
        statuses: list[int] = [0, 0]

        def click(i: int, who: str) -> None:
            # Own thread, so each request pushes its own app context (the outer one would share
            # flask-login's cached user between the two clients).
            try:
                client = app.test_client()
                token = _signed_in(client, who)
                barrier.wait(timeout=30)
                url = f"/studio/instances/{instance_id}/suspend"
                statuses[i] = _post(client, url, token).status_code
            finally:
                db.session.remove()

        users = ("owner", "admin")
        threads = [threading.Thread(target=click, args=(i, who)) for i, who in enumerate(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(statuses) == [303, 409], statuses
        with transaction() as session:
            assert session.get(ProcessInstance, instance_id).status == "suspended"
            suspended = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "instance.suspended")
            ).all()
            assert len(suspended) == 1
