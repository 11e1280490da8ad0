"""信用修复"一件事" end to end (issue 5): two records of two departments, window, two reviews.

ent_chengxi applies in the browser, the window (clerk_window) and the reviewers of SAMR and NDRC
work their inbox and task pages, and the enterprise sees its records repaired and the decision
document. The proofs (an array of file fields) are submitted through the REST API.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

CHENGXI = "91310114MA1GT8QX92"


def _two_records(api: Any) -> list[dict[str, Any]]:
    today = date.today().isoformat()
    items = api.get(f"/subjects/{CHENGXI}/records", "ent_chengxi")["items"]
    chosen = []
    for dept in ("samr", "ndrc"):
        candidates = [
            r
            for r in items
            if r["department"] == dept
            and r["type"] == "administrative_penalty"
            and r["severity"] == "general"
            and r["status"] == "published"
            and r["repairable"]
            and r["repairable_from"] <= today
        ]
        assert candidates, (dept, items)
        chosen.append(candidates[0])
    return chosen


def test_repair_two_records_window_two_departments(
    page: Any, api: Any, flow: Any, screenshot: Any, sign_in: Any, page_exists: Any
) -> None:
    records = _two_records(api)
    ids = [r["id"] for r in records]
    sign_in(page, "ent_chengxi")
    before = {
        i["id"]
        for i in api.get("/process-instances?process_key=credit_repair", "ent_chengxi")["items"]
    }

    if page_exists(page, "/enterprise/apply/repair"):
        page.goto("/enterprise/apply/repair")
        for record_id in ids:
            page.locator(f'input[name="record_ids"][value="{record_id}"]').check()
        screenshot(page, "apply-repair")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").last.click()
        listed = api.get("/process-instances?process_key=credit_repair", "ent_chengxi")["items"]
        (instance_id,) = [i["id"] for i in listed if i["id"] not in before]
        screenshot(page, "applied")
    else:
        flow.via_api.append("apply (start credit_repair)")
        started = api.post(
            "/process-instances",
            "ent_chengxi",
            {"process_key": "credit_repair", "data": {"record_ids": ids}},
        )
        instance_id = started["id"]

    # The application form has one prefilled row per record: confirm and attach each proof.
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    form: dict[str, Any] = {"agree": True, "signer_name": "王某某"}
    for row in range(len(ids)):
        form[f"proofs.{row}.discharged"] = True
        form[f"proofs.{row}.proof"] = {
            "name": f"缴款凭证{row + 1}.pdf",
            "mimeType": "application/pdf",
            "buffer": pdf,
        }
    flow.complete("ent_chengxi", instance_id, "submit_application", form, "submit")

    flow.complete(
        "clerk_window",
        instance_id,
        "accept_application",
        {"decision": "accept", "opinion": "材料齐全"},
        "window",
    )
    for who in ("rev_samr", "rev_ndrc"):
        flow.complete(
            who,
            instance_id,
            "review_records",
            {"decision": "approve", "opinion": "已履行，同意修复"},
            who,
        )

    final = api.get(f"/process-instances/{instance_id}", "ent_chengxi")
    assert final["status"] == "completed", final
    status = {
        r["id"]: r["status"]
        for r in api.get(f"/subjects/{CHENGXI}/records", "ent_chengxi")["items"]
    }
    assert status[ids[0]] == status[ids[1]] == "repaired"

    # The enterprise sees the result in the browser.
    page.reload()
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="我的信用记录").click()
    page.wait_for_load_state()
    text = page.locator("main").inner_text()
    for record in records:
        assert record["decision_no"] in text
    assert "已修复" in text, text
    screenshot(page, "records-repaired")
    if page_exists(page, f"/enterprise/applications/{instance_id}"):
        page.goto(f"/enterprise/applications/{instance_id}")
        text = page.locator("main").inner_text()
        assert "准予" in text or "已办结" in text or "办结" in text, text
        # The decision document is issued by the worker: ready to download, or being prepared.
        download = page.get_by_role("link", name="下载")
        assert download.count() or "正在准备" in text, text
        # The bpmn-js viewer draws the (auto-laid-out) diagram with the path taken marked.
        page.wait_for_selector("#cf-diagram .djs-element", timeout=10_000)
        assert page.locator("#cf-diagram .cf-completed").count() >= 3
        screenshot(page, "application-done")
    else:
        flow.via_api.append("enterprise application page")
    print("driven through the API:", flow.via_api or "nothing", "; notes:", flow.notes)
