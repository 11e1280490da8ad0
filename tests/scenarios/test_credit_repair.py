"""信用修复"一件事" (`credit_repair`): every path through the service layer, and the REST API.

Time is frozen on the demo seed day (a Friday); timers are moved with `fire_due_timers`.
ent_chengxi's demo records (seed keys): samr-general (SAMR-107, repairable), ndrc-general and
tax-general (NDRC-36, repairable), samr-serious (SAMR-107, repairable only from 2027-08-12),
samr-abnormal (EIPR-2014, repairable at once).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock, runner
from app.models import (
    AuditEvent,
    Commitment,
    CreditRecord,
    Department,
    HumanTask,
    OutboxEvent,
    ProcessInstance,
)
from app.services import attachments, host, instances, operations, tasks, timers
from app.services.definitions import deploy_bundle, read_bundle_dir
from app.services.errors import InvalidInputError, NotAllowedError
from app.services.records import apply_publication_rules
from tests.conftest import SEED_DAY, api_token
from tests.engine_fixtures import only_task, open_tasks, user

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime.combine(SEED_DAY, time(10, 0), TZ)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
CHENGXI = "91310114MA1GT8QX92"
POLICY_DMN = "credit_repair__reapplication_policy.dmn"


def _files(**replace: tuple[str, str]) -> dict[str, bytes]:
    files = {
        name: body
        for name, body in read_bundle_dir(ROOT / "bpmn").items()
        if name.startswith("credit_repair")
    }
    for name, (old, new) in replace.items():
        assert old.encode() in files[name], old
        files[name] = files[name].replace(old.encode(), new.encode())
    return files


@pytest.fixture(autouse=True)
def seed_day() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture()
def repair(seeded: Session) -> Session:
    deploy_bundle(seeded, _files())
    seeded.commit()
    return seeded


def rec(session: Session, key: str) -> CreditRecord:
    return next(
        r for r in session.scalars(select(CreditRecord)) if (r.extra or {}).get("seed_key") == key
    )


def start(session: Session, *keys: str, username: str = "ent_chengxi") -> ProcessInstance:
    ids = [rec(session, k).id for k in keys]
    instance = instances.start_instance(
        session, "credit_repair", {"record_ids": ids}, user(session, username)
    )
    session.commit()
    return instance


def final_data(session: Session, instance: ProcessInstance) -> dict[str, Any]:
    session.refresh(instance)
    assert instance.status == "completed", instance.status
    return runner.snapshot(host.load(session, instance)).data


def upload(session: Session, app: Flask, instance: ProcessInstance, kind: str) -> str:
    attachment = attachments.add_attachment(
        session,
        instance,
        user(session, "ent_chengxi"),
        kind=kind,
        filename="证明.pdf",
        stream=BytesIO(PDF),
        storage_dir=Path(app.config["STORAGE_DIR"]),
        max_bytes=10 * 1024 * 1024,
    )
    return str(attachment.id)


def submit(session: Session, app: Flask, instance: ProcessInstance, *keys: str) -> None:
    proofs = [
        {
            "record_id": rec(session, k).id,
            "discharged": True,
            "proof": upload(session, app, instance, "履行义务证明"),
        }
        for k in keys
    ]
    task = only_task(session, instance.id, "submit_application")
    form = {"proofs": proofs, "agree": True, "signer_name": "王某某"}
    tasks.complete(session, task.id, form, user(session, "ent_chengxi"))
    session.commit()


def accept(session: Session, instance: ProcessInstance) -> None:
    task = only_task(session, instance.id, "accept_application")
    tasks.complete(
        session,
        task.id,
        {"decision": "accept", "opinion": "材料齐全"},
        user(session, "clerk_window"),
    )
    session.commit()


def dept_task(
    session: Session, instance: ProcessInstance, code: str, bpmn_id: str = "review_records"
) -> HumanTask:
    dept = session.scalar(select(Department).where(Department.code == code))
    found = [
        t
        for t in open_tasks(session, instance.id)
        if t.department_id == dept.id and t.bpmn_id == bpmn_id
    ]
    assert len(found) == 1, [(t.bpmn_id, t.department_id) for t in open_tasks(session, instance.id)]
    return found[0]


def decide(
    session: Session, instance: ProcessInstance, code: str, form: dict[str, Any], username: str = ""
) -> None:
    task = dept_task(session, instance, code)
    tasks.complete(session, task.id, form, user(session, username or f"rev_{code}"))
    session.commit()


def accepted(session: Session, app: Flask, *keys: str) -> ProcessInstance:
    instance = start(session, *keys)
    submit(session, app, instance, *keys)
    accept(session, instance)
    return instance


def outbox(session: Session, instance: ProcessInstance, kind: str) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.instance_id == instance.id, OutboxEvent.kind == kind)
            .where(OutboxEvent.name != "commitment")  # the signed commitment's own document
            .order_by(OutboxEvent.id)
        )
    )


def history(session: Session, instance: ProcessInstance, action: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "process_instance",
            AuditEvent.object_id == str(instance.id),
            AuditEvent.action == action,
        )
    )
    return [r.details for r in rows]


# --- eligibility -----------------------------------------------------------------------------


def test_not_yet_repairable_record_is_refused_citing_rule_and_date(repair: Session) -> None:
    serious = rec(repair, "samr-serious")
    instance = start(repair, "samr-serious")
    assert open_tasks(repair, instance.id) == []
    data = final_data(repair, instance)
    assert data["outcome"] == "refused"
    (reason,) = data["refusal_reasons"]
    assert serious.decision_no in reason and "SAMR-107" in reason
    assert serious.repairable_from.isoformat() == "2027-08-12" and "2027-08-12" in reason
    assert "12 个月" in reason and SEED_DAY.isoformat() in reason
    assert history(repair, instance, "repair.eligibility")[0]["refusal_reasons"] == [reason]
    assert (
        repair.scalars(select(Commitment).where(Commitment.instance_id == instance.id)).all() == []
    )
    assert serious.status == "published"


def test_other_subjects_record_refuses_the_whole_application(repair: Session) -> None:
    other = rec(repair, "hq-general")
    instance = start(repair, "samr-general", "hq-general")
    data = final_data(repair, instance)
    assert data["outcome"] == "refused" and data["eligibility"]["eligible"] == []
    (reason,) = data["refusal_reasons"]
    assert str(other.id) in reason and "不属于本主体" in reason
    assert other.decision_no not in str(data) and "虹桥" not in str(data)  # nothing revealed
    # Malformed start data ends cleanly too (no incident).
    bad = instances.start_instance(
        repair, "credit_repair", {"record_ids": "all"}, user(repair, "ent_chengxi")
    )
    repair.commit()
    assert "record_ids" in final_data(repair, bad)["refusal_reasons"][0]


def test_reapplication_policy_switch_turned_on_refuses(repair: Session) -> None:
    switch = '<outputEntry id="policy_2026_serious_or_frequent"><text>False</text>'
    deployed = deploy_bundle(
        repair, _files(**{POLICY_DMN: (switch, switch.replace("False", "True"))})
    )
    repair.commit()
    assert [(d.key, d.version) for d in deployed] == [("credit_repair", 2)]
    instance = start(repair, "samr-general")
    data = final_data(repair, instance)
    assert data["outcome"] == "refused"
    (reason,) = data["refusal_reasons"]
    assert "CR-REAPPLY-2026-04" in reason and "近1年内" in reason
    assert rec(repair, "samr-serious").decision_no in reason  # the serious record that decided
    assert data["eligibility"]["refused"][0]["checks"]["reapplication_policy_ok"] is False


# --- decisions -----------------------------------------------------------------------------


def test_all_approved_by_two_departments(repair: Session, app: Flask) -> None:
    samr, ndrc = rec(repair, "samr-general"), rec(repair, "ndrc-general")
    public_until = samr.public_until
    instance = start(repair, "samr-general", "ndrc-general", "samr-serious")
    refused = history(repair, instance, "repair.eligibility")[0]["refusal_reasons"]
    assert len(refused) == 1 and rec(repair, "samr-serious").decision_no in refused[0]
    submit(repair, app, instance, "samr-general", "ndrc-general")
    commitment = repair.scalar(select(Commitment).where(Commitment.instance_id == instance.id))
    assert commitment.kind == "repair" and commitment.signer_name == "王某某"
    assert samr.decision_no in commitment.text and ndrc.decision_no in commitment.text
    assert commitment.signed_by_id == user(repair, "ent_chengxi").id
    window = only_task(repair, instance.id, "accept_application")
    assert window.lane == "window" and window.due_at is not None
    assert window.due_at.astimezone(TZ).date().isoformat() == "2026-11-23"  # 1 WD (Monday)
    accept(repair, instance)
    samr_task, ndrc_task = dept_task(repair, instance, "samr"), dept_task(repair, instance, "ndrc")
    assert samr_task.lane == ndrc_task.lane == "reviewer"
    assert samr_task.due_at.astimezone(TZ).date().isoformat() == "2026-12-01"  # 7 WD, Order 107
    assert ndrc_task.due_at.astimezone(TZ).date().isoformat() == "2026-11-25"  # 3 WD, 36号令
    decide(repair, instance, "samr", {"decision": "approve", "opinion": "已履行"})
    assert instance.status == "running"
    decide(repair, instance, "ndrc", {"decision": "approve"})
    data = final_data(repair, instance)
    assert data["outcome"] == "approved"
    assert {r["record_id"]: r["decision"] for r in data["record_results"]} == {
        samr.id: "approved",
        ndrc.id: "approved",
    }
    for record in (samr, ndrc):
        repair.refresh(record)
        assert record.status == "repaired" and record.extra["repaired_on"] == "2026-11-20"
        assert record.extra["repair_instance_id"] == instance.id
    assert samr.public_until == public_until
    pushes = outbox(repair, instance, "platform")
    assert {(e.payload["record_id"], e.payload["target"]) for e in pushes} == {
        (samr.id, t) for t in ("creditchina", "gsxt", "local_platform", "credit_agencies")
    } | {(ndrc.id, t) for t in ("creditchina", "local_platform", "credit_agencies")}
    assert {(e.name, e.state) for e in pushes} == {("repair_approved", "pending")}
    (document,) = outbox(repair, instance, "document")
    assert document.name == "repair_decision" and document.payload["outcome"] == "approved"
    assert len(document.payload["records"]) == 2
    (notice,) = outbox(repair, instance, "notification")
    assert notice.name == "repair_decided" and notice.payload["subject_uscc"] == CHENGXI
    audited = repair.scalars(select(AuditEvent).where(AuditEvent.action == "record.repaired"))
    assert {a.object_id for a in audited} == {str(samr.id), str(ndrc.id)}


def test_partial_approval_one_department_rejects(repair: Session, app: Flask) -> None:
    general, abnormal = rec(repair, "samr-general"), rec(repair, "samr-abnormal")
    ndrc = rec(repair, "ndrc-general")
    instance = accepted(repair, app, "samr-general", "samr-abnormal", "ndrc-general")
    assert (
        dept_task(repair, instance, "samr").due_at.astimezone(TZ).date().isoformat() == "2026-12-01"
    )
    partial = {
        "decision": "partial",
        "record_decisions": [
            {"record_id": general.id, "decision": "approve"},
            {"record_id": abnormal.id, "decision": "reject", "opinion": "年度报告尚未补报"},
        ],
    }
    decide(repair, instance, "samr", partial)
    decide(repair, instance, "ndrc", {"decision": "reject", "opinion": "罚款尚未缴清"})
    data = final_data(repair, instance)
    assert data["outcome"] == "partly_approved"
    results = {r["record_id"]: r for r in data["record_results"]}
    assert results[general.id]["decision"] == "approved"
    assert results[abnormal.id]["reason"] == "年度报告尚未补报"
    assert results[ndrc.id]["reason"] == "罚款尚未缴清"
    for record, status in ((general, "repaired"), (abnormal, "published"), (ndrc, "published")):
        repair.refresh(record)
        assert record.status == status
    assert ndrc.extra["last_repair_refusal"]["reason"] == "罚款尚未缴清"
    assert {e.payload["record_id"] for e in outbox(repair, instance, "platform")} == {general.id}
    (document,) = outbox(repair, instance, "document")
    assert document.payload["outcome_label"] == "部分准予信用修复"
    assert [r["result_label"] for r in document.payload["records"]] == [
        "准予修复",
        "不予修复",
        "不予修复",
    ]


def test_all_rejected(repair: Session, app: Flask) -> None:
    tax = rec(repair, "tax-general")
    instance = accepted(repair, app, "tax-general")
    with pytest.raises(InvalidInputError):  # a refusal needs its reason
        decide(repair, instance, "tax", {"decision": "reject"})
    repair.rollback()
    decide(repair, instance, "tax", {"decision": "reject", "opinion": "未提供完税证明"})
    data = final_data(repair, instance)
    assert data["outcome"] == "rejected"
    repair.refresh(tax)
    assert tax.status == "published" and "repaired_on" not in tax.extra
    assert outbox(repair, instance, "platform") == []
    (document,) = outbox(repair, instance, "document")
    assert document.payload["outcome"] == "rejected"
    assert document.payload["records"][0]["reason"] == "未提供完税证明"
    (notice,) = outbox(repair, instance, "notification")
    assert notice.payload["outcome_label"] == "不予信用修复"


# --- window, deadlines ---------------------------------------------------------------------


def test_window_return_and_resubmit(repair: Session, app: Flask) -> None:
    instance = start(repair, "samr-general", "tax-general")
    submit(repair, app, instance, "samr-general")  # no proof for the tax record
    (submitted,) = history(repair, instance, "repair.submitted")
    tax = rec(repair, "tax-general")
    assert submitted["proof_problems"] == [f"记录 {tax.decision_no}：未提交履行义务证明材料。"]
    duplicate = final_data(repair, start(repair, "samr-general"))  # one application at a time
    assert f"办件 {instance.id}" in duplicate["refusal_reasons"][0]
    window = only_task(repair, instance.id, "accept_application")
    clerk = user(repair, "clerk_window")
    with pytest.raises(InvalidInputError):  # a return needs the one-time list
        tasks.complete(repair, window.id, {"decision": "return"}, clerk)
    repair.rollback()
    missing = [f"请补充 {tax.decision_no} 的罚款缴纳凭证"]
    tasks.complete(repair, window.id, {"decision": "return", "missing_items": missing}, clerk)
    repair.commit()
    again = only_task(repair, instance.id, "submit_application")
    assert again.id != window.id and again.lane == "enterprise"
    submit(repair, app, instance, "samr-general", "tax-general")
    assert history(repair, instance, "repair.submitted")[1]["proof_problems"] == []
    commitments = repair.scalars(select(Commitment).where(Commitment.instance_id == instance.id))
    assert len(commitments.all()) == 1  # the same application keeps its commitment
    accept(repair, instance)
    assert {t.bpmn_id for t in open_tasks(repair, instance.id)} == {"review_records"}
    assert len(open_tasks(repair, instance.id)) == 2


def test_window_silence_is_deemed_acceptance(repair: Session, app: Flask) -> None:
    instance = start(repair, "tax-general")
    submit(repair, app, instance, "tax-general")
    window = only_task(repair, instance.id, "accept_application")
    assert timers.fire_due_timers(window.due_at + timedelta(seconds=1)) == 1
    repair.expire_all()
    assert window.state == "cancelled"
    dept_task(repair, instance, "tax")


def test_review_deadline_escalates_to_the_leader(repair: Session, app: Flask) -> None:
    ndrc = rec(repair, "ndrc-general")
    instance = accepted(repair, app, "ndrc-general")
    review = dept_task(repair, instance, "ndrc")
    assert timers.fire_due_timers(review.due_at - timedelta(minutes=1)) == 0
    assert timers.fire_due_timers(review.due_at + timedelta(seconds=1)) == 1
    repair.expire_all()
    assert review.state == "cancelled"
    leader_task = dept_task(repair, instance, "ndrc", "expedite_review")
    assert leader_task.lane == "leader"
    with pytest.raises(NotAllowedError):  # the reviewer may not take the leader's task
        tasks.complete(
            repair,
            leader_task.id,
            {"decision": "approve", "opinion": "同意"},
            user(repair, "rev_ndrc"),
        )
    repair.rollback()
    form = {"decision": "approve", "opinion": "督办：同意修复"}
    tasks.complete(repair, leader_task.id, form, user(repair, "lead_ndrc"))
    repair.commit()
    data = final_data(repair, instance)
    assert data["outcome"] == "approved"
    assert data["department_results"][0]["decided_by"] == "leader"
    assert data["department_results"][0]["escalated"] is True
    repair.refresh(ndrc)
    assert ndrc.status == "repaired"


def test_review_limit_follows_the_rule_set_in_force_on_receipt(repair: Session, app: Flask) -> None:
    subject = rec(repair, "ndrc-general").subject
    old = CreditRecord(
        subject=subject,
        record_type="administrative_penalty",
        severity="general",
        decision_no="嘉发改价处〔2025〕0042号",
        violation="未按规定明码标价",
        procedure="普通程序",
        department=rec(repair, "ndrc-general").department,
        decided_on=date(2025, 6, 2),
        platforms=["creditchina"],
        extra={"seed_key": "ndrc-58"},
    )
    apply_publication_rules(repair, old)
    repair.add(old)
    repair.commit()
    assert old.rule_set == "NDRC-58" and old.repairable_from == date(2025, 9, 2)
    with clock.frozen_at(datetime(2026, 3, 2, 10, 0, tzinfo=TZ)):  # received under 58号令
        before = accepted(repair, app, "ndrc-58")
        due = dept_task(repair, before, "ndrc").due_at.astimezone(TZ).date()
        assert due == date(2026, 3, 16)  # 10 WD
        operations.terminate(repair, before.id, user(repair, "owner"), "测试：改日重新申请")
        repair.commit()
    after = accepted(repair, app, "ndrc-58")  # received under 36号令: 3 WD
    assert dept_task(repair, after, "ndrc").due_at.astimezone(TZ).date() == date(2026, 11, 25)


# --- REST API ----------------------------------------------------------------------------


def test_main_path_through_the_rest_api(client: FlaskClient, repair: Session) -> None:
    api = "/api/v1"
    heads = {
        name: api_token(client, name)
        for name in ("ent_chengxi", "clerk_window", "rev_samr", "rev_ndrc")
    }
    ids = [rec(repair, "samr-general").id, rec(repair, "ndrc-general").id]
    started = client.post(
        f"{api}/process-instances",
        json={"process_key": "credit_repair", "data": {"record_ids": ids}},
        headers=heads["ent_chengxi"],
    )
    assert started.status_code == 201, started.text
    instance_id = started.json["id"]

    def ready(who: str, bpmn_id: str) -> list[dict[str, Any]]:
        listed = client.get(f"{api}/tasks?scope=candidate&state=ready", headers=heads[who])
        assert listed.status_code == 200, listed.text
        return [
            t
            for t in listed.json["items"]
            if t["instance_id"] == instance_id and t["bpmn_id"] == bpmn_id
        ]

    def complete(who: str, task: dict[str, Any], data: dict[str, Any]) -> None:
        done = client.post(
            f"{api}/tasks/{task['id']}/complete", json={"data": data}, headers=heads[who]
        )
        assert done.status_code == 200, done.text

    proofs = []
    for record_id in ids:
        uploaded = client.post(
            f"{api}/process-instances/{instance_id}/attachments",
            data={"kind": "履行义务证明", "file": (BytesIO(PDF), "凭证.pdf")},
            headers=heads["ent_chengxi"],
            content_type="multipart/form-data",
        )
        assert uploaded.status_code == 201, uploaded.text
        proofs.append(
            {"record_id": record_id, "discharged": True, "proof": str(uploaded.json["id"])}
        )
    (submit_task,) = ready("ent_chengxi", "submit_application")
    form = client.get(f"{api}/tasks/{submit_task['id']}", headers=heads["ent_chengxi"]).json["form"]
    assert form["properties"]["agree"]["const"] is True
    complete("ent_chengxi", submit_task, {"proofs": proofs, "agree": True, "signer_name": "王某某"})
    (window,) = ready("clerk_window", "accept_application")
    complete("clerk_window", window, {"decision": "accept"})
    for who in ("rev_samr", "rev_ndrc"):
        (review,) = ready(who, "review_records")
        complete(who, review, {"decision": "approve", "opinion": "同意修复"})
    instance = client.get(f"{api}/process-instances/{instance_id}", headers=heads["ent_chengxi"])
    assert instance.json["status"] == "completed"
    assert any(h["action"] == "repair.decided" for h in instance.json["history"])
    records = client.get(f"{api}/subjects/{CHENGXI}/records", headers=heads["ent_chengxi"])
    assert records.status_code == 200, records.text
    status = {r["id"]: r["status"] for r in records.json["items"]}
    assert status[ids[0]] == status[ids[1]] == "repaired"
    assert status[rec(repair, "tax-general").id] == "published"
