"""The enterprise portal: records with actions and reasons, applying, applications, diagram."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import Comment, CreditRecord, HumanTask, ProcessInstance
from app.services.definitions import deploy_bundle, read_bundle_dir
from tests.conftest import SEED_DAY, csrf_token, login
from tests.engine_fixtures import user

NOW = datetime.combine(SEED_DAY, time(10, 0), ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def seed_day() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture()
def deployed(seeded: Session) -> Session:
    deploy_bundle(seeded, read_bundle_dir(Path("bpmn")))
    seeded.commit()
    return seeded


def rec(session: Session, key: str) -> CreditRecord:
    return next(
        r for r in session.scalars(select(CreditRecord)) if (r.extra or {}).get("seed_key") == key
    )


def latest(session: Session) -> ProcessInstance:
    return session.scalars(select(ProcessInstance).order_by(ProcessInstance.id.desc())).first()


def apply_repair(client: FlaskClient, session: Session, *keys: str) -> ProcessInstance:
    token = csrf_token(client, "/enterprise/apply/repair")
    ids = [str(rec(session, k).id) for k in keys]
    response = client.post(
        "/enterprise/apply/repair", data={"record_ids": ids, "csrf_token": token}
    )
    assert response.status_code == 302, response.text
    instance = latest(session)
    assert response.headers["Location"].endswith(f"/enterprise/applications/{instance.id}")
    return instance


def test_records_page_lists_actions_and_reasons(client: FlaskClient, deployed: Session) -> None:
    login(client, "ent_chengxi")
    page = client.get("/enterprise/records")
    assert page.status_code == 200
    serious = rec(deployed, "samr-serious")
    assert serious.decision_no in page.text
    row = page.text.split(f'id="record-{serious.id}"')[1].split("</tr>")[0]
    assert "最短公示期尚未届满" in row and "2027-08-12" in row and "SAMR-107" in row
    assert "提出异议" in row  # a published record may be objected to
    general = rec(deployed, "samr-general")
    row = page.text.split(f'id="record-{general.id}"')[1].split("</tr>")[0]
    assert "申请信用修复" in row
    assert "青税稽罚" not in page.text  # another subject's record
    assert "/enterprise/records" in client.get("/").text  # nav entry


def test_enterprise_pages_need_the_enterprise_role(client: FlaskClient, deployed: Session) -> None:
    login(client, "clerk_window")
    assert client.get("/enterprise/records").status_code == 403


def test_apply_repair_for_two_records(client: FlaskClient, deployed: Session) -> None:
    login(client, "ent_chengxi")
    form = client.get("/enterprise/apply/repair")
    assert form.status_code == 200
    assert rec(deployed, "samr-general").decision_no in form.text
    assert "2027-08-12" in form.text  # the serious one is listed as not yet repairable
    instance = apply_repair(client, deployed, "samr-general", "ndrc-general")
    assert instance.process_key == "credit_repair" and instance.status == "running"
    page = client.get(f"/enterprise/applications/{instance.id}")
    assert page.status_code == 200
    assert "信用修复" in page.text and "提交申请" in page.text  # timeline entry
    assert "审查修复条件" in page.text
    assert "请办理" in page.text  # the submit task waits for the enterprise
    assert "dist/viewer.js" in page.text and "cf-steps" in page.text
    task = deployed.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready")
    ).one()
    task.due_at = datetime.combine(date(2026, 11, 24), time(18, 0), ZoneInfo("Asia/Shanghai"))
    deployed.commit()
    page = client.get(f"/enterprise/applications/{instance.id}")
    assert "还剩 2 个工作日" in page.text  # Friday → Tuesday: Monday and Tuesday
    listing = client.get("/enterprise/applications")
    assert f"#{instance.id}" in listing.text and "请办理" in listing.text
    # the records page now points at the open application instead of offering repair again
    records = client.get("/enterprise/records").text
    assert f"已在申请 #{instance.id} 中申请修复" in records


def test_apply_repair_validation(client: FlaskClient, deployed: Session) -> None:
    login(client, "ent_chengxi")
    token = csrf_token(client, "/enterprise/apply/repair")
    empty = client.post("/enterprise/apply/repair", data={"csrf_token": token})
    assert empty.status_code == 422 and "请至少选择" in empty.text
    assert 'aria-invalid="true"' in empty.text
    serious = rec(deployed, "samr-serious")
    early = client.post(
        "/enterprise/apply/repair", data={"csrf_token": token, "record_ids": [str(serious.id)]}
    )
    assert early.status_code == 422 and "2027-08-12" in early.text
    other = rec(deployed, "hq-general")
    foreign = client.post(
        "/enterprise/apply/repair", data={"csrf_token": token, "record_ids": [str(other.id)]}
    )
    assert foreign.status_code == 422 and other.decision_no not in foreign.text


def test_matter_page_shows_notice_and_materials_before_committing(
    client: FlaskClient, deployed: Session
) -> None:
    login(client, "ent_chengxi")
    catalogue = client.get("/enterprise/apply/matters")
    assert catalogue.status_code == 200 and "SAMR-SPJY-001" in catalogue.text
    page = client.get("/enterprise/apply/matters/SAMR-SPJY-001")
    assert page.status_code == 200
    assert "告知内容" in page.text and "证明义务" in page.text
    assert "食品经营许可申请书" in page.text and "主要材料" in page.text
    assert "从业人员健康证明" in page.text and "7 个工作日" in page.text
    # only deferrable materials are offered as 容缺 checkboxes
    assert 'value="health_certificates"' in page.text
    assert 'value="application_form"' not in page.text
    assert client.get("/enterprise/apply/matters/NOPE").status_code == 404


def test_notify_commit_application_starts(client: FlaskClient, deployed: Session) -> None:
    login(client, "ent_chengxi")
    token = csrf_token(client, "/enterprise/apply/matters/SAMR-SPJY-001")
    response = client.post(
        "/enterprise/apply/matters/SAMR-SPJY-001",
        data={"csrf_token": token, "mode": "notify_commit"},
    )
    assert response.status_code == 302
    instance = latest(deployed)
    assert instance.process_key == "notify_commit_approval"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "告知承诺制审批" in page.text


def test_rongque_refuses_a_core_material(client: FlaskClient, deployed: Session) -> None:
    login(client, "ent_chengxi")
    before = latest(deployed)
    token = csrf_token(client, "/enterprise/apply/matters/SAMR-SPJY-001")
    response = client.post(
        "/enterprise/apply/matters/SAMR-SPJY-001",
        data={"csrf_token": token, "mode": "rongque", "deferred_materials": ["application_form"]},
    )
    assert response.status_code == 422
    assert "主要材料" in response.text and "不能容缺" in response.text
    assert 'value="rongque" id="mode-rq" checked' in response.text  # input kept
    assert latest(deployed) == before
    ok = client.post(
        "/enterprise/apply/matters/SAMR-SPJY-001",
        data={"csrf_token": token, "mode": "rongque", "deferred_materials": ["safety_rules"]},
    )
    assert ok.status_code == 302
    assert latest(deployed).process_key == "rongque_acceptance"
    assert client.get(ok.headers["Location"]).status_code == 200


def test_objection_start_and_validation(client: FlaskClient, deployed: Session) -> None:
    login(client, "ent_chengxi")
    record = rec(deployed, "samr-general")
    path = f"/enterprise/records/{record.id}/object"
    form = client.get(path)
    assert form.status_code == 200 and "信息错误或不完整" in form.text
    token = csrf_token(client, path)
    bad = client.post(path, data={"csrf_token": token, "ground": "wrong_info", "claim": ""})
    assert bad.status_code == 422 and "请填写异议内容" in bad.text
    assert 'aria-describedby="claim-error"' in bad.text
    wrong = client.post(
        path, data={"csrf_token": token, "ground": "repair_result", "claim": "有误"}
    )
    assert wrong.status_code == 422 and "没有信用修复结果" in wrong.text
    assert 'value="repair_result" selected' in wrong.text
    ok = client.post(
        path, data={"csrf_token": token, "ground": "wrong_info", "claim": "违法行为表述有误。"}
    )
    assert ok.status_code == 302
    instance = latest(deployed)
    assert instance.process_key == "objection_handling"
    deployed.refresh(record)
    assert record.status == "under_objection"
    page = client.get("/enterprise/records").text
    assert "异议处理中" in page
    other = rec(deployed, "hq-general")
    assert client.get(f"/enterprise/records/{other.id}/object").status_code == 404


def test_other_enterprise_cannot_open_application_or_diagram(
    client: FlaskClient, deployed: Session
) -> None:
    login(client, "ent_chengxi")
    instance = apply_repair(client, deployed, "samr-general", "ndrc-general")
    diagram = client.get(f"/enterprise/applications/{instance.id}/diagram.bpmn")
    assert diagram.status_code == 200
    assert diagram.mimetype == "application/xml"
    assert b"<bpmn:definitions" in diagram.data or b"definitions" in diagram.data
    assert re.search(rb"submit_application", diagram.data)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/enterprise/records")})
    login(client, "ent_hongqiao")
    assert client.get(f"/enterprise/applications/{instance.id}").status_code == 404
    assert client.get(f"/enterprise/applications/{instance.id}/diagram.bpmn").status_code == 404
    assert f"#{instance.id}<" not in client.get("/enterprise/applications").text


def test_visible_comments_and_requested_documents(client: FlaskClient, deployed: Session) -> None:
    login(client, "ent_chengxi")
    instance = apply_repair(client, deployed, "samr-general")
    clerk = user(deployed, "clerk_window")
    deployed.add(
        Comment(
            instance_id=instance.id,
            author_id=clerk.id,
            body="请补充证明",
            visible_to_applicant=True,
        )
    )
    deployed.add(
        Comment(
            instance_id=instance.id, author_id=clerk.id, body="内部备注", visible_to_applicant=False
        )
    )
    deployed.commit()
    page = client.get(f"/enterprise/applications/{instance.id}").text
    assert "请补充证明" in page and "内部备注" not in page


def test_refusal_reason_is_shown(client: FlaskClient, deployed: Session) -> None:
    """A process that refuses at once shows its reason on the application page."""
    from app.services import instances

    serious = rec(deployed, "samr-serious")
    instance = instances.start_instance(
        deployed, "credit_repair", {"record_ids": [serious.id]}, user(deployed, "ent_chengxi")
    )
    deployed.commit()
    login(client, "ent_chengxi")
    page = client.get(f"/enterprise/applications/{instance.id}")
    assert page.status_code == 200
    assert "不予受理" in page.text and "2027-08-12" in page.text
