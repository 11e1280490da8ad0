"""The OpenAPI 3.1 document (/api/v1/openapi.json) against the app it describes.

- every /api/v1 route of the app is in the document and every documented path is a route;
- the document is valid OpenAPI 3.1 (openapi-spec-validator);
- every endpoint, on its happy path and its main refusals, answers a documented status with a
  body that validates against the documented schema (tests/api/openapi_conformance.py);
- /api/docs lists every operation without JavaScript, and loads Swagger UI when it is built;
- both are bilingual: Chinese by default, English with `?lang=en` (or the session's language),
  the English document without a Chinese character outside its example values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
from sqlalchemy.orm import Session

from app.api import openapi
from app.api.openapi import openapi_document
from app.engine import clock
from app.models import Document, ProcessInstance
from app.services import documents, handlers
from tests.api.openapi_conformance import PREFIX, Conformance
from tests.api.token_helpers import Headers, integration, personal
from tests.engine_fixtures import BUNDLES
from tests.scenarios.test_credit_repair import NOW
from tests.web.test_verify import decided, issue  # noqa: F401 - `decided` is a fixture

API = PREFIX
CHENGXI = "91310114MA1GT8QX92"
HAIAN = "91370200MADD272H4F"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
RULE_PART = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def _templates(rule: str) -> list[str]:
    """An url_map rule as OpenAPI path templates (`any(a,b)` gives one path per choice)."""
    paths = [""]
    pos = 0
    for match in RULE_PART.finditer(rule):
        literal = rule[pos : match.start()]
        converter, args, name = match.groups()
        if converter == "any":
            choices = [c.strip().strip("'\"") for c in (args or "").split(",")]
            paths = [p + literal + c for p in paths for c in choices]
        else:
            paths = [p + literal + "{" + name + "}" for p in paths]
        pos = match.end()
    return [p + rule[pos:] for p in paths]


def _app_operations(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/"):
            continue
        for method in rule.methods or ():
            if method in ("HEAD", "OPTIONS"):
                continue
            for template in _templates(rule.rule):
                found.add((method, template[len(API) :]))
    return found


def test_every_route_is_documented_and_every_documented_path_exists(app: Flask) -> None:
    doc = openapi_document()
    documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    routes = _app_operations(app)
    assert sorted(routes - documented) == [], "routes missing from the OpenAPI document"
    assert sorted(documented - routes) == [], "documented operations that are not routes"


def test_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert doc == openapi_document()
    assert doc["openapi"].startswith("3.1")
    validate(doc, cls=OpenAPIV31SpecValidator)


def test_document_conventions() -> None:
    doc = openapi_document()
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    error_ref = {"$ref": "#/components/schemas/Error"}
    for response in doc["components"]["responses"].values():
        assert response["content"]["application/json"]["schema"] == error_ref
    for path, item in doc["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            statuses = set(op["responses"])
            assert any(s.startswith("2") for s in statuses), where
            if op.get("security") != []:
                assert {"401", "403"} <= statuses, where
                assert "集成令牌" in op["description"], where
            if "requestBody" in op:
                assert {"413"} <= statuses, where
            for name, response in op["responses"].items():
                if name.startswith(("4", "5")) and "$ref" in response:
                    assert response["$ref"].startswith("#/components/responses/"), where
    scoped = {
        (m.upper(), p): op["x-scopes"]
        for p, item in doc["paths"].items()
        for m, op in item.items()
        if "x-scopes" in op
    }
    assert scoped == {
        ("GET", "/process-definitions"): ["read"],
        ("GET", "/subjects/{uscc}/records"): ["read"],
        ("POST", "/messages"): ["messages:send"],
        ("POST", "/records"): ["records:import"],
    }


# --- responses conform to the document ---------------------------------------------------


def _bundle(**replace: str) -> dict[str, Any]:
    files = []
    for path in sorted((BUNDLES / "review_case").iterdir()):
        body = path.read_bytes()
        for old, new in replace.items():
            body = body.replace(old.encode(), new.encode())
        files.append((BytesIO(body), path.name))
    return {"data": {"files": files}, "content_type": "multipart/form-data"}


def _upload(content: bytes | None, **form: str) -> dict[str, Any]:
    data: dict[str, Any] = dict(form)
    if content is not None:
        data["file"] = (BytesIO(content), "材料.pdf")
    return {"data": data, "content_type": "multipart/form-data"}


@pytest.fixture()
def api(client: FlaskClient) -> Conformance:
    return Conformance(client)


@pytest.fixture()
def users(seeded: Session) -> Iterator[dict[str, Headers]]:
    names = ("ent_chengxi", "ent_haian", "rev_samr", "lead_samr", "owner", "admin")
    yield {name: personal(seeded, name) for name in names}


def test_every_operation_conforms(
    api: Conformance, users: dict[str, Headers], seeded: Session
) -> None:
    ent, haian, rev, lead = (
        users[u] for u in ("ent_chengxi", "ent_haian", "rev_samr", "lead_samr")
    )
    owner, admin = users["owner"], users["admin"]

    # authentication and the document
    assert (
        api.post(f"{API}/auth/token", json={"username": "rev_samr", "password": "demo12345"})
    ).status_code == 200
    wrong = {"username": "rev_samr", "password": "wrong-password"}
    assert api.post(f"{API}/auth/token", json=wrong).status_code == 401
    assert api.post(f"{API}/auth/token", json={"username": "x"}).status_code == 422
    assert api.post(f"{API}/auth/token", data="x").status_code == 400
    assert api.get(f"{API}/openapi.json").status_code == 200

    # process definitions
    assert api.get(f"{API}/process-definitions").status_code == 401
    bad_token = {"Authorization": "Bearer cf_nope"}
    assert api.get(f"{API}/process-definitions", headers=bad_token).status_code == 401
    assert api.post(f"{API}/process-definitions", headers=ent, **_bundle()).status_code == 403
    assert api.post(f"{API}/process-definitions", headers=owner, **_bundle()).status_code == 201
    assert api.post(f"{API}/process-definitions", headers=owner, **_bundle()).status_code == 200
    empty = {"data": {}, "content_type": "multipart/form-data"}
    assert api.post(f"{API}/process-definitions", headers=owner, **empty).status_code == 422
    hostile = _bundle(**{"checked = True": "checked = __import__('os')"})
    assert api.post(f"{API}/process-definitions", headers=owner, **hostile).status_code == 422
    listed = api.get(f"{API}/process-definitions?all=1&key=review_case", headers=ent)
    assert listed.status_code == 200 and listed.json["total"] == 1
    assert api.get(f"{API}/process-definitions?per_page=0", headers=ent).status_code == 422

    # process instances
    start = {"process_key": "review_case", "data": {}}
    created = api.post(f"{API}/process-instances", json=start, headers=ent)
    assert created.status_code == 201
    instance_id = created.json["id"]
    submit = next(t for t in created.json["tasks"] if t["state"] == "ready")
    assert api.post(f"{API}/process-instances", json=start, headers=owner).status_code == 403
    unknown_key = {"process_key": "nope", "data": {}}
    assert api.post(f"{API}/process-instances", json=unknown_key, headers=ent).status_code == 404
    assert api.post(f"{API}/process-instances", json={}, headers=ent).status_code == 422
    assert api.post(f"{API}/process-instances", data="x", headers=ent).status_code == 400
    assert api.get(f"{API}/process-instances", headers=ent).json["total"] == 1
    filtered = api.get(
        f"{API}/process-instances?status=running&subject_uscc={CHENGXI}", headers=ent
    )
    assert filtered.json["total"] == 1
    assert api.get(f"{API}/process-instances?status=bogus", headers=ent).status_code == 422
    assert api.get(f"{API}/process-instances/{instance_id}", headers=ent).status_code == 200
    assert api.get(f"{API}/process-instances/{instance_id}", headers=haian).status_code == 404

    # attachments
    attach = f"{API}/process-instances/{instance_id}/attachments"
    assert api.post(attach, headers=ent, **_upload(PDF, kind="license")).status_code == 201
    assert api.post(attach, headers=ent, **_upload(b"hello", kind="license")).status_code == 415
    assert api.post(attach, headers=ent, **_upload(None, kind="license")).status_code == 422
    assert api.post(attach, headers=haian, **_upload(PDF, kind="license")).status_code == 404
    with_files = api.get(f"{API}/process-instances/{instance_id}", headers=ent)
    assert len(with_files.json["attachments"]) == 1

    # tasks
    task_url = f"{API}/tasks/{submit['id']}"
    assert api.get(task_url, headers=ent).status_code == 200
    assert api.get(f"{API}/tasks/no-such-task", headers=ent).status_code == 404
    invalid = {"data": {"claim": "x", "extra": 1}}
    assert api.post(f"{task_url}/complete", json=invalid, headers=ent).status_code == 422
    assert api.post(f"{task_url}/complete", data="x", headers=ent).status_code == 400
    done = api.post(f"{task_url}/complete", json={"data": {"claim": "请求修复"}}, headers=ent)
    assert done.status_code == 200
    again = api.post(f"{task_url}/complete", json={"data": {"claim": "请求修复"}}, headers=ent)
    assert again.status_code == 409
    inbox = api.get(f"{API}/tasks?scope=candidate&process_key=review_case", headers=rev)
    (review,) = [t for t in inbox.json["items"] if t["instance_id"] == instance_id]
    assert api.get(f"{API}/tasks?due_before=2000-01-01", headers=rev).json["total"] == 0
    assert api.get(f"{API}/tasks?scope=everything", headers=rev).status_code == 422
    assert api.get(f"{API}/tasks?state=completed&scope=mine", headers=ent).json["total"] == 1
    review_url = f"{API}/tasks/{review['id']}"
    detail = api.get(review_url, headers=rev)
    assert detail.status_code == 200 and detail.json["form"]["type"] == "object"
    assert api.post(f"{review_url}/claim", headers=lead).status_code == 403
    assert api.post(f"{review_url}/claim", headers=rev).status_code == 200
    assert api.post(f"{review_url}/unclaim", headers=rev).status_code == 200
    assert api.post(f"{API}/tasks/nope/claim", headers=rev).status_code == 404
    assert api.post(f"{API}/tasks/nope/unclaim", headers=rev).status_code == 404
    maybe = {"data": {"decision": "maybe"}}
    assert api.post(f"{review_url}/complete", json=maybe, headers=rev).status_code == 422
    approve = {"data": {"decision": "approve", "opinion": "同意"}}
    assert api.post(f"{review_url}/complete", json=approve, headers=rev).status_code == 200

    # messages
    message = {
        "name": "dept_confirmation",
        "correlation": {"case_id": instance_id},
        "payload": {"ok": True},
        "message_id": "conformance-1",
    }
    assert api.post(f"{API}/messages", json=message, headers=ent).status_code == 403
    lost = {**message, "correlation": {"case_id": instance_id + 1000}, "message_id": "c-2"}
    assert api.post(f"{API}/messages", json=lost, headers=rev).status_code == 404
    assert api.post(f"{API}/messages", json={"name": "x"}, headers=rev).status_code == 422
    assert api.post(f"{API}/messages", data="x", headers=rev).status_code == 400
    assert api.post(f"{API}/messages", json=message, headers=rev).status_code == 202
    assert api.post(f"{API}/messages", json=message, headers=rev).status_code == 202
    sender = integration(seeded, "messages:send")
    repeat = api.post(f"{API}/messages", json=message, headers=sender)
    assert repeat.status_code == 202

    # operations and migration on a second instance
    second = api.post(f"{API}/process-instances", json=start, headers=ent).json["id"]
    base = f"{API}/process-instances/{second}"
    assert api.post(f"{base}/suspend", headers=rev).status_code == 403
    assert api.post(f"{base}/retry", headers=owner).status_code == 409
    assert api.post(f"{base}/suspend", headers=owner).status_code == 200
    assert api.post(f"{base}/resume", headers=owner).status_code == 200
    assert api.post(f"{API}/process-instances/999999/suspend", headers=owner).status_code == 404
    changed = _bundle(**{"审核意见": "处理意见"})
    assert api.post(f"{API}/process-definitions", headers=owner, **changed).status_code == 201
    assert api.get(f"{base}/migration", headers=owner).status_code == 200
    assert api.get(f"{base}/migration?to=99", headers=owner).status_code in (404, 422)
    assert api.get(f"{base}/migration", headers=rev).status_code == 403
    assert api.post(f"{base}/migrate", json={"to": "x"}, headers=owner).status_code == 422
    assert api.post(f"{base}/migrate", json=[1], headers=owner).status_code in (400, 422)
    assert api.post(f"{base}/migrate", json={}, headers=owner).status_code == 200
    assert api.post(f"{API}/process-instances/999999/migrate", headers=owner).status_code == 404
    ended = api.post(f"{base}/terminate", json={"reason": "撤回"}, headers=owner)
    assert ended.status_code == 200 and ended.json["status"] == "terminated"
    assert api.post(f"{base}/terminate", headers=owner).status_code == 409
    assert api.post(f"{base}/migrate", json={}, headers=owner).status_code == 409

    # credit records of a subject
    records = f"{API}/subjects/{CHENGXI}/records"
    assert api.get(records, headers=ent).json["total"] == 5
    published = api.get(
        f"{records}?status=published&record_type=administrative_penalty", headers=rev
    )
    assert 0 < published.json["total"] <= 5
    assert api.get(f"{records}?record_type=nope", headers=ent).status_code == 422
    assert api.get(f"{API}/subjects/{HAIAN}/records", headers=ent).status_code == 404
    assert api.get(f"{API}/subjects/123/records", headers=ent).status_code == 422
    reader = integration(seeded, "read")
    assert api.get(records, headers=reader).status_code == 200
    assert api.get(f"{API}/tasks", headers=reader).status_code == 403

    # record import (integration tokens with records:import, admins)
    row = {
        "uscc": CHENGXI,
        "subject_name": "上海澄溪示例食品有限公司",
        "record_type": "administrative_penalty",
        "severity": "general",
        "decision_no": "嘉市监处罚〔2026〕9901号",
        "department": "samr",
        "decided_on": "2026-05-12",
    }
    batch = {"records": [row, {**row, "uscc": "bad", "decision_no": "x-2"}]}
    imported = api.post(f"{API}/records", json=batch, headers=admin)
    assert imported.status_code == 200
    assert [r["result"] for r in imported.json["results"]] == ["created", "rejected"]
    importer = integration(seeded, "records:import")
    assert api.post(f"{API}/records", json=batch, headers=importer).status_code == 200
    assert api.post(f"{API}/records", json=batch, headers=ent).status_code == 403
    assert api.post(f"{API}/records", json={"records": []}, headers=admin).status_code == 422
    too_many = {"records": [row] * 501}
    assert api.post(f"{API}/records", json=too_many, headers=admin).status_code == 413
    assert api.post(f"{API}/records", data="x", headers=admin).status_code == 415

    # documents: unknown serials (issued ones: test_document_responses_conform)
    assert api.get(f"{API}/documents/nope", headers=ent).status_code == 404
    assert api.get(f"{API}/verify/nope").status_code == 404

    missing_2xx = {
        op
        for op in api.operations()
        if not any((m, p) == op and s.startswith("2") for m, p, s in api.seen)
    }
    assert missing_2xx == {
        ("GET", "/documents/{serial}"),  # test_document_responses_conform
        ("GET", "/verify/{serial}"),
        ("POST", "/process-instances/{instance_id}/retry"),  # test_retry_after_an_incident…
    }
    statuses = {s for _, _, s in api.seen}
    assert {"400", "401", "403", "404", "409", "413", "415", "422"} <= statuses


def test_retry_after_an_incident_conforms(
    api: Conformance, users: dict[str, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = {"down": True}

    def flaky(ctx: handlers.HandlerContext, params: dict[str, object]) -> object:
        if outage["down"]:
            raise ConnectionError("平台接口暂时不可用")
        return params

    monkeypatch.setitem(handlers.HANDLERS, "test.flaky_notify", flaky)
    ent, rev, owner = users["ent_chengxi"], users["rev_samr"], users["owner"]
    bundle = _bundle(**{'id="system.echo"': 'id="test.flaky_notify"'})
    assert api.post(f"{API}/process-definitions", headers=owner, **bundle).status_code == 201
    start = {"process_key": "review_case", "data": {}}
    instance = api.post(f"{API}/process-instances", json=start, headers=ent).json
    (submit,) = [t for t in instance["tasks"] if t["state"] == "ready"]
    claim = {"data": {"claim": "请求修复"}}
    assert (
        api.post(f"{API}/tasks/{submit['id']}/complete", json=claim, headers=ent).status_code == 200
    )
    inbox = api.get(f"{API}/tasks?process_key=review_case", headers=rev).json["items"]
    (review,) = [t for t in inbox if t["instance_id"] == instance["id"]]
    approve = {"data": {"decision": "approve"}}
    failed = api.post(f"{API}/tasks/{review['id']}/complete", json=approve, headers=rev)
    assert failed.status_code == 409 and failed.json["error"]["code"] == "process_incident"
    base = f"{API}/process-instances/{instance['id']}"
    errored = api.get(base, headers=owner).json
    assert errored["status"] == "error" and errored["incidents"]
    assert api.post(f"{base}/retry", headers=owner).status_code == 409  # still down
    outage["down"] = False
    retried = api.post(f"{base}/retry", headers=owner)
    assert retried.status_code == 200 and retried.json["status"] == "running"


def test_rate_limited_token_requests_conform(api: Conformance, seeded: Session) -> None:
    wrong = {"username": "nobody", "password": "wrong-password"}
    answers = [api.post(f"{API}/auth/token", json=wrong).status_code for _ in range(30)]
    assert 429 in answers and set(answers) <= {401, 429}


@pytest.fixture()
def doc(seeded: Session, app: Flask, decided: ProcessInstance) -> Iterator[Document]:  # noqa: F811
    with clock.frozen_at(NOW):
        yield issue(seeded, app, decided)


def test_document_responses_conform(
    api: Conformance, users: dict[str, Headers], doc: Document
) -> None:
    serial = documents.serial_path(doc.serial)
    assert api.get(f"{API}/verify/{serial}").status_code == 200
    downloaded = api.get(f"{API}/documents/{serial}", headers=users["ent_chengxi"])
    assert downloaded.status_code == 200 and downloaded.data.startswith(b"%PDF")
    downloaded.close()
    assert api.get(f"{API}/documents/{serial}", headers=users["ent_haian"]).status_code == 404


# --- the page ------------------------------------------------------------------------------


def test_docs_page_lists_every_operation_without_javascript(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openapi, "swagger_bundle_built", lambda: False)
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.text
    assert "<title>接口文档" in page and "swagger-ui-bundle.js" not in page
    for row in openapi.operations():
        assert f'<code class="path">{row["path"]}</code>' in page
        assert row["summary"] in page
    assert "/api/v1/openapi.json" in page


def test_docs_page_loads_swagger_ui_when_built(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openapi, "swagger_bundle_built", lambda: True)
    page = client.get("/api/docs").text
    assert "dist/apidocs/swagger-ui-bundle.js" in page and "dist/apidocs/swagger-ui.css" in page
    assert 'id="api-list"' in page  # still there for readers without JavaScript


# --- the document in both languages --------------------------------------------------------

HAN = re.compile(r"[\u3400-\u9fff]")
# Han characters and the full-width punctuation that goes with them (，。：；（）、…).
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
TEXT_KEYS = ("title", "summary", "description")
# Values that are data, not prose: they may stay Chinese on purpose in either language.
DATA_KEYS = ("example", "examples", "default", "const", "enum")


def _strings(node: Any, where: str = "") -> Iterator[tuple[str, str, str]]:
    """(where, key, text) of every string of the document outside example and enum values."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in DATA_KEYS:
                continue
            if isinstance(value, str):
                yield f"{where}/{key}", key, value
            else:
                yield from _strings(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, str):
                yield f"{where}/{i}", "", value
            else:
                yield from _strings(value, f"{where}/{i}")


