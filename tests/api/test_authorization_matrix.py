"""Authorization matrix: every /api/v1 endpoint × every role × another subject's data.

The endpoint list comes from `app.url_map`; an endpoint missing from MATRIX fails the run,
so a new endpoint must be given its row here. Each probe acts on 上海澄溪 (ent_chengxi's
subject) with seeded demo data and real instances started through the services:

- anonymous: no token;
- ent_own: ent_chengxi; ent_other: ent_haian (another subject) asking for 澄溪's data;
- appr_dept: rev_samr (reviewer of SAMR, the department of the review task);
  appr_other: rev_tax (reviewer of another department);
- owner (process owner), admin;
- int_<scope>: an integration token of the admin holding exactly one scope (none: no scope).

Expected statuses follow CONTRACT §5 and the brief of issue 8 (integration tokens reach only
the endpoints of their scopes). Every refusal (401/403/404), and every answer to ent_other,
must not contain 澄溪's USCC, name or decision numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.extensions import limiter
from app.models import CreditRecord, Subject
from app.services import documents, instances, tasks
from tests.api.token_helpers import Headers, integration, personal
from tests.conftest import SEED_DAY
from tests.engine_fixtures import BUNDLES, deploy_test_bundle, only_task, user

NOW = datetime.combine(SEED_DAY, time(10, 0), ZoneInfo("Asia/Shanghai"))
CHENGXI = "91310114MA1GT8QX92"
API = "/api/v1"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

PERSONAL = {
    "ent_own": "ent_chengxi",
    "ent_other": "ent_haian",
    "appr_dept": "rev_samr",
    "appr_other": "rev_tax",
    "owner": "owner",
    "admin": "admin",
}
INTEGRATION = {
    "int_read": ("read",),
    "int_import": ("records:import",),
    "int_send": ("messages:send",),
    "int_none": (),
}
ROLES = ("anonymous", *PERSONAL, *INTEGRATION)


def expect(personal: int, anonymous: int = 401, **overrides: int) -> dict[str, int]:
    """Statuses per role: `personal` for every personal token, 403 for integration tokens."""
    table = {role: personal for role in PERSONAL}
    table.update(dict.fromkeys(INTEGRATION, 403))
    table["anonymous"] = anonymous
    table.update(overrides)
    assert set(table) == set(ROLES), set(table) ^ set(ROLES)
    return table


@dataclass
class World:
    """澄溪's data as seeded, plus real instances, a task and an issued document."""

    session: Session
    app: Flask
    headers: dict[str, Headers]
    instance_id: int  # review_case of 澄溪, waiting in SAMR's review task
    review_task: str
    waiting_id: int  # review_case of 澄溪, approved, waiting for dept_confirmation
    serial: str
    secrets: list[str] = field(default_factory=list)  # what must never reach others
    counter: Iterator[int] = field(default_factory=itertools.count)

    def started(self) -> tuple[int, str]:
        """A fresh 澄溪 instance: (id, its ready enterprise task)."""
        actor = user(self.session, "ent_chengxi")
        instance = instances.start_instance(self.session, "review_case", {}, actor)
        self.session.commit()
        return instance.id, only_task(self.session, instance.id, "submit_application").id

    def submitted(self, claimed_by: str | None = None) -> tuple[int, str]:
        """A fresh 澄溪 instance whose SAMR review task is ready (optionally claimed)."""
        instance_id, submit = self.started()
        tasks.complete(
            self.session, submit, {"claim": "请求修复"}, user(self.session, "ent_chengxi")
        )
        self.session.commit()
        review = only_task(self.session, instance_id, "review_application")
        if claimed_by:
            tasks.claim(self.session, review.id, user(self.session, claimed_by))
            self.session.commit()
        return instance_id, review.id

    def next(self) -> int:
        return next(self.counter)


