"""Test-run pages of the studio: start, step through tasks, timers, messages, delete."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import AuditEvent, DraftTestRun, HumanTask, OutboxEvent, ProcessInstance
from app.models.studio import ProcessDraft
from tests.conftest import csrf_token, login
from tests.engine_fixtures import user
from tests.services.studio.test_testrun import (
    CREDIT_REPAIR_RESULTS,
    START,
    bundle_files,
    make_draft,
    review_case_draft,
)


@pytest.fixture()
def owner_client(client: FlaskClient, seeded: Session) -> FlaskClient:
    login(client, "owner")
    return client


def _token(client: FlaskClient, path: str) -> str:
    return csrf_token(client, path)


def _start(
    client: FlaskClient, draft_id: int, sample: object = None, results: object = None
) -> str:
    """Start a run through the form; returns the run page's URL."""
    token = _token(client, f"/studio/drafts/{draft_id}/testruns")
    response = client.post(
        f"/studio/drafts/{draft_id}/testruns",
        data={
            "csrf_token": token,
            "sample_data": json.dumps(sample or {}),
            "service_results": json.dumps(results or {}),
        },
    )
    assert response.status_code == 303, response.text
    return response.headers["Location"]


def _run(session: Session, url: str) -> DraftTestRun:
    run_id = int(url.rstrip("/").rsplit("/", 1)[1])
    session.expire_all()
    run = session.get(DraftTestRun, run_id)
    assert run is not None
    return run


def _ready_task_ids(page: str) -> list[str]:
    return re.findall(r'id="task-([0-9a-f-]{36})"', page)


def test_start_page_prefills_handlers_and_lists_runs(
    owner_client: FlaskClient, seeded: Session
) -> None:
    draft = make_draft(seeded, "credit_repair", user(seeded, "owner"))
    seeded.commit()

    page = owner_client.get(f"/studio/drafts/{draft.id}/testruns")

    assert page.status_code == 200
    text = unescape(page.text)
    assert "开始新的测试运行" in text
    assert '"repair.check_eligibility": {}' in text  # the skeleton of sample results
    assert "暂无测试运行" in text


def test_walk_a_run_in_the_browser_pages(owner_client: FlaskClient, seeded: Session) -> None:
    draft = review_case_draft(seeded, user(seeded, "owner"))
    seeded.commit()
    counts = {
        m.__name__: seeded.scalar(select(func.count()).select_from(m))
        for m in (ProcessInstance, HumanTask, OutboxEvent)
    }
    url = _start(owner_client, draft.id, {}, {"system.echo": {"sent": True}})

    page = owner_client.get(url)
    assert page.status_code == 200
    text = unescape(page.text)
    assert "提交申请" in text and "企业（enterprise）" in text
    assert "dist/viewer.js" in page.text and "CreditFlowViewer.render" in page.text
    assert 'data-active="[&#34;submit_application&#34;]"' in page.text
    assert 'name="claim"' in page.text  # the form rendered from submit_form.json
    [task_id] = _ready_task_ids(page.text)

    token = _token(owner_client, url)
    done = owner_client.post(
        f"{url}/tasks/{task_id}", data={"csrf_token": token, "claim": "申请信用修复"}
    )
    assert done.status_code == 303
    page = owner_client.get(url)
    text = unescape(page.text)
    assert "审核申请" in text and "审核（reviewer）" in text
    [review_id] = _ready_task_ids(page.text)
    owner_client.post(f"{url}/tasks/{review_id}", data={"csrf_token": token, "decision": "approve"})

    page = owner_client.get(url)
    text = unescape(page.text)
    assert "dept_confirmation" in text  # waiting for the message
    assert "system.echo" in text and "调用服务（模拟）" in text
    sent = owner_client.post(
        f"{url}/messages",
        data={"csrf_token": token, "name": "dept_confirmation", "payload": '{"case_id": 0}'},
    )
    assert sent.status_code == 303
    page = owner_client.get(url)
    assert "已结束" in page.text
    assert 'id="testrun-data"' in page.text and "&#34;case_id&#34;: 0" in page.text
    run = _run(seeded, url)
    assert run.status == "completed"
    assert counts == {
        m.__name__: seeded.scalar(select(func.count()).select_from(m))
        for m in (ProcessInstance, HumanTask, OutboxEvent)
    }
    actions = set(
        seeded.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_type == "draft_test_run", AuditEvent.object_id == str(run.id)
            )
        )
    )
    assert actions == {
        "studio.testrun.started",
        "studio.testrun.completed_task",
        "studio.testrun.sent_message",
    }


