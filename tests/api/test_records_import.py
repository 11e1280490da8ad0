"""POST /api/v1/records: batch import from a public credit platform (CONTRACT §5, issue 8).

Validated per row, idempotent on (USCC, decision number), periods from the rule table,
audited per batch, one `records_imported` platform event per subject, scoped tokens.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.engine import clock
from app.extensions import db
from app.models import AuditEvent, CreditRecord, OutboxEvent, Subject
from app.services.records import load_rules
from tests.api.token_helpers import Headers, integration, personal
from tests.conftest import SEED_DAY

URL = "/api/v1/records"
NOW = datetime.combine(SEED_DAY, time(10, 0), ZoneInfo("Asia/Shanghai"))
CHENGXI = "91310114MA1GT8QX92"
NEW = "91310105MAW0RB7FXU"  # synthetic (DOMAIN §8), not in the demo data
NEW_NAME = "上海示例导入贸易有限公司"


@pytest.fixture(autouse=True)
def seed_day() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture()
def admin(seeded: Session) -> Headers:
    return personal(seeded, "admin")


def rows() -> list[dict[str, Any]]:
    return [
        {
            "uscc": CHENGXI,
            "subject_name": "上海澄溪示例食品有限公司",
            "record_type": "administrative_penalty",
            "severity": "general",
            "decision_no": "嘉市监处罚〔2026〕7001号",
            "department": "samr",
            "decided_on": "2026-05-12",
            "published_on": "2026-05-20",
            "violation": "经营标签不符合规定的预包装食品",
            "facts": "当事人销售的预包装食品标签未标注生产日期。",
            "legal_basis": "《中华人民共和国食品安全法》第一百二十五条第一款第（二）项",
            "penalty_types": ["没收违法所得", "罚款"],
            "fine_yuan": "20000",
            "authority": "上海市嘉定区市场监督管理局",
            "platform": "gsxt",
        },
        {
            "uscc": NEW,
            "subject_name": NEW_NAME,
            "record_type": "administrative_penalty",
            "severity": "serious",
            "decision_no": "长发改价处〔2026〕0301号",
            "department": "ndrc",
            "decided_on": "2026-06-01",
            "fine_yuan": 150000.5,
        },
        {
            "uscc": NEW.lower(),  # normalised before use
            "subject_name": NEW_NAME,
            "record_type": "abnormal_operations",
            "decision_no": "长市监异〔2026〕0042号",
            "department": "samr",
            "decided_on": "2026-09-01",
        },
    ]


def post(client: FlaskClient, headers: Headers, records: list[Any]) -> Any:
    return client.post(URL, json={"records": records}, headers=headers)


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _events(session: Session) -> int:
    return _count(session, OutboxEvent, OutboxEvent.name == "records_imported")


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] == code, error
    return error  # type: ignore[no-any-return]


# --- the happy path and idempotency ------------------------------------------------------


def test_valid_batch_creates_records_with_computed_periods(
    client: FlaskClient, seeded: Session, admin: Headers
) -> None:
    response = post(client, admin, rows())
    assert response.status_code == 200, response.text
    body = response.json
    assert body["summary"] == {"created": 3, "unchanged": 0, "updated": 0, "rejected": 0}
    assert [r["index"] for r in body["results"]] == [0, 1, 2]
    assert [r["uscc"] for r in body["results"]] == [CHENGXI, NEW, NEW]
    for result in body["results"]:
        assert result["result"] == "created" and isinstance(result["record_id"], int)
        assert result["errors"] == {}
    subject = seeded.scalar(select(Subject).where(Subject.uscc == NEW))
    assert subject is not None and subject.name == NEW_NAME

    own = client.get(f"/api/v1/subjects/{CHENGXI}/records", headers=personal(seeded, "ent_chengxi"))
    item = next(r for r in own.json["items"] if r["decision_no"] == "嘉市监处罚〔2026〕7001号")
    # Order 107, 一般: repair after 3 months, published at most 1 year (DOMAIN §9 sample).
    assert item["rule_set"] == "SAMR-107" and item["type"] == "administrative_penalty"
    assert (item["repairable_from"], item["public_until"]) == ("2026-08-12", "2027-05-12")
    assert item["status"] == "published" and item["department"] == "samr"
    assert item["published_on"] == "2026-05-20"

    new = client.get(f"/api/v1/subjects/{NEW}/records", headers=admin).json["items"]
    by_no = {r["decision_no"]: r for r in new}
    serious = by_no["长发改价处〔2026〕0301号"]
    assert serious["rule_set"] == "NDRC-36"
    assert (serious["repairable_from"], serious["public_until"]) == ("2027-06-01", "2029-06-01")
    abnormal = by_no["长市监异〔2026〕0042号"]
    assert abnormal["rule_set"] == "EIPR-2014" and abnormal["severity"] is None
    assert (abnormal["repairable_from"], abnormal["public_until"]) == ("2026-09-01", "2029-09-01")

    stored = seeded.get(CreditRecord, body["results"][1]["record_id"])
    assert stored is not None and str(stored.fine_yuan) == "150000.50"
    assert stored.source == "import" and stored.platforms == ["creditchina"]


def test_resending_the_batch_changes_nothing(
    client: FlaskClient, seeded: Session, admin: Headers
) -> None:
    assert post(client, admin, rows()).status_code == 200
    audits, events = _count(seeded, AuditEvent), _events(seeded)
    records = _count(seeded, CreditRecord)
    again = post(client, admin, rows())
    assert again.status_code == 200
    assert again.json["summary"] == {"created": 0, "unchanged": 3, "updated": 0, "rejected": 0}
    assert {r["result"] for r in again.json["results"]} == {"unchanged"}
    assert all(isinstance(r["record_id"], int) for r in again.json["results"])
    seeded.expire_all()
    assert _count(seeded, AuditEvent) == audits
    assert _events(seeded) == events
    assert _count(seeded, CreditRecord) == records


def test_batch_is_audited_and_announced_per_subject(
    client: FlaskClient, seeded: Session, admin: Headers
) -> None:
    before = _events(seeded)
    body = post(client, admin, rows()).json
    entry = seeded.scalars(select(AuditEvent).where(AuditEvent.action == "records.imported")).one()
    assert entry.actor_name == "admin"
    assert entry.details["created"] == 3 and entry.details["rejected"] == 0
    assert entry.details["subjects_created"] == [NEW]
    assert sorted(entry.details["created_ids"]) == sorted(r["record_id"] for r in body["results"])
    events = seeded.scalars(
        select(OutboxEvent).where(OutboxEvent.name == "records_imported").order_by(OutboxEvent.id)
    ).all()
    assert len(events) - before == 2  # one per subject
    by_subject = {e.payload["subject_uscc"]: e.payload for e in events[before:]}
    assert set(by_subject) == {CHENGXI, NEW}
    assert by_subject[NEW]["created"] == 2 and len(by_subject[NEW]["records"]) == 2
    assert all(e.kind == "platform" for e in events)
    # Only the subject's own records are in its event.
    numbers = {r["decision_no"] for r in by_subject[CHENGXI]["records"]}
    assert numbers == {"嘉市监处罚〔2026〕7001号"}


def test_changed_row_is_updated_with_new_periods(
    client: FlaskClient, seeded: Session, admin: Headers
) -> None:
    first = post(client, admin, rows()).json["results"][0]
    changed = {**rows()[0], "severity": "serious", "violation": "生产经营超过保质期的食品"}
    response = post(client, admin, [changed])
    assert response.status_code == 200
    result = response.json["results"][0]
    assert result["result"] == "updated" and result["record_id"] == first["record_id"]
    record = seeded.get(CreditRecord, first["record_id"])
    seeded.refresh(record)
    assert record is not None and record.severity == "serious"
    assert record.repairable_from.isoformat() == "2027-05-12"  # Order 107, 严重: 1 year
    assert record.public_until.isoformat() == "2029-05-12"
    entry = seeded.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "record.import_updated",
            AuditEvent.object_id == str(record.id),
        )
    ).one()
    assert set(entry.details["changed"]) == {"severity", "violation"}
    assert entry.details["changed"]["severity"] == ["general", "serious"]
    # The update itself is idempotent too.
    assert post(client, admin, [changed]).json["summary"]["unchanged"] == 1


def test_records_handled_by_a_process_are_not_overwritten(
    client: FlaskClient, seeded: Session, admin: Headers
) -> None:
    body = post(client, admin, rows()).json
    objected = seeded.get(CreditRecord, body["results"][0]["record_id"])
    repaired = seeded.get(CreditRecord, body["results"][1]["record_id"])
    assert objected is not None and repaired is not None
    objected.status = "under_objection"
    objected.extra = {"objection": {"instance_id": 1}}
    repaired.status = "repaired"
    repaired.extra = {"repair_instance_id": 2, "repaired_on": "2026-11-01"}
    seeded.commit()
    changed = [
        {**rows()[0], "violation": "改动后的违法行为"},
        {**rows()[1], "severity": "general"},
        rows()[2],
    ]
    response = post(client, admin, changed)
    results = response.json["results"]
    assert [r["result"] for r in results] == ["rejected", "rejected", "unchanged"]
    assert "异议处理中" in results[0]["errors"]["decision_no"][0]
    assert "已修复" in results[1]["errors"]["decision_no"][0]
    assert results[0]["record_id"] is None
    seeded.refresh(objected)
    assert objected.violation == "经营标签不符合规定的预包装食品"
    # The same content as stored is still just "unchanged", whatever the status.
    assert post(client, admin, rows()[:2]).json["summary"]["unchanged"] == 2


# --- rejected rows -----------------------------------------------------------------------


def test_bad_rows_are_rejected_per_field_and_good_rows_stored(
    client: FlaskClient, seeded: Session, admin: Headers
) -> None:
    good = rows()[0]
    bad: list[Any] = [
        {**good, "uscc": "91350100M000100Y44", "decision_no": "A-1"},  # wrong check character
        {**good, "uscc": "9131011", "decision_no": "A-2"},
        {**good, "decided_on": "2026/05/12", "decision_no": "A-3"},
        {**good, "decided_on": "2026-02-30", "decision_no": "A-4"},
        {**good, "record_type": "parking_ticket", "decision_no": "A-5"},
        {**good, "severity": "huge", "decision_no": "A-6"},
        {**good, "department": "police", "decision_no": "A-7"},
        {k: v for k, v in good.items() if k != "decision_no"},
        {**good, "decision_no": "号" * 129},
        {**good, "fine_yuan": "两万", "decision_no": "A-10"},
        {**good, "fine_yuan": -1, "decision_no": "A-11"},
        {**good, "decided_on": "2026-12-01", "published_on": None, "decision_no": "A-12"},
        {**good, "published_on": "2026-05-01", "decision_no": "A-13"},  # before the decision
        ["not", "an", "object"],
        {**good, "penalty_types": "罚款", "decision_no": "A-15"},
        {**good, "platform": "weibo", "decision_no": "A-16"},
        {**good, "uscc": None, "subject_name": 5, "decision_no": "A-17"},
        {**good, "record_type": "breach_of_commitment", "decided_on": "2025-01-02",
         "department": "ndrc", "decision_no": "A-18"},  # no period rule for that date
        good,
        {**good},  # the same key twice in one batch
    ]  # fmt: skip
    response = post(client, admin, bad)
    assert response.status_code == 200, response.text
    results = response.json["results"]
    assert response.json["summary"] == {
        "created": 1,
        "unchanged": 0,
        "updated": 0,
        "rejected": len(bad) - 1,
    }
    fields = [set(r["errors"]) for r in results]
    expected = [
        {"uscc"}, {"uscc"}, {"decided_on"}, {"decided_on"}, {"record_type"}, {"severity"},
        {"department"}, {"decision_no"}, {"decision_no"}, {"fine_yuan"}, {"fine_yuan"},
        {"decided_on"}, {"published_on"}, {"row"}, {"penalty_types"}, {"platform"},
        {"uscc", "subject_name"}, {"decided_on"}, set(), {"row"},
    ]  # fmt: skip
    assert fields == expected
    assert "校验码" in results[0]["errors"]["uscc"][0]
    assert "18位" in results[1]["errors"]["uscc"][0]
    assert "YYYY-MM-DD" in results[2]["errors"]["decided_on"][0]
    assert "不超过 128" in results[8]["errors"]["decision_no"][0]
    assert "第 18 条" in results[19]["errors"]["row"][0]
    assert results[13]["uscc"] is None and results[13]["decision_no"] is None
    assert results[18]["result"] == "created"
    for result in results[:18]:
        assert result["result"] == "rejected" and result["record_id"] is None
        for messages in result["errors"].values():
            assert messages and all(isinstance(m, str) and m for m in messages)
    assert _count(seeded, CreditRecord, CreditRecord.decision_no.like("A-%")) == 0


def test_a_full_batch_of_500_rows_is_accepted(
    client: FlaskClient, seeded: Session, admin: Headers
) -> None:
    batch = [{**rows()[1], "decision_no": f"批量〔2026〕{i:04d}号"} for i in range(500)]
    response = post(client, admin, batch)
    assert response.status_code == 200, response.text
    assert response.json["summary"]["created"] == 500
    assert len({r["record_id"] for r in response.json["results"]}) == 500


def test_body_shape_errors(client: FlaskClient, seeded: Session, admin: Headers) -> None:
    _error(post(client, admin, [rows()[0]] * 501), 413, "too_large")
    _error(client.post(URL, data={"records": "x"}, headers=admin), 415, "unsupported_type")
    _error(client.post(URL, data="records", headers=admin), 415, "unsupported_type")
    as_json = {**admin, "Content-Type": "application/json"}
    _error(client.post(URL, data='{"records": [', headers=as_json), 400, "bad_request")
    _error(client.post(URL, data=b"\xff\xfe", headers=as_json), 400, "bad_request")
    for text in ("{}", '{"records": []}', '{"records": {}}', "[{}]", '"records"', "null"):
        response = client.post(URL, data=text, headers=as_json)
        error = _error(response, 422, "validation_failed")
        assert "records" in error["details"]["fields"]


# --- who may import ----------------------------------------------------------------------


def test_only_admins_and_scoped_integration_tokens_import(
    client: FlaskClient, seeded: Session
) -> None:
    batch = rows()[:1]
    _error(post(client, {}, batch), 401, "unauthorized")
    _error(post(client, {"Authorization": "Bearer nope"}, batch), 401, "unauthorized")
    for username in ("ent_chengxi", "rev_samr", "lead_samr", "owner"):
        _error(post(client, personal(seeded, username), batch), 403, "forbidden")
    for scopes in ((), ("read",), ("messages:send",), ("read", "messages:send")):
        _error(post(client, integration(seeded, *scopes), batch), 403, "forbidden")
    # Refused before the body is looked at: no data is needed to learn nothing.
    _error(client.post(URL, data="x", headers=personal(seeded, "rev_samr")), 403, "forbidden")
    assert _count(seeded, CreditRecord, CreditRecord.source == "import") == 0

    scoped = post(client, integration(seeded, "records:import"), batch)
    assert scoped.status_code == 200 and scoped.json["summary"]["created"] == 1
    entry = seeded.scalars(select(AuditEvent).where(AuditEvent.action == "records.imported")).one()
    assert entry.actor_name == "admin"  # the integration token acts as the admin who made it
    again = post(client, personal(seeded, "admin"), batch)
    assert again.status_code == 200 and again.json["summary"]["unchanged"] == 1


# --- PostgreSQL: the same batch twice at once ---------------------------------------------


@pytest.mark.postgres
def test_concurrent_imports_of_one_batch_store_each_record_once(app: Flask, backend: str) -> None:
    if not backend.startswith("postgresql"):
        pytest.skip("runs with the PostgreSQL backend")
    from tests.live_db import live_postgres

    batch = rows() + [
        {**rows()[1], "uscc": "92310105MADECDGH5L", "subject_name": "示例个体工商户",
         "decision_no": f"并发〔2026〕{i:04d}号"}
        for i in range(30)
    ]  # fmt: skip
    with live_postgres(app):
        with app.app_context():
            session = db.session()
            assert load_rules(session)
            headers = personal(session, "admin")
            db.session.remove()
        barrier = threading.Barrier(2)
        answers: list[Any] = [None, None]

        def run(i: int) -> None:
            with app.app_context():
                client = app.test_client()
                barrier.wait()
                try:
                    answers[i] = client.post(URL, json={"records": batch}, headers=headers)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert all(a is not None and a.status_code == 200 for a in answers), [
            a.text if a is not None else None for a in answers
        ]
        for index in range(len(batch)):
            outcomes = sorted(a.json["results"][index]["result"] for a in answers)
            assert outcomes == ["created", "unchanged"], (index, outcomes)
            ids = {a.json["results"][index]["record_id"] for a in answers}
            assert len(ids) == 1
        with app.app_context():
            session = db.session()
            numbers = [r.decision_no for r in session.scalars(select(CreditRecord))]
            assert len(numbers) == len(set(numbers))
            for uscc in (NEW, "92310105MADECDGH5L"):
                assert _count(session, Subject, Subject.uscc == uscc) == 1
            assert _count(session, AuditEvent, AuditEvent.action == "records.imported") == 1
            assert _events(session) == 3
            db.session.remove()