Path_ = Callable[[World], str]
Body = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Probe:
    method: str
    path: Path_
    expected: dict[str, int]
    body: Body | None = None
    note: str = ""


def _json(data: Any) -> Body:
    return lambda w: {"json": data(w) if callable(data) else data}


def _bundle(w: World) -> dict[str, Any]:
    files = [(BytesIO(p.read_bytes()), p.name) for p in sorted((BUNDLES / "review_case").iterdir())]
    return {"data": {"files": files}, "content_type": "multipart/form-data"}


def _attachment(w: World) -> dict[str, Any]:
    return {
        "data": {"file": (BytesIO(PDF), "证明.pdf"), "kind": "履行义务证明"},
        "content_type": "multipart/form-data",
    }


def _import_row(w: World) -> dict[str, Any]:
    row = {
        "uscc": CHENGXI,
        "subject_name": "上海澄溪示例食品有限公司",
        "record_type": "administrative_penalty",
        "severity": "general",
        "decision_no": "嘉市监处罚〔2026〕8801号",
        "department": "samr",
        "decided_on": "2026-06-01",
    }
    return {"json": {"records": [row]}}


def _confirmation(w: World) -> dict[str, Any]:
    # The same message id every time: the first allowed caller delivers, the rest repeat it.
    return {
        "json": {
            "name": "dept_confirmation",
            "correlation": {"case_id": w.waiting_id},
            "payload": {"ok": True},
            "message_id": "matrix-confirmation",
        }
    }


def _fresh_instance(w: World) -> str:
    return f"{API}/process-instances/{w.started()[0]}"