def test_invalid_form_is_422_with_messages_and_input_kept(
    owner_client: FlaskClient, seeded: Session
) -> None:
    draft = review_case_draft(seeded, user(seeded, "owner"))
    seeded.commit()
    url = _start(owner_client, draft.id)
    [task_id] = _ready_task_ids(owner_client.get(url).text)
    steps = list(_run(seeded, url).steps)
    token = _token(owner_client, url)

    response = owner_client.post(f"{url}/tasks/{task_id}", data={"csrf_token": token, "claim": "x"})

    assert response.status_code == 422
    assert "表单内容未通过校验" in response.text
    assert "内容太短" in response.text
    assert ">x</textarea>" in response.text
    assert _run(seeded, url).steps == steps


def test_double_submit_is_409_and_unknown_ids_404(
    owner_client: FlaskClient, seeded: Session
) -> None:
    draft = review_case_draft(seeded, user(seeded, "owner"))
    seeded.commit()
    url = _start(owner_client, draft.id)
    [task_id] = _ready_task_ids(owner_client.get(url).text)
    token = _token(owner_client, url)
    form = {"csrf_token": token, "claim": "申请信用修复"}

    assert owner_client.post(f"{url}/tasks/{task_id}", data=form).status_code == 303
    again = owner_client.post(f"{url}/tasks/{task_id}", data=form)

    assert again.status_code == 409
    assert "重复提交" in again.text
    assert owner_client.post(f"{url}/tasks/not-a-task", data=form).status_code == 404
    assert owner_client.get("/studio/testruns/999999").status_code == 404
    assert owner_client.post("/studio/testruns/999999/timers", data=form).status_code == 404
    assert owner_client.post("/studio/testruns/999999/delete", data=form).status_code == 404


def test_timer_and_message_errors(owner_client: FlaskClient, seeded: Session) -> None:
    draft = review_case_draft(seeded, user(seeded, "owner"))
    seeded.commit()
    url = _start(owner_client, draft.id)
    token = _token(owner_client, url)

    no_timer = owner_client.post(f"{url}/timers", data={"csrf_token": token})
    assert no_timer.status_code == 409 and "没有等待中的定时器" in no_timer.text
    bad_json = owner_client.post(
        f"{url}/messages", data={"csrf_token": token, "name": "x", "payload": "{oops"}
    )
    assert bad_json.status_code == 422
    assert "不是有效的 JSON" in bad_json.text and "{oops" in bad_json.text
    not_waiting = owner_client.post(
        f"{url}/messages", data={"csrf_token": token, "name": "dept_confirmation", "payload": "{}"}
    )
    assert not_waiting.status_code == 422
    assert "不在等待消息 dept_confirmation" in unescape(not_waiting.text)


def test_fire_timer_advances_the_runs_clock(owner_client: FlaskClient, seeded: Session) -> None:
    owner = user(seeded, "owner")
    draft = make_draft(seeded, "credit_repair", owner)
    seeded.commit()
    with clock.frozen_at(START):
        url = _start(owner_client, draft.id, {"record_ids": [11]}, CREDIT_REPAIR_RESULTS)
    [task_id] = _ready_task_ids(owner_client.get(url).text)
    token = _token(owner_client, url)
    owner_client.post(
        f"{url}/tasks/{task_id}",
        data={
            "csrf_token": token,
            "proofs.0.record_id": "11",
            "proofs.0.discharged": "on",
            "proofs.0.proof": "att-1",
            "agree": "on",
            "signer_name": "张三",
        },
    )
    page = owner_client.get(url)
    assert "2026-11-23 23:59:59" in page.text  # the next timer's due time
    assert "一口受理" in page.text

    fired = owner_client.post(f"{url}/timers", data={"csrf_token": token})

    assert fired.status_code == 303
    page = owner_client.get(url)
    assert re.search(r'id="testrun-clock">2026-11-23 23:59:59<', page.text)
    assert "定时器触发" in page.text
    assert "认定单位审查修复申请" in page.text


