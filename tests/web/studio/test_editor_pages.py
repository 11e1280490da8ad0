"""Studio editing pages and JSON endpoints: permissions, drafts, saves, deploy, rollback."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import AuditEvent, ProcessDraft, ProcessVersion
from app.services import definitions
from app.services.studio import drafts
from tests.conftest import csrf_token, login
from tests.engine_fixtures import user

BUNDLE = Path("bpmn")
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture()
def deployed(seeded: Session) -> Session:
    definitions.deploy_bundle(seeded, definitions.read_bundle_dir(BUNDLE), user(seeded, "owner"))
    seeded.commit()
    return seeded


@pytest.fixture()
def draft_id(deployed: Session) -> int:
    draft = drafts.create_from_version(deployed, "credit_repair", None, user(deployed, "owner"))
    deployed.commit()
    return draft.id


@contextmanager
def rendered(app: Flask) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
        seen.append((template.name, context))

    template_rendered.connect(record, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, app)


def _token(client: FlaskClient) -> str:
    return csrf_token(client, "/studio/")


def _json(client: FlaskClient, method: str, url: str, body: Any, token: str) -> Any:
    return client.open(url, method=method, json=body, headers={"X-CSRFToken": token})


def _latest(session: Session, key: str) -> int:
    return session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.key == key))


def _endpoints(draft: int) -> list[tuple[str, str]]:
    return [
        ("GET", "/studio/"),
        ("GET", "/studio/processes/credit_repair"),
        ("POST", "/studio/processes/credit_repair/drafts"),
        ("POST", "/studio/processes/new"),
        ("POST", "/studio/drafts/import"),
        ("GET", f"/studio/drafts/{draft}"),
        ("GET", f"/studio/drafts/{draft}/files"),
        ("PUT", f"/studio/drafts/{draft}/files"),
        ("POST", f"/studio/drafts/{draft}/validate"),
        ("GET", f"/studio/drafts/{draft}/diff"),
        ("GET", f"/studio/drafts/{draft}/deploy"),
        ("POST", f"/studio/drafts/{draft}/deploy"),
        ("POST", f"/studio/drafts/{draft}/discard"),
        ("POST", f"/studio/drafts/{draft}/form-preview"),
        ("GET", "/studio/processes/credit_repair/versions/1/download"),
        ("GET", "/studio/processes/credit_repair/versions/1/rollback"),
        ("POST", "/studio/processes/credit_repair/versions/1/rollback"),
        ("GET", "/studio/registry"),
        ("POST", "/studio/timer-preview"),
    ]


# --- permissions -------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login(client: FlaskClient, draft_id: int) -> None:
    token = csrf_token(client)
    for method, url in _endpoints(draft_id):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, url)
        assert "/login" in response.headers["Location"], (method, url)


@pytest.mark.parametrize("username", ["ent_chengxi", "rev_samr"])
def test_enterprises_and_approvers_are_refused(
    client: FlaskClient, deployed: Session, draft_id: int, username: str
) -> None:
    login(client, username)
    token = csrf_token(client, "/")
    for method, url in _endpoints(draft_id):
        response = client.open(
            url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token}
        )
        assert response.status_code == 403, (method, url, response.status_code)
    assert deployed.scalar(select(func.count()).select_from(ProcessDraft)) == 1
    assert _latest(deployed, "credit_repair") == 1


@pytest.mark.parametrize("username", ["owner", "admin"])
def test_owners_and_admins_reach_every_page(
    client: FlaskClient, draft_id: int, username: str
) -> None:
    login(client, username)
    for method, url in _endpoints(draft_id):
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)


# --- lists and drafts ---------------------------------------------------------------------------


def test_index_lists_processes_with_versions_drafts_and_instances(
    client: FlaskClient, draft_id: int
) -> None:
    login(client, "owner")
    page = client.get("/studio/").text
    row = re.search(r'<tr data-key="credit_repair">(.*?)</tr>', page, re.S)
    assert row and "公共信用信息修复" in row.group(1) and "版本 1" in row.group(1)
    assert re.search(r'<span class="badge">1</span>', row.group(1))  # one open draft
    assert 'name="key"' in page and 'type="file"' in page and 'name="csrf_token"' in page


def test_process_page_lists_versions_and_drafts(
    client: FlaskClient, deployed: Session, draft_id: int
) -> None:
    login(client, "owner")
    page = client.get("/studio/processes/credit_repair").text
    assert 'data-version="1"' in page and f'data-draft="{draft_id}"' in page
    assert "/studio/processes/credit_repair/versions/1/download" in page
    assert "流程管理员（示例）" in page  # who deployed / who saved
    assert client.get("/studio/processes/nope").status_code == 404


def test_new_draft_from_a_version_redirects_to_the_modeler(
    client: FlaskClient, deployed: Session
) -> None:
    login(client, "owner")
    response = client.post(
        "/studio/processes/credit_repair/drafts",
        data={"csrf_token": _token(client), "version": "1"},
    )
    assert response.status_code == 303
    draft = deployed.scalar(select(ProcessDraft))
    assert response.headers["Location"].endswith(f"/studio/drafts/{draft.id}")
    assert (
        client.post(
            "/studio/processes/credit_repair/drafts",
            data={"csrf_token": _token(client), "version": "7"},
        ).status_code
        == 404
    )


def test_new_process_makes_a_blank_draft_or_shows_field_errors(
    client: FlaskClient, deployed: Session, app: Flask
) -> None:
    login(client, "owner")
    token = _token(client)
    bad = client.post("/studio/processes/new", data={"csrf_token": token, "key": "1x", "name": ""})
    assert bad.status_code == 422
    assert "流程标识须以英文字母开头" in bad.text and "请填写流程名称" in bad.text
    response = client.post(
        "/studio/processes/new", data={"csrf_token": token, "key": "my_flow", "name": "我的流程"}
    )
    assert response.status_code == 303
    draft = deployed.scalar(select(ProcessDraft).where(ProcessDraft.key == "my_flow"))
    assert draft is not None and draft.name == "我的流程"


def test_import_makes_a_draft_and_refuses_bad_files(client: FlaskClient, deployed: Session) -> None:
    login(client, "owner")
    files = drafts.blank_bundle("imported", "导入")
    response = client.post(
        "/studio/drafts/import",
        data={
            "csrf_token": _token(client),
            "files": [(io.BytesIO(text.encode()), name) for name, text in files.items()],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    draft = deployed.scalar(select(ProcessDraft).where(ProcessDraft.key == "imported"))
    assert draft is not None and draft.files == files
    bad = client.post(
        "/studio/drafts/import",
        data={"csrf_token": _token(client), "files": [(io.BytesIO(b"<a><b></a>"), "x.bpmn")]},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "XML 格式错误" in bad.text
    empty = client.post("/studio/drafts/import", data={"csrf_token": _token(client)})
    assert empty.status_code == 422
    assert deployed.scalar(select(func.count()).select_from(ProcessDraft)) == 1


def test_draft_page_passes_the_modeler_config(
    client: FlaskClient, app: Flask, deployed: Session, draft_id: int
) -> None:
    login(client, "owner")
    with rendered(app) as seen:
        assert client.get(f"/studio/drafts/{draft_id}").status_code == 200
    [(_, context)] = [(name, ctx) for name, ctx in seen if name == "studio/draft.html"]
    config = context["config"]
    assert context["draft"].id == draft_id
    assert config["draftId"] == draft_id and config["key"] == "credit_repair"
    assert config["mainFile"] == "credit_repair.bpmn" and "credit_repair.bpmn" in config["files"]
    assert config["lockVersion"] == 1 and config["baseVersion"] == 1
    assert config["readOnly"] is False and config["updatedBy"] == "流程管理员（示例）"
    assert config["updatedAt"].endswith("+08:00")
    echo = next(h for h in config["handlers"] if h["name"] == "system.echo")
    assert (
        echo["doc"] == "原样返回参数（供测试和试用服务任务）"
    )  # the handler's label, Chinese by default
    with rendered(app) as seen:
        assert client.get(f"/studio/drafts/{draft_id}?lang=en").status_code == 200
    [english] = [ctx["config"] for name, ctx in seen if name == "studio/draft.html"]
    echo = next(h for h in english["handlers"] if h["name"] == "system.echo")
    assert echo["doc"].startswith("Return the parameters")
    assert {r["key"] for r in config["roles"]} == set(definitions.LANE_ROLES)
    assert any(h["name"] == "add_working_days" for h in config["helpers"])
    urls = config["urls"]
    assert urls["save"] == urls["files"] == f"/studio/drafts/{draft_id}/files"
    assert urls["validate"] == f"/studio/drafts/{draft_id}/validate"
    assert urls["deploy"] == f"/studio/drafts/{draft_id}/deploy"
    assert (
        urls["timerPreview"] == "/studio/timer-preview" and urls["registry"] == "/studio/registry"
    )
    assert urls["process"] == "/studio/processes/credit_repair"
    assert urls["download"] == "/studio/processes/credit_repair/versions/1/download"
    assert config["csrfToken"]
    json.dumps(config)  # renders with |tojson


# --- saving -------------------------------------------------------------------------------------


def test_save_then_stale_save_is_409_naming_who_and_when(
    client: FlaskClient, deployed: Session, draft_id: int
) -> None:
    login(client, "owner")
    token = _token(client)
    url = f"/studio/drafts/{draft_id}/files"
    loaded = client.get(url).json
    assert loaded["lockVersion"] == 1 and "credit_repair.bpmn" in loaded["files"]
    files = dict(loaded["files"])
    files["credit_repair.bpmn"] = files["credit_repair.bpmn"].replace("记录申请日", "记录日期", 1)
    with clock.frozen_at(NOW):
        saved = _json(client, "PUT", url, {"files": files, "lockVersion": 1}, token)
    assert saved.status_code == 200, saved.text
    assert saved.json["lockVersion"] == 2 and saved.json["updatedBy"] == "流程管理员（示例）"
    stale = _json(client, "PUT", url, {"files": loaded["files"], "lockVersion": 1}, token)
    assert stale.status_code == 409
    error = stale.json["error"]
    assert error["code"] == "conflict" and "流程管理员（示例）" in error["message"]
    assert saved.json["updatedAt"][:16].replace("T", " ") in error["message"]
    assert error["details"]["lockVersion"] == 2
    assert client.get(url).json["files"] == files
    saves = deployed.scalars(select(AuditEvent).where(AuditEvent.action == "studio.draft_saved"))
    assert len(list(saves)) == 1


def test_bad_files_are_422_per_file_and_nothing_changes(client: FlaskClient, draft_id: int) -> None:
    login(client, "owner")
    token = _token(client)
    url = f"/studio/drafts/{draft_id}/files"
    before = client.get(url).json
    body = {
        "files": {"credit_repair.bpmn": "<oops>", "../x.json": "{}", "f.json": "{bad"},
        "lockVersion": 1,
    }
    response = _json(client, "PUT", url, body, token)
    assert response.status_code == 422
    fields = response.json["error"]["details"]["fields"]
    assert set(fields) == {"credit_repair.bpmn", "../x.json", "f.json"}
    assert "XML 格式错误" in fields["credit_repair.bpmn"][0]
    assert client.get(url).json == before
    missing = _json(client, "PUT", url, {"files": before["files"]}, token)
    assert (
        missing.status_code == 422 and "lockVersion" in missing.json["error"]["details"]["fields"]
    )
    not_json = client.put(url, data="x", headers={"X-CSRFToken": token})
    assert not_json.status_code == 400 and "error" in not_json.json
    assert client.put(url, json=body).status_code == 400  # no CSRF token


def test_unknown_draft_is_404_json(client: FlaskClient, deployed: Session) -> None:
    login(client, "owner")
    response = client.get("/studio/drafts/999/files")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.get("/studio/drafts/999").status_code == 404


# --- validate, diff, deploy ---------------------------------------------------------------------


def _save_edit(client: FlaskClient, draft: int, old: str, new: str) -> None:
    url = f"/studio/drafts/{draft}/files"
    loaded = client.get(url).json
    files = dict(loaded["files"])
    assert old in files["credit_repair.bpmn"]
    files["credit_repair.bpmn"] = files["credit_repair.bpmn"].replace(old, new, 1)
    body = {"files": files, "lockVersion": loaded["lockVersion"]}
    assert _json(client, "PUT", url, body, _token(client)).status_code == 200


def test_validate_and_diff_of_an_edited_draft(client: FlaskClient, draft_id: int) -> None:
    login(client, "owner")
    token = _token(client)
    ok = _json(client, "POST", f"/studio/drafts/{draft_id}/validate", {}, token).json
    assert ok == {"ok": True, "problems": []}
    _save_edit(client, draft_id, 'id="repair.check_eligibility"', 'id="no.such"')
    result = _json(client, "POST", f"/studio/drafts/{draft_id}/validate", {}, token).json
    assert result["ok"] is False
    problem = next(p for p in result["problems"] if p["element_id"] == "check_eligibility")
    assert set(problem) == {"file", "line", "element_id", "severity", "message", "message_en"}
    diff = client.get(f"/studio/drafts/{draft_id}/diff").json
    assert diff["base"] == {"key": "credit_repair", "version": 1}
    assert [c["id"] for c in diff["changed"]] == ["check_eligibility"]
    assert diff["files"]["changed"] == ["credit_repair.bpmn"]


def test_deploy_confirm_shows_the_diff_and_deploy_makes_version_2(
    client: FlaskClient, deployed: Session, draft_id: int
) -> None:
    login(client, "owner")
    _save_edit(client, draft_id, 'name="记录申请日"', 'name="记录申请日期"')
    page = client.get(f"/studio/drafts/{draft_id}/deploy").text
    assert 'data-element="prepare_application"' in page and "记录申请日 → 记录申请日期" in page
    assert 'name="lock_version" value="2"' in page
    response = client.post(
        f"/studio/drafts/{draft_id}/deploy",
        data={"csrf_token": _token(client), "lock_version": "2"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/studio/processes/credit_repair")
    assert "已发布为版本 2" in client.get("/studio/processes/credit_repair").text
    assert _latest(deployed, "credit_repair") == 2
    assert _latest(deployed, "objection_handling") == 1
    event = deployed.scalar(select(AuditEvent).where(AuditEvent.action == "studio.draft_deployed"))
    assert event is not None and event.object_id == "credit_repair:2"
    again = client.post(
        f"/studio/drafts/{draft_id}/deploy",
        data={"csrf_token": _token(client), "lock_version": "3"},
    )
    assert again.status_code == 409  # the draft is deployed


def test_deploy_of_an_invalid_draft_is_a_422_page_linking_the_elements(
    client: FlaskClient, deployed: Session, draft_id: int
) -> None:
    login(client, "owner")
    _save_edit(client, draft_id, 'id="repair.check_eligibility"', 'id="no.such"')
    confirm = client.get(f"/studio/drafts/{draft_id}/deploy").text
    assert "发布会被拒绝" in confirm
    response = client.post(
        f"/studio/drafts/{draft_id}/deploy",
        data={"csrf_token": _token(client), "lock_version": "2"},
    )
    assert response.status_code == 422
    assert f'href="/studio/drafts/{draft_id}#element=check_eligibility"' in response.text
    assert _latest(deployed, "credit_repair") == 1


def test_deploying_an_unchanged_draft_says_so(
    client: FlaskClient, deployed: Session, draft_id: int
) -> None:
    login(client, "owner")
    response = client.post(f"/studio/drafts/{draft_id}/deploy", data={"csrf_token": _token(client)})
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/studio/drafts/{draft_id}"
    )
    assert _latest(deployed, "credit_repair") == 1


def test_stale_deploy_is_409(client: FlaskClient, deployed: Session, draft_id: int) -> None:
    login(client, "owner")
    _save_edit(client, draft_id, 'name="记录申请日"', 'name="记录申请日期"')
    response = client.post(
        f"/studio/drafts/{draft_id}/deploy",
        data={"csrf_token": _token(client), "lock_version": "1"},
    )
    assert response.status_code == 409
    assert _latest(deployed, "credit_repair") == 1


def test_discard(client: FlaskClient, app: Flask, deployed: Session, draft_id: int) -> None:
    login(client, "owner")
    response = client.post(
        f"/studio/drafts/{draft_id}/discard", data={"csrf_token": _token(client)}
    )
    assert response.status_code == 303
    assert deployed.get(ProcessDraft, draft_id).status == "discarded"
    with rendered(app) as seen:
        client.get(f"/studio/drafts/{draft_id}")
    assert [ctx["config"]["readOnly"] for name, ctx in seen if name == "studio/draft.html"] == [
        True
    ]
    assert f'data-draft="{draft_id}"' not in client.get("/studio/processes/credit_repair").text
    again = client.post(f"/studio/drafts/{draft_id}/discard", data={"csrf_token": _token(client)})
    assert again.status_code == 409


# --- download and rollback ---------------------------------------------------------------------


def test_download_zip_and_one_file(client: FlaskClient, deployed: Session) -> None:
    login(client, "owner")
    response = client.get("/studio/processes/objection_handling/versions/1/download")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "objection_handling-v1.zip" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert "objection_handling.bpmn" in names and "credit_repair.bpmn" not in names
    assert "objection_handling__time_limits.dmn" in names
    one = client.get(
        "/studio/processes/objection_handling/versions/1/download?file=objection_handling.bpmn"
    )
    assert one.status_code == 200 and one.data == (BUNDLE / "objection_handling.bpmn").read_bytes()
    base = "/studio/processes/objection_handling/versions"
    assert client.get(f"{base}/1/download?file=nope.bpmn").status_code == 404
    assert client.get(f"{base}/5/download").status_code == 404


def test_rollback_confirms_with_the_diff_and_deploys_the_old_content(
    client: FlaskClient, deployed: Session, draft_id: int
) -> None:
    login(client, "owner")
    _save_edit(client, draft_id, 'name="记录申请日"', 'name="记录申请日期"')
    client.post(
        f"/studio/drafts/{draft_id}/deploy",
        data={"csrf_token": _token(client), "lock_version": "2"},
    )
    assert _latest(deployed, "credit_repair") == 2
    page = client.get("/studio/processes/credit_repair/versions/1/rollback").text
    assert "记录申请日期 → 记录申请日" in page and "确认回滚" in page
    response = client.post(
        "/studio/processes/credit_repair/versions/1/rollback", data={"csrf_token": _token(client)}
    )
    assert response.status_code == 303
    old = definitions.get_version(deployed, "credit_repair", 1)
    new = definitions.get_version(deployed, "credit_repair", 3)
    assert new.sha256 == old.sha256 and new.spec_json == old.spec_json
    assert deployed.scalar(select(AuditEvent).where(AuditEvent.action == "studio.rolled_back"))
    same = client.post(
        "/studio/processes/credit_repair/versions/3/rollback", data={"csrf_token": _token(client)}
    )
    assert same.status_code == 409


# --- registry and previews ---------------------------------------------------------------------


def test_registry_json(client: FlaskClient, deployed: Session) -> None:
    login(client, "owner")
    data = client.get("/studio/registry").json
    assert any(h["name"] == "system.echo" and h["doc"] for h in data["handlers"])
    assert {"key": "window", "label": "一口受理窗口"} in data["roles"]
    assert any(h["name"] == "deadline_after_working_days" for h in data["helpers"])


def test_timer_preview(client: FlaskClient, deployed: Session) -> None:
    login(client, "owner")
    token = _token(client)
    with clock.frozen_at(NOW):
        p5d = _json(
            client,
            "POST",
            "/studio/timer-preview",
            {"kind": "timeDuration", "expression": '"P5D"'},
            token,
        )
        date = _json(
            client,
            "POST",
            "/studio/timer-preview",
            {"kind": "timeDate", "expression": '"2026-12-01T09:00:00+08:00"'},
            token,
        )
        bad = _json(
            client,
            "POST",
            "/studio/timer-preview",
            {"kind": "timeDuration", "expression": "P5D"},
            token,
        )
    assert p5d.status_code == 200 and p5d.json["due"] == "2026-11-25T09:30:00+08:00"
    assert p5d.json["ok"] is True and p5d.json["display"] and p5d.json["message"]
    assert date.json["due"] == "2026-12-01T09:00:00+08:00"
    assert bad.status_code == 422 and "没有加引号" in bad.json["error"]["message"]


def test_form_preview_renders_labels_or_422(client: FlaskClient, draft_id: int) -> None:
    login(client, "owner")
    token = _token(client)
    url = f"/studio/drafts/{draft_id}/form-preview"
    schema = json.loads((BUNDLE / "credit_repair__accept_application.json").read_text("utf-8"))
    response = _json(client, "POST", url, {"schema": schema}, token)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "受理结论" in response.text and "退回补正（一次性告知）" in response.text
    assert "一次性告知清单" in response.text
    as_text = _json(client, "POST", url, {"schema": json.dumps(schema)}, token)
    assert as_text.status_code == 200 and "受理结论" in as_text.text
    for bad in ({"type": 5}, "{not json", [1], {"type": "string"}):
        refused = _json(client, "POST", url, {"schema": bad}, token)
        assert refused.status_code == 422, bad
        assert refused.json["error"]["details"]["fields"]["schema"]