# endpoint → method → probe. Statuses: CONTRACT §5; see the module docstring for the roles.
MATRIX: dict[tuple[str, str], Probe] = {
    ("api.create_token", "POST"): Probe(
        "POST",
        lambda w: f"{API}/auth/token",
        expect(200, anonymous=200),
        _json({"username": "ent_chengxi", "password": "demo12345"}),
        "credentials, not the bearer token, decide; an integration token is refused outright",
    ),
    ("api.openapi_json", "GET"): Probe(
        "GET", lambda w: f"{API}/openapi.json", expect(200, anonymous=200, int_read=200)
    ),
    ("api.list_definitions", "GET"): Probe(
        "GET", lambda w: f"{API}/process-definitions", expect(200, int_read=200)
    ),
    ("api.deploy_definitions", "POST"): Probe(
        "POST",
        lambda w: f"{API}/process-definitions",
        # The bundle is already deployed: 200 "nothing new" for those who may deploy.
        expect(403, owner=200, admin=200),
        _bundle,
    ),
    ("api.document_pdf", "GET"): Probe(
        "GET",
        lambda w: f"{API}/documents/{w.serial}",
        expect(200, ent_other=404, appr_other=404),
    ),
    ("api.verify", "GET"): Probe(
        "GET", lambda w: f"{API}/verify/{w.serial}", expect(200, anonymous=200, int_read=200)
    ),
    ("api.start_instance", "POST"): Probe(
        "POST",
        lambda w: f"{API}/process-instances",
        # ent_other starts a case of its own subject: subject_uscc is ignored for enterprises.
        expect(201, owner=403),
        _json({"process_key": "review_case", "data": {}, "subject_uscc": CHENGXI}),
    ),
    ("api.list_instances", "GET"): Probe(
        "GET", lambda w: f"{API}/process-instances?subject_uscc={CHENGXI}", expect(200)
    ),
    ("api.get_instance", "GET"): Probe(
        "GET",
        lambda w: f"{API}/process-instances/{w.instance_id}",
        expect(200, ent_other=404, appr_other=404),
    ),
    ("api.operate", "POST"): Probe(
        "POST",
        lambda w: _fresh_instance(w) + "/suspend",
        expect(403, owner=200, admin=200),
    ),
    ("api.upload_attachment", "POST"): Probe(
        "POST",
        lambda w: f"{API}/process-instances/{w.instance_id}/attachments",
        expect(201, ent_other=404, appr_other=404),
        _attachment,
    ),
    ("api.post_message", "POST"): Probe(
        "POST",
        lambda w: f"{API}/messages",
        expect(202, ent_own=403, ent_other=403, owner=403, int_send=202),
        _confirmation,
    ),
    ("api.migration_dry_run", "GET"): Probe(
        "GET",
        lambda w: f"{API}/process-instances/{w.instance_id}/migration",
        expect(403, owner=200, admin=200),
    ),
    ("api.migrate_instance", "POST"): Probe(
        "POST",
        lambda w: _fresh_instance(w) + "/migrate",
        # Allowed, but the instance is already on the latest version: 409 with the reason.
        expect(403, owner=409, admin=409),
        _json({}),
    ),
    ("api.subject_records", "GET"): Probe(
        "GET",
        lambda w: f"{API}/subjects/{CHENGXI}/records",
        # "that enterprise, approvers" (CONTRACT §5) and admins; a process owner is not one.
        expect(200, ent_other=404, owner=404, int_read=200),
    ),
    ("api.import_records", "POST"): Probe(
        "POST",
        lambda w: f"{API}/records",
        expect(403, admin=200, int_import=200),
        _import_row,
    ),
    ("api.list_tasks", "GET"): Probe("GET", lambda w: f"{API}/tasks?scope=all", expect(200)),
    ("api.get_task", "GET"): Probe(
        "GET",
        lambda w: f"{API}/tasks/{w.review_task}",
        # An enterprise sees only its own enterprise-lane tasks.
        expect(200, ent_own=404, ent_other=404, appr_other=404),
    ),
    ("api.claim_task", "POST"): Probe(
        "POST",
        lambda w: f"{API}/tasks/{w.submitted()[1]}/claim",
        # Owners and admins may see the task but are not its candidates.
        expect(403, ent_own=404, ent_other=404, appr_dept=200, appr_other=404),
    ),
    ("api.unclaim_task", "POST"): Probe(
        "POST",
        lambda w: f"{API}/tasks/{w.submitted(claimed_by='rev_samr')[1]}/unclaim",
        # Only the holder (or a leader of its department) gives it back; others: 409.
        expect(409, ent_own=404, ent_other=404, appr_dept=200, appr_other=404),
    ),
    ("api.complete_task", "POST"): Probe(
        "POST",
        lambda w: f"{API}/tasks/{w.started()[1]}/complete",
        # The enterprise task of a case no department has touched yet: only 澄溪 may see
        # and do it; approvers do not take part in the case yet (404, like an unknown task).
        expect(403, ent_own=200, ent_other=404, appr_dept=404, appr_other=404),
        _json({"data": {"claim": "请求修复"}}),
    ),
}


def _issue_document(session: Session, app: Flask, instance_id: int) -> str:
    document = documents.issue_document(
        session,
        kind="repair_decision",
        instance_id=instance_id,
        context={},
        storage_dir=Path(app.config["STORAGE_DIR"]),
        base_url="https://creditflow.example",
        key=object(),
        renderer=lambda kind, context: PDF,
        signer=lambda pdf, key: pdf,
        qr=lambda url: "<svg/>",
    )
    session.commit()
    return document.serial


@pytest.fixture()
def world(seeded: Session, app: Flask) -> Iterator[World]:
    with clock.frozen_at(NOW):
        deploy_test_bundle(seeded, "review_case")
        headers: dict[str, Headers] = {"anonymous": {}}
        headers.update({role: personal(seeded, name) for role, name in PERSONAL.items()})
        headers.update({role: integration(seeded, *s) for role, s in INTEGRATION.items()})
        w = World(seeded, app, headers, 0, "", 0, "")
        w.instance_id, w.review_task = w.submitted()
        w.waiting_id, review = w.submitted()
        tasks.complete(
            seeded, review, {"decision": "approve", "opinion": "同意"}, user(seeded, "rev_samr")
        )
        seeded.commit()
        w.serial = _issue_document(seeded, app, w.instance_id)
        subject = seeded.scalars(select(Subject).where(Subject.uscc == CHENGXI)).one()
        numbers = seeded.scalars(
            select(CreditRecord.decision_no).where(CreditRecord.subject_id == subject.id)
        ).all()
        w.secrets = [CHENGXI, subject.name, *numbers, "嘉市监处罚〔2026〕8801号"]
        assert len(numbers) >= 5
        yield w


