"""A process model's own translations (<process>.i18n.json) on the pages, in English only."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import HumanTask
from app.services import instances, tasks
from app.services.definitions import deploy_bundle, read_bundle_dir
from tests.conftest import csrf_token, login
from tests.engine_fixtures import only_task, user

BUNDLE = Path(__file__).resolve().parents[1] / "bpmn" / "review_case"
ENGLISH = {
    "测试审核流程": "Test review process",
    "提交申请": "Submit application",
    "审核申请": "Review the application",
    "审核结论": "Decision",
    "通过": "Approve",
    "不予通过": "Refuse",
    "退回补正": "Return for correction",
    "审核意见": "Review opinion",
    "申请事由": "Reason",
}


def _review_task(seeded: Session) -> HumanTask:
    files = read_bundle_dir(BUNDLE)
    files["review_case.i18n.json"] = json.dumps({"en": ENGLISH}, ensure_ascii=False).encode()
    deploy_bundle(seeded, files)
    ent = user(seeded, "ent_chengxi")
    instance = instances.start_instance(seeded, "review_case", {}, ent)
    submit = only_task(seeded, instance.id, "submit_application")
    tasks.complete(seeded, submit.id, {"claim": "申请修复"}, ent)
    seeded.commit()
    return only_task(seeded, instance.id, "review_application")


def test_english_pages_show_the_models_translations_and_keep_the_values(
    client: FlaskClient, seeded: Session
) -> None:
    task = _review_task(seeded)
    login(client, "rev_samr")

    inbox = client.get("/approver/inbox?lang=en").text
    assert "Review the application" in inbox and "审核申请" not in inbox
    assert "Test review process" in inbox

    page = client.get(f"/tasks/{task.id}?lang=en").text
    assert "<title>Review the application" in page
    assert "<h1>Review the application</h1>" in page
    for label in ("Decision", "Review opinion", "Approve", "Refuse", "Return for correction"):
        assert label in page, label
    for chinese in ("审核结论", "审核意见", "不予通过", "退回补正"):
        assert chinese not in page, chinese
    assert 'value="approve"' in page and 'value="reject"' in page  # enum values unchanged

    token = csrf_token(client, f"/tasks/{task.id}")
    answer = client.post(
        f"/tasks/{task.id}?lang=en",
        data={"csrf_token": token, "decision": "reject", "opinion": "No."},
        content_type="multipart/form-data",
    )
    assert answer.status_code in (302, 303), answer.text[:500]
    seeded.expire_all()
    done = seeded.get(HumanTask, task.id)
    assert done is not None and done.state == "completed"
    assert done.form_data == {"decision": "reject", "opinion": "No."}


def test_chinese_pages_keep_the_models_own_texts(client: FlaskClient, seeded: Session) -> None:
    task = _review_task(seeded)
    login(client, "rev_samr")
    inbox = client.get("/approver/inbox?lang=zh_CN").text
    assert "审核申请" in inbox and "Review the application" not in inbox
    page = client.get(f"/tasks/{task.id}?lang=zh_CN").text
    assert "<h1>审核申请</h1>" in page
    for chinese in ("审核结论", "审核意见", "不予通过", "退回补正"):
        assert chinese in page, chinese
    assert "Review opinion" not in page