def _texts(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(where, text) for where, key, text in _strings(doc) if key in TEXT_KEYS]


def _without_texts(node: Any) -> Any:
    """The document without its prose and its tag names (prose as well)."""
    if isinstance(node, dict):
        return {
            key: _without_texts(value)
            for key, value in node.items()
            if key != "tags" and not (key in TEXT_KEYS and isinstance(value, str))
        }
    if isinstance(node, list):
        return [_without_texts(value) for value in node]
    return node


def test_english_document_has_no_chinese_text(client: FlaskClient) -> None:
    response = client.get(f"{API}/openapi.json?lang=en")
    assert response.status_code == 200 and response.headers["Content-Language"] == "en"
    doc = response.get_json()
    assert doc == openapi_document("en")
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert len(_texts(doc)) > 140
    chinese = [(where, text) for where, _, text in _strings(doc) if CHINESE.search(text)]
    assert chinese == [], "Chinese left in the English document"
    tags = [t["name"] for t in doc["tags"]]
    assert "Authentication" in tags and "Tasks" in tags
    used = {op["tags"][0] for item in doc["paths"].values() for op in item.values()}
    assert used == set(tags)
    assert "?lang=en" in doc["info"]["description"]
    get_openapi = doc["paths"]["/openapi.json"]["get"]
    assert get_openapi["summary"] == "OpenAPI 3.1 document of this API"
    records = doc["paths"]["/records"]["post"]["description"]
    assert "1–500 records per batch" in records and "records:import" in records