def api_endpoints(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API + "/")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    }


def test_every_api_endpoint_has_a_row(app: Flask) -> None:
    endpoints = api_endpoints(app)
    missing = sorted(endpoints - set(MATRIX))
    assert not missing, f"add these endpoints to MATRIX with their expected statuses: {missing}"
    stale = sorted(set(MATRIX) - endpoints)
    assert not stale, f"MATRIX rows for endpoints that no longer exist: {stale}"


def test_authorization_matrix(client: FlaskClient, world: World, app: Flask) -> None:
    wrong: list[str] = []
    leaks: list[str] = []
    with clock.frozen_at(NOW):
        for key in sorted(api_endpoints(app)):
            probe = MATRIX[key]
            for role in ROLES:
                limiter.reset()  # POST /auth/token is rate-limited per address
                path = probe.path(world)
                kwargs = probe.body(world) if probe.body else {}
                response = client.open(
                    path, method=probe.method, headers=world.headers[role], **kwargs
                )
                status = response.status_code
                text = response.get_data(as_text=status != 200 or "pdf" not in response.mimetype)
                response.close()  # a PDF is streamed from its file
                if status != probe.expected[role]:
                    wrong.append(
                        f"{probe.method} {path} as {role}: {status}, expected "
                        f"{probe.expected[role]}: {str(text)[:200]}"
                    )
                if status >= 500:
                    continue
                if status in (401, 403, 404) or role == "ent_other":
                    if status in (401, 403, 404):
                        error = response.json["error"]
                        assert set(error) == {"code", "message", "details"}, response.text
                    found = [s for s in world.secrets if s in str(text)]
                    if found:
                        leaks.append(f"{probe.method} {path} as {role} ({status}) shows {found}")
    assert not wrong, "\n".join(wrong)
    assert not leaks, "\n".join(leaks)


def test_refusals_do_not_depend_on_whether_the_data_exists(
    client: FlaskClient, world: World
) -> None:
    """Another subject's instance, task, document and records look exactly like unknown ones."""
    haian = world.headers["ent_other"]
    pairs = [
        (f"{API}/process-instances/{world.instance_id}", f"{API}/process-instances/99999"),
        (f"{API}/tasks/{world.review_task}", f"{API}/tasks/00000000-0000-0000-0000-000000000000"),
        (f"{API}/documents/{world.serial}", f"{API}/documents/信修决〔2026〕99999号"),
        (f"{API}/subjects/{CHENGXI}/records", f"{API}/subjects/91350100M000100Y43/records"),
    ]
    for real, unknown in pairs:
        a, b = client.get(real, headers=haian), client.get(unknown, headers=haian)
        assert (a.status_code, a.json) == (b.status_code, b.json) == (404, b.json), real


def test_other_departments_do_not_see_enterprise_tasks_of_a_case(
    client: FlaskClient, world: World
) -> None:
    instance_id, submit = world.started()
    rev_tax = world.headers["appr_other"]
    assert client.get(f"{API}/process-instances/{instance_id}", headers=rev_tax).status_code == 404
    listed = client.get(f"{API}/tasks?scope=all", headers=rev_tax).json["items"]
    assert all(t["instance_id"] != instance_id for t in listed)
    assert client.get(f"{API}/tasks/{submit}", headers=rev_tax).status_code == 404
