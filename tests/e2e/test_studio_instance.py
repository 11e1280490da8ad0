"""Studio instance page in Chromium: the process owner finds a running 信用修复 case in the
instance list, opens it, and sees the diagram mark the completed and the active elements, the
path taken and the task list; then suspends and resumes it with the page's buttons.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

CHENGXI = "91310114MA1GT8QX92"
SUBMIT = "submit_application"
SUBMIT_NAME = "提交信用修复申请并签署承诺书"


def _repairable_record(api: Any) -> int:
    from datetime import date

    today = date.today().isoformat()
    items = api.get(f"/subjects/{CHENGXI}/records", "ent_chengxi")["items"]
    ids = [
        r["id"]
        for r in items
        if r["status"] == "published" and r["repairable"] and r["repairable_from"] <= today
    ]
    assert ids, items
    return int(ids[0])


def test_owner_sees_completed_and_active_elements(
    page: Any, api: Any, sign_in: Any, screenshot: Any
) -> None:
    started = api.post(
        "/process-instances",
        "ent_chengxi",
        {"process_key": "credit_repair", "data": {"record_ids": [_repairable_record(api)]}},
    )
    instance_id = started["id"]
    assert started["status"] == "running", started

    sign_in(page, "owner")
    page.goto("/studio/processes/credit_repair/instances?status=running")
    row = page.locator(f'#cf-instances tr[data-instance="{instance_id}"]')
    assert SUBMIT_NAME in row.inner_text()
    screenshot(page, "instances")
    with page.expect_navigation():
        row.get_by_role("link", name=f"#{instance_id}").click()
    assert page.url.endswith(f"/studio/instances/{instance_id}")

    page.wait_for_selector('#cf-diagram[data-rendered="ok"]')
    completed = page.locator("#cf-diagram g.djs-element.cf-completed")
    active = page.locator("#cf-diagram g.djs-element.cf-active")
    assert completed.count() >= 3, completed.count()
    assert active.count() >= 1
    marked_completed = completed.evaluate_all("els => els.map(e => e.dataset.elementId)")
    marked_active = active.evaluate_all("els => els.map(e => e.dataset.elementId)")
    assert {"start", "prepare_application", "check_eligibility"} <= set(marked_completed)
    # The waiting user task is drawn inside the expanded intake sub-process (or the collapsed
    # sub-process stands for it): either way an active marker is on it.
    assert SUBMIT in marked_active or "intake" in marked_active, marked_active
    assert page.locator("#cf-diagram g.djs-element.cf-errored").count() == 0

    path = page.locator("#cf-path li").all_inner_texts()
    assert path[0].startswith("企业申请信用修复"), path
    assert any("逐条审查修复资格" in step for step in path)
    task_row = page.locator(f'#cf-tasks tr[data-element="{SUBMIT}"]')
    assert SUBMIT_NAME in task_row.inner_text() and "待办" in task_row.inner_text()
    assert "record_ids" in page.locator("#cf-data").inner_text()
    assert page.locator('#cf-audit tr[data-action="instance.started"]').count() == 1
    page.locator("#cf-diagram").scroll_into_view_if_needed()
    screenshot(page, "instance")

    with page.expect_navigation():
        page.get_by_role("button", name="挂起").click()
    assert page.locator(".flash-success").inner_text().startswith("实例已挂起")
    assert re.search("已挂起", page.locator("h1").inner_text())
    with page.expect_navigation():
        page.get_by_role("button", name="恢复").click()
    assert re.search("运行中", page.locator("h1").inner_text())
    assert page.locator('#cf-audit tr[data-action="instance.resumed"]').count() == 1
    screenshot(page, "resumed")

    # Migration starts with a dry run; moving onto the version it is on is refused with the reason.
    page.goto("/studio/processes/credit_repair/migrate")
    page.locator(f'#cf-choose input[name="ids"][value="{instance_id}"]').check()
    with page.expect_navigation():
        page.get_by_role("button", name="预演迁移").click()
    refused = page.locator(f'#cf-dry-run tr[data-instance="{instance_id}"]')
    assert "不能迁移" in refused.inner_text() and "无需迁移" in refused.inner_text()
    assert page.get_by_role("button", name="确认迁移勾选的实例").count() == 0
    screenshot(page, "dry-run")