def test_chinese_document_is_the_default(client: FlaskClient) -> None:
    default = client.get(f"{API}/openapi.json")
    assert default.headers["Content-Language"] == "zh-CN"
    doc = default.get_json()
    assert doc == openapi_document("zh_CN") == client.get(f"{API}/openapi.json?lang=zh_CN").json
    validate(doc, cls=OpenAPIV31SpecValidator)
    texts = _texts(doc)
    assert len(texts) > 140
    assert [(where, text) for where, text in texts if not HAN.search(text)] == []
    assert "认证" in {t["name"] for t in doc["tags"]}
    # an unsupported language is Chinese as well
    assert client.get(f"{API}/openapi.json?lang=fr").json == doc


def test_both_languages_describe_the_same_api(app: Flask) -> None:
    with app.app_context():
        chinese, english = openapi_document("zh_CN"), openapi_document("en")
    assert _without_texts(chinese) == _without_texts(english)
    assert len(_texts(chinese)) == len(_texts(english))
    # every text is translated: none is the same in both
    same = [
        where
        for (where, zh), (_, en) in zip(_texts(chinese), _texts(english), strict=True)
        if zh == en
    ]
    assert same == []
    assert openapi.LOCALES == tuple(app.config["BABEL_SUPPORTED_LOCALES"])
    # without an application context there are no translations: Chinese, or an error
    assert openapi_document() == chinese
    with pytest.raises(RuntimeError):
        openapi_document("en")


def test_document_follows_the_language_of_the_session(client: FlaskClient) -> None:
    assert client.get("/api/docs?lang=en").status_code == 200  # remembered in the session
    english = client.get(f"{API}/openapi.json")
    assert english.headers["Content-Language"] == "en"
    assert english.json == openapi_document("en")
    assert client.get(f"{API}/openapi.json?lang=zh_CN").json == openapi_document("zh_CN")
    assert client.get(f"{API}/openapi.json").json == openapi_document("zh_CN")


def test_docs_page_in_english(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openapi, "swagger_bundle_built", lambda: True)
    page = client.get("/api/docs?lang=en").text
    assert "<title>API documentation" in page
    assert openapi_document("en")["info"]["title"] in page
    for row in openapi.operations("en"):
        assert row["summary"] in page
        assert not HAN.search(row["summary"] + row["description"]), row["path"]
    # Swagger UI and the JSON link load the document in the page's language
    assert 'url: "/api/v1/openapi.json?lang=en"' in page
    assert 'href="/api/v1/openapi.json?lang=en"' in page
    chinese = client.get("/api/docs?lang=zh_CN").text
    assert 'url: "/api/v1/openapi.json?lang=zh_CN"' in chinese
    assert "以用户名和密码换取访问令牌" in chinese
