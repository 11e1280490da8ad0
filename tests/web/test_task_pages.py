"""Task page: rendering the forms of the shipped processes, completing, claiming, refusals."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Attachment, CreditRecord, HumanTask, ProcessInstance
from app.services import instances, tasks
from app.services.definitions import deploy_bundle, read_bundle_dir
from tests.conftest import csrf_token, login
from tests.engine_fixtures import only_task, open_tasks, user

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture()
def deployed(seeded: Session) -> Session:
    deploy_bundle(seeded, read_bundle_dir(BPMN_DIR))
    seeded.commit()
    return seeded


def _record(session: Session, key: str) -> CreditRecord:
    rows = session.scalars(select(CreditRecord))
    return next(r for r in rows if (r.extra or {}).get("seed_key") == key)


def _start(session: Session, key: str, data: dict, username: str = "ent_chengxi"):
    instance = instances.start_instance(session, key, data, user(session, username))
    session.commit()
    return instance


def _first_task(session: Session, instance: ProcessInstance) -> HumanTask:
    ready = open_tasks(session, instance.id)
    assert ready, "no open task"
    return ready[0]


def _post(client: FlaskClient, task_id: str, data: dict, **kw):
    data = {"csrf_token": csrf_token(client, f"/tasks/{task_id}"), **data}
    return client.post(f"/tasks/{task_id}", data=data, content_type="multipart/form-data", **kw)


# ent_chengxi has open serious records, so notify-and-commit and 容缺 route it away from
# the commitment; those start as ent_hongqiao (as the scenario tests do).
STARTS = [
    (
        "credit_repair",
        lambda s: {"record_ids": [_record(s, "samr-general").id]},
        "履行义务证明",
        "ent_chengxi",
    ),
    (
        "notify_commit_approval",
        lambda s: {"matter_code": "SAMR-SPJY-001"},
        "签署人姓名",
        "ent_hongqiao",
    ),
    (
        "rongque_acceptance",
        lambda s: {"matter_code": "SAMR-SPJY-001", "deferred_materials": ["safety_rules"]},
        "签署人姓名",
        "ent_hongqiao",
    ),
    (
        "objection_handling",
        lambda s: {
            "record_id": _record(s, "samr-general").id,
            "ground": "wrong_info",
            "claim": "处罚决定书所载违法行为与事实不符，请予更正。",
        },
        None,
        "ent_chengxi",
    ),
]


@pytest.mark.parametrize(("key", "data", "expected", "ent"), STARTS, ids=[s[0] for s in STARTS])
def test_first_task_form_renders(client, deployed, key, data, expected, ent) -> None:
    instance = _start(deployed, key, data(deployed), ent)
    task = _first_task(deployed, instance)
    username = ent if task.lane == "enterprise" else "clerk_window"
    login(client, username)
    page = client.get(f"/tasks/{task.id}")
    assert page.status_code == 200, page.text
    assert task.name in page.text
    assert 'name="csrf_token"' in page.text
    assert "个工作日" in page.text or task.due_at is None
    schema = instance.version.forms[task.form_file]
    assert schema["title"] in page.text
    if expected:
        assert expected in page.text


def test_commitment_breach_confirm_form_renders(client, deployed) -> None:
    """commitment_breach cannot be started by an enterprise; render its form for the schema."""
    from app.web.schema_form import build_fields

    forms = read_bundle_dir(BPMN_DIR)
    import json

    schema = json.loads(forms["commitment_breach__confirm.json"])
    names = [f.name for f in build_fields(schema)]
    assert names == ["decision", "opinion", "false_commitment"]


def _sign_task(session: Session) -> HumanTask:
    instance = _start(
        session,
        "rongque_acceptance",
        {"matter_code": "SAMR-SPJY-001", "deferred_materials": ["safety_rules"]},
        "ent_hongqiao",
    )
    return only_task(session, instance.id, "sign_commitment")


def test_validation_errors_keep_input(client, deployed) -> None:
    task = _sign_task(deployed)
    login(client, "ent_hongqiao")
    response = _post(client, task.id, {"signer_name": "王"})
    assert response.status_code == 422
    assert 'value="王"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "请勾选确认" in response.text or "此项为必填项" in response.text
    fragment = _post(client, task.id, {"signer_name": "王"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 422
    assert "<html" not in fragment.text and 'id="task-form"' in fragment.text


def test_conditional_required_error_shown(client, deployed) -> None:
    instance = _start(
        deployed, "notify_commit_approval", {"matter_code": "SAMR-SPJY-001"}, "ent_hongqiao"
    )
    task = open_tasks(deployed, instance.id)[0]
    login(client, "ent_hongqiao")
    response = _post(client, task.id, {"sign_action": "sign"})
    assert response.status_code == 422
    assert "此项为必填项" in response.text or "请勾选确认" in response.text


def test_completion_redirects_and_double_submit_is_409(client, deployed) -> None:
    task = _sign_task(deployed)
    login(client, "ent_hongqiao")
    form = {"agree": "on", "signer_name": "王某某"}
    response = _post(client, task.id, form)
    assert response.status_code == 303, response.text
    assert response.headers["Location"].endswith("/") or "/tasks/" in response.headers["Location"]
    deployed.expire_all()
    assert deployed.get(HumanTask, task.id).state == "completed"
    again = _post(client, task.id, form)
    assert again.status_code == 409
    assert "已办理完毕" in again.text or "无需再办理" in again.text
    assert "上海虹桥" in again.text or "办理人" in again.text


def test_stale_submit_when_someone_else_completed(client, deployed) -> None:
    task = _sign_task(deployed)
    login(client, "ent_hongqiao")
    token = csrf_token(client, f"/tasks/{task.id}")
    tasks.complete(
        deployed, task.id, {"agree": True, "signer_name": "李某"}, user(deployed, "ent_hongqiao")
    )
    deployed.commit()
    response = client.post(
        f"/tasks/{task.id}",
        data={"csrf_token": token, "agree": "on", "signer_name": "王某某"},
    )
    assert response.status_code == 409
    assert "Traceback" not in response.text


def test_completion_redirects_to_next_task(client, deployed) -> None:
    """The window clerk accepts; the next task is not theirs, so they go home/inbox."""
    task = _sign_task(deployed)
    tasks.complete(
        deployed, task.id, {"agree": True, "signer_name": "王某某"}, user(deployed, "ent_hongqiao")
    )
    deployed.commit()
    accept = only_task(deployed, task.instance_id, "accept_application")
    login(client, "clerk_window")
    response = _post(client, accept.id, {"decision": "approve"})
    assert response.status_code == 303, response.text
    assert "/tasks/" not in response.headers["Location"]


def test_claim_and_unclaim(client, deployed) -> None:
    task = _sign_task(deployed)
    tasks.complete(
        deployed, task.id, {"agree": True, "signer_name": "王某某"}, user(deployed, "ent_hongqiao")
    )
    deployed.commit()
    accept = only_task(deployed, task.instance_id, "accept_application")
    login(client, "clerk_window")
    page = client.get(f"/tasks/{accept.id}")
    assert "认领" in page.text
    token = csrf_token(client, f"/tasks/{accept.id}")
    response = client.post(f"/tasks/{accept.id}/claim", data={"csrf_token": token})
    assert response.status_code == 303
    deployed.expire_all()
    assert deployed.get(HumanTask, accept.id).assignee_id == user(deployed, "clerk_window").id
    assert "取消认领" in client.get(f"/tasks/{accept.id}").text
    response = client.post(f"/tasks/{accept.id}/unclaim", data={"csrf_token": token})
    assert response.status_code == 303
    deployed.expire_all()
    assert deployed.get(HumanTask, accept.id).assignee_id is None


def test_other_subject_and_other_department_refused(client, deployed) -> None:
    task = _sign_task(deployed)
    login(client, "ent_chengxi")
    assert client.get(f"/tasks/{task.id}").status_code == 404
    assert _post_raw(client, task.id).status_code in (403, 404)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    tasks.complete(
        deployed, task.id, {"agree": True, "signer_name": "王某某"}, user(deployed, "ent_hongqiao")
    )
    deployed.commit()
    accept = only_task(deployed, task.instance_id, "accept_application")
    login(client, "rev_tax")
    assert client.get(f"/tasks/{accept.id}").status_code in (403, 404)


def _post_raw(client: FlaskClient, task_id: str):
    return client.post(f"/tasks/{task_id}", data={"csrf_token": csrf_token(client, "/")})


def test_non_pdf_upload_error_next_to_field(client, deployed, app: Flask) -> None:
    instance = _start(
        deployed, "credit_repair", {"record_ids": [_record(deployed, "samr-general").id]}
    )
    task = only_task(deployed, instance.id, "submit_application")
    login(client, "ent_chengxi")
    before = deployed.scalar(select(Attachment.id).order_by(Attachment.id.desc()).limit(1))
    response = _post(
        client,
        task.id,
        {
            "proofs.0.record_id": str(_record(deployed, "samr-general").id),
            "proofs.0.discharged": "on",
            "proofs.0.proof": (BytesIO(b"not a pdf at all"), "x.txt"),
            "agree": "on",
            "signer_name": "王某某",
        },
    )
    assert response.status_code == 422
    assert 'id="f-proofs-0-proof-error"' in response.text
    assert "PDF" in response.text and "10 MB" in response.text
    deployed.expire_all()
    after = deployed.scalar(select(Attachment.id).order_by(Attachment.id.desc()).limit(1))
    assert after == before


def test_pdf_upload_completes_task(client, deployed) -> None:
    record = _record(deployed, "samr-general")
    instance = _start(deployed, "credit_repair", {"record_ids": [record.id]})
    task = only_task(deployed, instance.id, "submit_application")
    login(client, "ent_chengxi")
    response = _post(
        client,
        task.id,
        {
            "proofs.0.record_id": str(record.id),
            "proofs.0.discharged": "on",
            "proofs.0.proof": (BytesIO(PDF), "proof.pdf"),
            "agree": "on",
            "signer_name": "王某某",
        },
    )
    assert response.status_code == 303, response.text
    deployed.expire_all()
    done = deployed.get(HumanTask, task.id)
    assert done.state == "completed"
    attachment_id = done.form_data["proofs"][0]["proof"]
    assert deployed.get(Attachment, int(attachment_id)).content_type == "application/pdf"


def test_repair_of_two_records_gets_one_proof_row_each_and_submits(client, deployed) -> None:
    ids = [_record(deployed, "samr-general").id, _record(deployed, "ndrc-general").id]
    instance = _start(deployed, "credit_repair", {"record_ids": ids})
    task = _first_task(deployed, instance)
    login(client, "ent_chengxi")
    page = client.get(f"/tasks/{task.id}").text
    for row, record_id in enumerate(ids):  # one row per eligible record, prefilled
        assert f'name="proofs.{row}.record_id"' in page
        assert f'value="{record_id}"' in page
    data: dict = {"agree": "on", "signer_name": "王某某"}
    for row, record_id in enumerate(ids):
        data[f"proofs.{row}.record_id"] = str(record_id)
        data[f"proofs.{row}.discharged"] = "on"
        data[f"proofs.{row}.proof"] = (BytesIO(PDF), f"缴款凭证{row}.pdf")
    response = _post(client, task.id, data)
    assert response.status_code in (302, 303), response.text[:2000]
    deployed.expire_all()
    assert deployed.get(HumanTask, task.id).state == "completed"
    stored = deployed.scalars(select(Attachment).where(Attachment.instance_id == instance.id))
    assert len(list(stored)) == 2