def test_script_error_shows_the_element_not_a_500(
    owner_client: FlaskClient, seeded: Session
) -> None:
    draft = make_draft(seeded, "notify_commit_approval", user(seeded, "owner"))
    seeded.commit()
    url = _start(owner_client, draft.id, {"matter_code": "M001"})

    page = owner_client.get(url)

    assert page.status_code == 200
    assert 'id="testrun-error"' in page.text and "gw_matter" in page.text
    assert 'data-errored="[&#34;gw_matter&#34;]"' in page.text
    token = _token(owner_client, url)
    assert owner_client.post(f"{url}/timers", data={"csrf_token": token}).status_code == 409


def test_invalid_draft_and_bad_start_input_are_422(
    owner_client: FlaskClient, seeded: Session
) -> None:
    files = bundle_files("credit_repair")
    files["credit_repair.bpmn"] = files["credit_repair.bpmn"].replace(
        'eligibility["eligible_count"] &gt; 0', "eligibility[&quot;eligible_count&quot; &gt; 0"
    )
    broken = make_draft(seeded, "credit_repair", user(seeded, "owner"), files)
    good = make_draft(seeded, "credit_repair", user(seeded, "owner"))
    seeded.commit()
    token = _token(owner_client, f"/studio/drafts/{good.id}/testruns")

    refused = owner_client.post(
        f"/studio/drafts/{broken.id}/testruns",
        data={"csrf_token": token, "sample_data": "{}", "service_results": "{}"},
    )
    assert refused.status_code == 422
    assert "草稿未通过校验" in refused.text and "f_some_eligible" in refused.text
    assert f'href="/studio/drafts/{broken.id}#element=f_some_eligible"' in refused.text

    bad = owner_client.post(
        f"/studio/drafts/{good.id}/testruns",
        data={"csrf_token": token, "sample_data": "[1]", "service_results": "{nope"},
    )
    assert bad.status_code == 422
    assert "必须是 JSON 对象" in bad.text and "不是有效的 JSON" in bad.text
    assert "{nope" in bad.text  # the input is kept
    assert seeded.scalar(select(func.count()).select_from(DraftTestRun)) == 0
    assert owner_client.get("/studio/drafts/999999/testruns").status_code == 404


def test_delete_run(owner_client: FlaskClient, seeded: Session) -> None:
    draft = review_case_draft(seeded, user(seeded, "owner"))
    seeded.commit()
    url = _start(owner_client, draft.id)
    run_id = _run(seeded, url).id
    token = _token(owner_client, url)

    deleted = owner_client.post(f"{url}/delete", data={"csrf_token": token})

    assert deleted.status_code == 303
    assert deleted.headers["Location"].endswith(f"/studio/drafts/{draft.id}/testruns")
    seeded.expire_all()
    assert seeded.get(DraftTestRun, run_id) is None
    assert owner_client.get(url).status_code == 404


@pytest.mark.parametrize("username", ["rev_samr", "ent_chengxi"])
def test_only_owners_and_admins_reach_test_runs(
    client: FlaskClient, seeded: Session, username: str
) -> None:
    draft = review_case_draft(seeded, user(seeded, "owner"))
    seeded.commit()
    login(client, "owner")
    url = _start(client, draft.id)
    client.post("/logout", data={"csrf_token": _token(client, url)})

    assert client.get(url).status_code == 302  # anonymous: to the login page
    login(client, username)
    assert client.get(url).status_code == 403
    assert client.get(f"/studio/drafts/{draft.id}/testruns").status_code == 403

    client.post("/logout", data={"csrf_token": _token(client, "/")})
    login(client, "admin")
    assert client.get(url).status_code == 200


def test_draft_model_is_untouched_by_runs(owner_client: FlaskClient, seeded: Session) -> None:
    draft = review_case_draft(seeded, user(seeded, "owner"))
    seeded.commit()
    before = (draft.lock_version, dict(draft.files))
    _start(owner_client, draft.id)
    seeded.expire_all()
    again = seeded.get(ProcessDraft, draft.id)
    assert again is not None and (again.lock_version, again.files) == before
