"""The engine through HTTP (CONTRACT §5): definitions, instances, tasks, timers, files, messages.

Every refusal is checked for its status and the error envelope; no call may answer 500.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.models import User
from tests.conftest import api_token
from tests.engine_fixtures import BUNDLES, deploy_test_bundle, user

API = "/api/v1"
CHENGXI_USCC = "91310114MA1GT8QX92"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
Headers = dict[str, str]
Tokens = Callable[[str], Headers]


def _error(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert the status and the envelope {"error": {"code", "message", "details"}}."""
    assert response.status_code == status, response.text
    error = response.json["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error


@pytest.fixture()
def review(seeded: Session) -> Session:
    deploy_test_bundle(seeded, "review_case")
    return seeded


@pytest.fixture()
def tokens(client: FlaskClient, review: Session) -> Tokens:
    """Bearer headers per demo user, each fetched once through POST /auth/token."""
    cache: dict[str, Headers] = {}

    def get(username: str) -> Headers:
        if username not in cache:
            cache[username] = api_token(client, username)
        return cache[username]

    return get


def _raw_multipart(field: str, filename: str, content: bytes, **form: str) -> dict[str, Any]:
    """A multipart body in memory (the test client would spool a large one to a leaked file)."""
    boundary = "creditflow-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in form.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return {"data": b"".join(parts), "content_type": f"multipart/form-data; boundary={boundary}"}


def _bundle_files(**replace: str) -> list[tuple[BytesIO, str]]:
    files = []
    for path in sorted((BUNDLES / "review_case").iterdir()):
        body = path.read_bytes()
        if path.name in replace:
            old, new = replace[path.name].split("=>", 1)
            body = body.replace(old.encode(), new.encode())
        files.append((BytesIO(body), path.name))
    return files


def _deploy(client: FlaskClient, headers: Headers, **replace: str) -> TestResponse:
    return client.post(
        f"{API}/process-definitions",
        data={"files": _bundle_files(**replace)},
        headers=headers,
        content_type="multipart/form-data",
    )


def _start(client: FlaskClient, headers: Headers) -> dict[str, Any]:
    response = client.post(
        f"{API}/process-instances", json={"process_key": "review_case", "data": {}}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json  # type: ignore[no-any-return]


def _task(instance: dict[str, Any], bpmn_id: str) -> dict[str, Any]:
    ready = [t for t in instance["tasks"] if t["state"] == "ready"]
    assert [t["bpmn_id"] for t in ready] == [bpmn_id], ready
    return ready[0]


def _complete(client: FlaskClient, task_id: str, data: Any, headers: Headers) -> TestResponse:
    return client.post(f"{API}/tasks/{task_id}/complete", json={"data": data}, headers=headers)


def _candidates(client: FlaskClient, headers: Headers) -> list[dict[str, Any]]:
    response = client.get(f"{API}/tasks?scope=candidate", headers=headers)
    assert response.status_code == 200, response.text
    return response.json["items"]  # type: ignore[no-any-return]


def _submitted(client: FlaskClient, tokens: Tokens) -> tuple[int, dict[str, Any]]:
    """An instance whose enterprise task is done; returns (instance id, review task)."""
    instance = _start(client, tokens("ent_chengxi"))
    submit = _task(instance, "submit_application")
    response = _complete(client, submit["id"], {"claim": "请求修复"}, tokens("ent_chengxi"))
    assert response.status_code == 200, response.text
    inbox = [
        t for t in _candidates(client, tokens("rev_samr")) if t["instance_id"] == instance["id"]
    ]
    assert [t["bpmn_id"] for t in inbox] == ["review_application"]
    return instance["id"], inbox[0]


def _instance(client: FlaskClient, instance_id: int, headers: Headers) -> dict[str, Any]:
    response = client.get(f"{API}/process-instances/{instance_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json  # type: ignore[no-any-return]


# --- authentication ----------------------------------------------------------------------


def test_missing_or_bad_token_is_401(client: FlaskClient, review: Session) -> None:
    _error(client.get(f"{API}/process-definitions"), 401, "unauthorized")
    bad = {"Authorization": "Bearer cf_not-a-token"}
    _error(client.get(f"{API}/tasks", headers=bad), 401, "unauthorized")


# --- process definitions -----------------------------------------------------------------


def test_definitions_list_latest_and_all_versions(client: FlaskClient, tokens: Tokens) -> None:
    response = client.get(f"{API}/process-definitions", headers=tokens("ent_chengxi"))
    assert response.status_code == 200
    (item,) = [d for d in response.json["items"] if d["key"] == "review_case"]
    assert set(item) >= {"key", "version", "name", "deployed_at", "sha256"}
    assert item["version"] == 1 and item["name"] == "测试审核流程" and len(item["sha256"]) == 64
    assert datetime.fromisoformat(item["deployed_at"]).tzinfo is not None
    assert {"items", "total", "page", "per_page"} <= set(response.json)

    owner = tokens("owner")
    changed = _deploy(client, owner, **{"review_form.json": "审核意见=>处理意见"})
    assert changed.status_code == 201 and changed.json["version"] == 2
    latest = client.get(f"{API}/process-definitions", headers=owner).json["items"]
    assert [d["version"] for d in latest if d["key"] == "review_case"] == [2]
    every = client.get(f"{API}/process-definitions?all=1", headers=owner).json["items"]
    versions = [d for d in every if d["key"] == "review_case"]
    assert [d["version"] for d in versions] == [1, 2]
    assert versions[0]["sha256"] != versions[1]["sha256"]


def test_deploy_by_owner_is_created_then_idempotent(client: FlaskClient, seeded: Session) -> None:
    owner = api_token(client, "owner")
    first = _deploy(client, owner)
    assert first.status_code == 201, first.text
    assert (first.json["key"], first.json["version"]) == ("review_case", 1)
    again = _deploy(client, owner)
    assert again.status_code == 200, again.text
    assert (again.json["key"], again.json["version"]) == ("review_case", 1)
    for username in ("ent_chengxi", "rev_samr"):
        _error(_deploy(client, api_token(client, username)), 403, "forbidden")


def test_deploy_refuses_hostile_and_empty_bundles(client: FlaskClient, tokens: Tokens) -> None:
    owner = tokens("owner")
    hostile = _deploy(
        client,
        owner,
        **{"review_case.bpmn": "checked = True=>checked = __import__('os').system('id')"},
    )
    error = _error(hostile, 422)
    problems = error["details"]["errors"]
    assert isinstance(problems, list) and problems
    for problem in problems:
        assert {"file", "line", "element_id", "message"} <= set(problem)
    assert any(
        p["file"] == "review_case.bpmn" and p["element_id"] == "prepare_review" for p in problems
    ), problems
    assert client.get(f"{API}/process-definitions?all=1", headers=owner).json["total"] == 1

    empty = client.post(
        f"{API}/process-definitions", data={}, headers=owner, content_type="multipart/form-data"
    )
    assert "files" in _error(empty, 422, "validation_failed")["details"]["fields"]
    not_multipart = client.post(f"{API}/process-definitions", json={"files": []}, headers=owner)
    _error(not_multipart, 422)
    garbage = client.post(
        f"{API}/process-definitions",
        data={"files": [(BytesIO(b"\xff\xfe\x00binary"), "x.bpmn"), (BytesIO(b"{"), "f.json")]},
        headers=owner,
        content_type="multipart/form-data",
    )
    assert _error(garbage, 422)["details"]["errors"]


def test_oversized_deploy_is_413(client: FlaskClient, tokens: Tokens, app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024
    big = _raw_multipart("files", "big.bpmn", b"<x/>" * (25 * 1024 * 1024 // 4))
    response = client.post(f"{API}/process-definitions", headers=tokens("owner"), **big)
    _error(response, 413, "too_large")


# --- process instances -------------------------------------------------------------------


def test_enterprise_starts_an_instance(client: FlaskClient, tokens: Tokens) -> None:
    instance = _start(client, tokens("ent_chengxi"))
    assert isinstance(instance["id"], int) and instance["status"] == "running"
    assert instance["process_key"] == "review_case" and instance["version"] == 1
    assert instance["subject_uscc"] == CHENGXI_USCC
    assert {"created_at", "tasks", "history", "documents"} <= set(instance)
    submit = _task(instance, "submit_application")
    assert submit["lane"] == "enterprise" and submit["assignee"] is None

    ent = tokens("ent_chengxi")
    url = f"{API}/process-instances"
    _error(
        client.post(url, json={"process_key": "nope", "data": {}}, headers=ent), 404, "not_found"
    )
    missing = _error(client.post(url, json={"data": {}}, headers=ent), 422, "validation_failed")
    assert "process_key" in missing["details"]["fields"]
    _error(client.post(url, json={"process_key": "review_case", "data": []}, headers=ent), 422)
    _error(client.post(url, json={"process_key": 5}, headers=ent), 422)
    _error(client.post(url, data="process_key=review_case", headers=ent), 400, "bad_request")
    not_json = {**ent, "Content-Type": "application/json"}
    _error(client.post(url, data="{not json", headers=not_json), 400, "bad_request")
    _error(client.post(url, json=["review_case"], headers=ent), 400)
    _error(client.post(url, json={"process_key": "review_case"}, headers=tokens("owner")), 403)


def test_instance_list_is_scoped_filtered_and_paginated(
    client: FlaskClient, tokens: Tokens
) -> None:
    ent = tokens("ent_chengxi")
    first, second = _start(client, ent), _start(client, ent)
    response = client.get(f"{API}/process-instances", headers=ent)
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"items", "total", "page", "per_page"}
    assert body["total"] == 2 and {i["id"] for i in body["items"]} == {first["id"], second["id"]}
    assert client.get(f"{API}/process-instances", headers=tokens("ent_haian")).json["total"] == 0

    page = client.get(f"{API}/process-instances?per_page=1&page=2", headers=ent).json
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (2, 2, 1, 1)
    odd = _error(client.get(f"{API}/process-instances?per_page=abc&page=-3", headers=ent), 422)
    assert set(odd["details"]["fields"]) == {"page", "per_page"}  # tests/api/test_pagination.py
    for query, total in (
        ("status=running", 2),
        ("status=completed", 0),
        ("process_key=review_case", 2),
        ("process_key=other", 0),
        (f"subject_uscc={CHENGXI_USCC}", 2),
    ):
        assert client.get(f"{API}/process-instances?{query}", headers=ent).json["total"] == total


def test_foreign_instance_is_indistinguishable_from_unknown(
    client: FlaskClient, tokens: Tokens
) -> None:
    instance = _start(client, tokens("ent_chengxi"))
    haian = tokens("ent_haian")
    foreign = _error(client.get(f"{API}/process-instances/{instance['id']}", headers=haian), 404)
    unknown = _error(client.get(f"{API}/process-instances/999999", headers=haian), 404)
    assert foreign == unknown
    _error(client.get(f"{API}/process-instances/{10**20}", headers=haian), 404)
    assert client.get(f"{API}/process-instances/abc", headers=haian).status_code == 404


# --- tasks --------------------------------------------------------------------------------


def test_inbox_by_department_and_task_form(client: FlaskClient, tokens: Tokens) -> None:
    instance_id, review = _submitted(client, tokens)
    assert review["department"] is not None and review["due_at"] is not None
    assert set(review) >= {
        "id", "instance_id", "process_key", "bpmn_id", "name", "lane",
        "department", "assignee", "due_at", "created_at",
    }  # fmt: skip
    assert review["instance_id"] == instance_id and review["lane"] == "reviewer"
    ndrc = tokens("rev_ndrc")
    assert all(t["instance_id"] != instance_id for t in _candidates(client, ndrc))
    _error(client.get(f"{API}/tasks/{review['id']}", headers=ndrc), 404)

    detail = client.get(f"{API}/tasks/{review['id']}", headers=tokens("rev_samr"))
    assert detail.status_code == 200, detail.text
    form = detail.json["form"]
    assert form["type"] == "object" and form["required"] == ["decision"]
    assert form["properties"]["decision"]["enum"] == ["approve", "reject", "return"]
    _error(client.get(f"{API}/tasks/no-such-task", headers=tokens("rev_samr")), 404)
    bad = _error(client.get(f"{API}/tasks?scope=everything", headers=ndrc), 422)
    assert "scope" in bad["details"]["fields"]
    _error(client.get(f"{API}/tasks?state=bogus", headers=ndrc), 422)


def test_complete_validates_and_conflicts(client: FlaskClient, tokens: Tokens) -> None:
    ent = tokens("ent_chengxi")
    instance = _start(client, ent)
    submit = _task(instance, "submit_application")
    other = tokens("ent_hongqiao")
    _error(_complete(client, submit["id"], {"claim": "别人的"}, other), 404, "not_found")
    invalid = _error(_complete(client, submit["id"], {"claim": "x", "extra": 1}, ent), 422)
    assert invalid["code"] == "validation_failed"
    assert set(invalid["details"]["fields"]) == {"claim", "_form"}
    _error(_complete(client, submit["id"], "not an object", ent), 422)
    no_body = client.post(f"{API}/tasks/{submit['id']}/complete", data="x", headers=ent)
    _error(no_body, 400)

    done = _complete(client, submit["id"], {"claim": "请求修复"}, ent)
    assert done.status_code == 200, done.text
    assert set(done.json) == {"instance", "next_tasks"}
    assert done.json["instance"]["id"] == instance["id"]
    assert done.json["instance"]["status"] == "running"
    assert done.json["next_tasks"] == []  # the review task is not the enterprise's to see
    _error(_complete(client, submit["id"], {"claim": "请求修复"}, ent), 409, "conflict")

    reviewer = tokens("rev_samr")
    (review,) = [t for t in _candidates(client, reviewer) if t["instance_id"] == instance["id"]]
    wrong = _error(_complete(client, review["id"], {"decision": "maybe"}, reviewer), 422)
    assert "decision" in wrong["details"]["fields"]
    _error(_complete(client, review["id"], {"decision": "reject"}, tokens("insp_samr")), 403)
    ok = _complete(client, review["id"], {"decision": "reject", "opinion": "不符合"}, reviewer)
    assert ok.status_code == 200 and ok.json["instance"]["status"] == "completed"
    assert ok.json["next_tasks"] == []


def test_claim_and_unclaim(client: FlaskClient, tokens: Tokens, review: Session) -> None:
    _, task = _submitted(client, tokens)
    url = f"{API}/tasks/{task['id']}"
    reviewer, leader = tokens("rev_samr"), tokens("lead_samr")
    claimed = client.post(f"{url}/claim", headers=reviewer)
    assert claimed.status_code == 200 and claimed.json["assignee"] is not None
    assert client.post(f"{url}/claim", headers=reviewer).status_code == 200  # own claim again
    assert all(t["id"] != task["id"] for t in _candidates(client, reviewer))
    mine = client.get(f"{API}/tasks?scope=mine", headers=reviewer).json["items"]
    assert [t["id"] for t in mine] == [task["id"]]
    # lead_samr may see it but is not a candidate of the reviewer lane.
    _error(client.post(f"{url}/claim", headers=leader), 403, "forbidden")
    # Another reviewer of the same department is a candidate: the task is taken.
    second = User(
        username="rev_samr2",
        display_name="第二审核员（测试）",
        role="approver",
        approver_role="reviewer",
        department_id=user(review, "rev_samr").department_id,
        password_hash=user(review, "rev_samr").password_hash,
    )
    review.add(second)
    review.commit()
    other = tokens("rev_samr2")
    _error(client.post(f"{url}/claim", headers=other), 409, "conflict")
    _error(_complete(client, task["id"], {"decision": "reject"}, other), 409, "conflict")
    _error(client.post(f"{url}/unclaim", headers=other), 409, "conflict")
    released = client.post(f"{url}/unclaim", headers=leader)
    assert released.status_code == 200 and released.json["assignee"] is None
    _error(client.post(f"{API}/tasks/nope/claim", headers=reviewer), 404)


# --- timers through the command line ------------------------------------------------------


def test_timers_fire_cli_cancels_the_review(
    client: FlaskClient, tokens: Tokens, app: Flask
) -> None:
    instance_id, task = _submitted(client, tokens)
    due = datetime.fromisoformat(task["due_at"])
    assert due.tzinfo is not None
    runner = app.test_cli_runner()
    early = runner.invoke(args=["timers", "fire", "--at", (due - timedelta(seconds=1)).isoformat()])
    assert early.exit_code == 0, early.output
    assert any(t["id"] == task["id"] for t in _candidates(client, tokens("rev_samr")))

    fired = runner.invoke(args=["timers", "fire", "--at", (due + timedelta(seconds=1)).isoformat()])
    assert fired.exit_code == 0, fired.output
    assert all(t["id"] != task["id"] for t in _candidates(client, tokens("rev_samr")))
    body = _instance(client, instance_id, tokens("ent_chengxi"))
    assert body["status"] == "completed" and body["next_timer_due"] is None
    _error(_complete(client, task["id"], {"decision": "approve"}, tokens("rev_samr")), 409)

    naive = runner.invoke(args=["timers", "fire", "--at", "2026-12-01T09:00:00"])
    assert naive.exit_code != 0 and "+08:00" in naive.output
    garbage = runner.invoke(args=["timers", "fire", "--at", "tomorrow"])
    assert garbage.exit_code != 0 and "ISO 8601" in garbage.output


# --- attachments --------------------------------------------------------------------------


def _upload(
    client: FlaskClient, instance_id: int, headers: Headers, content: bytes | None, **form: str
) -> TestResponse:
    data: dict[str, Any] = dict(form)
    if content is not None:
        data["file"] = (BytesIO(content), form.pop("name", "材料.pdf"))
        data.pop("name", None)
    return client.post(
        f"{API}/process-instances/{instance_id}/attachments",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )


def _temp_files(storage: Path) -> list[Path]:
    return list(storage.rglob(".upload-*")) if storage.exists() else []


def test_attachment_is_stored_by_hash(client: FlaskClient, tokens: Tokens, app: Flask) -> None:
    ent = tokens("ent_chengxi")
    instance = _start(client, ent)
    response = _upload(client, instance["id"], ent, PDF, kind="business_license")
    assert response.status_code == 201, response.text
    sha = hashlib.sha256(PDF).hexdigest()
    assert set(response.json) >= {"id", "sha256", "size", "kind"}
    assert (response.json["sha256"], response.json["size"]) == (sha, len(PDF))
    assert response.json["kind"] == "business_license"
    storage = Path(app.config["STORAGE_DIR"])
    stored = [p for p in storage.rglob(sha) if p.is_file()]
    assert len(stored) == 1 and stored[0].read_bytes() == PDF
    listed = _instance(client, instance["id"], ent)["attachments"]
    assert [a["sha256"] for a in listed] == [sha]


def test_attachment_refusals(client: FlaskClient, tokens: Tokens, app: Flask) -> None:
    ent = tokens("ent_chengxi")
    instance_id = _start(client, ent)["id"]
    storage = Path(app.config["STORAGE_DIR"])
    before = {p for p in storage.rglob("*") if p.is_file()} if storage.exists() else set()
    for content in (b"MZ\x90\x00\x03" + b"\x00" * 200, b"PK\x03\x04" + b"\x00" * 200, b"hello"):
        _error(_upload(client, instance_id, ent, content, kind="license"), 415, "unsupported_type")
    missing = _error(_upload(client, instance_id, ent, None, kind="license"), 422)
    assert "file" in missing["details"]["fields"]
    no_kind = _error(_upload(client, instance_id, ent, PDF), 422)
    assert "kind" in no_kind["details"]["fields"]
    _error(_upload(client, instance_id, ent, b"", kind="license"), 422)
    _error(_upload(client, instance_id, tokens("ent_haian"), PDF, kind="license"), 404)
    _error(_upload(client, 999999, ent, PDF, kind="license"), 404)
    too_big = _raw_multipart(
        "file", "a.pdf", b"%PDF-1.4\n" + b"0" * app.config["ATTACHMENT_MAX_BYTES"], kind="license"
    )
    url = f"{API}/process-instances/{instance_id}/attachments"
    _error(client.post(url, headers=ent, **too_big), 413, "too_large")
    after = {p for p in storage.rglob("*") if p.is_file()} if storage.exists() else set()
    assert after == before and _temp_files(storage) == []
    assert _instance(client, instance_id, ent)["attachments"] == []


# --- messages -----------------------------------------------------------------------------


def test_correlated_message_completes_the_instance(client: FlaskClient, tokens: Tokens) -> None:
    instance_id, task = _submitted(client, tokens)
    reviewer = tokens("rev_samr")
    approved = _complete(client, task["id"], {"decision": "approve", "opinion": "同意"}, reviewer)
    assert approved.status_code == 200 and approved.json["instance"]["status"] == "running"
    url = f"{API}/messages"
    message = {
        "name": "dept_confirmation",
        "correlation": {"case_id": instance_id},
        "payload": {"ok": True},
        "message_id": "confirm-1",
    }
    _error(client.post(url, json=message, headers=tokens("ent_chengxi")), 403, "forbidden")
    unknown = {**message, "correlation": {"case_id": instance_id + 1000}, "message_id": "m-x"}
    _error(client.post(url, json=unknown, headers=reviewer), 404, "not_found")
    no_id = {k: v for k, v in message.items() if k != "message_id"}
    assert (
        "message_id"
        in _error(client.post(url, json=no_id, headers=reviewer), 422)["details"]["fields"]
    )
    _error(client.post(url, json={**message, "correlation": [1]}, headers=reviewer), 422)
    _error(client.post(url, json={**message, "message_id": "m" * 300}, headers=reviewer), 422)
    _error(client.post(url, data="nope", headers=reviewer), 400)

    first = client.post(url, json=message, headers=reviewer)
    assert first.status_code == 202, first.text
    assert first.json == {"delivered_to": [instance_id]}
    assert _instance(client, instance_id, reviewer)["status"] == "completed"
    again = client.post(url, json=message, headers=reviewer)
    assert (again.status_code, again.json) == (202, first.json)


# --- operations and incidents -------------------------------------------------------------


def test_operations_by_owner(client: FlaskClient, tokens: Tokens) -> None:
    instance_id, task = _submitted(client, tokens)
    base = f"{API}/process-instances/{instance_id}"
    owner, reviewer = tokens("owner"), tokens("rev_samr")
    _error(client.post(f"{base}/suspend", headers=reviewer), 403, "forbidden")
    _error(client.post(f"{base}/retry", headers=owner), 409, "conflict")
    _error(client.post(f"{base}/resume", headers=owner), 409)
    _error(client.post(f"{API}/process-instances/999999/suspend", headers=owner), 404)

    suspended = client.post(f"{base}/suspend", headers=owner)
    assert suspended.status_code == 200 and suspended.json["status"] == "suspended"
    _error(_complete(client, task["id"], {"decision": "reject"}, reviewer), 409, "conflict")
    resumed = client.post(f"{base}/resume", headers=owner)
    assert resumed.status_code == 200 and resumed.json["status"] == "running"

    ended = client.post(f"{base}/terminate", json={"reason": "申请人撤回"}, headers=owner)
    assert ended.status_code == 200 and ended.json["status"] == "terminated"
    assert all(t["state"] != "ready" for t in ended.json["tasks"])
    assert all(t["instance_id"] != instance_id for t in _candidates(client, reviewer))
    _error(_complete(client, task["id"], {"decision": "reject"}, reviewer), 409)
    _error(client.post(f"{base}/terminate", headers=owner), 409)


def test_script_failure_is_an_incident(client: FlaskClient, tokens: Tokens) -> None:
    owner = tokens("owner")
    broken = _deploy(
        client,
        owner,
        **{"review_case.bpmn": "checked = True=>checked = 1 / len(claim.strip(claim))"},
    )
    assert broken.status_code == 201 and broken.json["version"] == 2
    ent = tokens("ent_chengxi")
    instance = _start(client, ent)
    assert instance["version"] == 2
    submit = _task(instance, "submit_application")
    error = _error(_complete(client, submit["id"], {"claim": "请求修复"}, ent), 409)
    assert (
        error["code"] == "process_incident" and error["details"]["element_id"] == "prepare_review"
    )
    body = _instance(client, instance["id"], owner)
    assert body["status"] == "error"
    assert [i["element_id"] for i in body["incidents"]] == ["prepare_review"]
    assert _task(body, "submit_application")["id"] == submit["id"]  # the work is not lost
    # Retrying without fixing the cause records the failure again, still no 500.
    _error(client.post(f"{API}/process-instances/{instance['id']}/retry", headers=owner), 409)
    assert _instance(client, instance["id"], owner)["status"] == "error"


def test_oversized_values_are_refused_not_500(client: FlaskClient, tokens: Tokens) -> None:
    """Values that would overflow a column or an integer answer 4xx (they were 500s)."""
    ent, owner = tokens("ent_chengxi"), tokens("owner")
    instance_id = _start(client, ent)["id"]
    for url in (f"{API}/process-instances?page={10**20}", f"{API}/tasks?page={2**62}"):
        assert "page" in _error(client.get(url, headers=ent), 422)["details"]["fields"]
    last = client.get(f"{API}/tasks?page=1000000", headers=ent)  # the highest page: empty
    assert last.status_code == 200 and last.json["items"] == []
    long_pid = _deploy(client, owner, **{"review_case.bpmn": '"review_case"=>"p' + "x" * 80 + '"'})
    assert _error(long_pid, 422)["details"]["errors"][0]["element_id"].startswith("pxxx")
    long_id = _deploy(client, owner, **{"review_case.bpmn": "review_application=>" + "r" * 200})
    _error(long_id, 422)
    long_message = _deploy(
        client, owner, **{"review_case.bpmn": 'name="dept_confirmation"=>name="' + "m" * 200 + '"'}
    )
    assert _error(long_message, 422)["details"]["errors"][0]["element_id"] == "wait_confirmation"
    title = _deploy(client, owner, **{"review_case.bpmn": '="测试审核流程"=>="' + "题" * 300 + '"'})
    assert title.status_code == 201, title.text
    listed = client.get(f"{API}/process-definitions", headers=owner).json["items"]
    assert [len(d["name"]) for d in listed if d["key"] == "review_case"] == [200]
    names = _deploy(client, owner, **{"review_case.bpmn": '="提交申请"=>="' + "名" * 300 + '"'})
    assert names.status_code == 201, names.text
    started = _start(client, ent)  # the inbox row keeps the first 200 characters of the name
    assert len(_task(started, "submit_application")["name"]) == 200
    terminate = f"{API}/process-instances/{instance_id}/terminate"
    assert client.post(terminate, json=["not", "an", "object"], headers=owner).status_code == 200


def test_task_details_show_rendered_instructions_and_data(client, seeded) -> None:  # type: ignore[no-untyped-def]
    from app.models import CreditRecord, Subject
    from app.services.definitions import deploy_bundle, read_bundle_dir
    from tests.engine_fixtures import BUNDLES

    deploy_bundle(seeded, read_bundle_dir(BUNDLES.parent.parent / "bpmn"))
    seeded.commit()
    chengxi = seeded.query(Subject).filter_by(uscc="91310114MA1GT8QX92").one()
    record = seeded.query(CreditRecord).filter_by(subject_id=chengxi.id).first()
    headers = api_token(client, "ent_chengxi")
    started = client.post(
        "/api/v1/process-instances",
        headers=headers,
        json={"process_key": "credit_repair", "data": {"record_ids": [record.id]}},
    )
    assert started.status_code == 201, started.text
    task_id = started.json["tasks"][0]["id"]
    details = client.get(f"/api/v1/tasks/{task_id}", headers=headers).json
    assert details["form"]["type"] == "object"
    english = client.get(f"/api/v1/tasks/{task_id}?lang=en", headers=headers).json["form"]
    assert details["form"]["title"] != english["title"] and english["title"].isascii()
    assert english["properties"].keys() == details["form"]["properties"].keys()
    assert isinstance(details["data"], dict) and details["data"]
    assert details["instructions"] is None or "{{" not in details["instructions"]
