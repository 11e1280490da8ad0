"""容缺受理 end to end: a deferred material is returned once with a reason, then accepted.

ent_hongqiao (grade A) applies for 食品经营许可（新办） deferring 食品安全管理制度文本, signs the
commitment, the window approves, the enterprise uploads the material in the task form, the SAMR
reviewer returns it, the enterprise uploads it again and the reviewer accepts.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import PDF

pytestmark = pytest.mark.e2e

KEY = "rongque_acceptance"
MATTER = "SAMR-SPJY-001"


def _material(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def test_rongque_material_returned_once_then_accepted(
    page: Any, api: Any, flow: Any, screenshot: Any, sign_in: Any, page_exists: Any
) -> None:
    sign_in(page, "ent_hongqiao")
    listed = api.get(f"/process-instances?process_key={KEY}", "ent_hongqiao")["items"]
    before = {i["id"] for i in listed}
    if page_exists(page, f"/enterprise/apply/matters/{MATTER}"):
        page.goto(f"/enterprise/apply/matters/{MATTER}")
        mode = page.locator('input[name="mode"][value="rongque"]')
        if mode.count():
            mode.check()
        page.locator('input[name="deferred_materials"][value="safety_rules"]').check()
        screenshot(page, "apply-matter")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").last.click()
        listed = api.get(f"/process-instances?process_key={KEY}", "ent_hongqiao")["items"]
        (instance_id,) = [i["id"] for i in listed if i["id"] not in before]
        screenshot(page, "applied")
    else:
        flow.via_api.append("apply (start rongque_acceptance)")
        data = {"matter_code": MATTER, "deferred_materials": ["safety_rules"]}
        instance_id = api.post(
            "/process-instances", "ent_hongqiao", {"process_key": KEY, "data": data}
        )["id"]

    flow.complete(
        "ent_hongqiao",
        instance_id,
        "sign_commitment",
        {"agree": True, "signer_name": "陈某某"},
        "sign",
    )
    flow.complete(
        "clerk_window",
        instance_id,
        "accept_application",
        {"decision": "approve", "opinion": "主要材料齐全"},
        "window",
    )
    flow.complete(
        "ent_hongqiao",
        instance_id,
        "supplement_material",
        {"attachment": _material("制度-第一版.pdf")},
        "supply-1",
    )
    flow.complete(
        "rev_samr",
        instance_id,
        "review_supplement",
        {"decision": "return", "opinion": "制度文本缺少公章"},
        "return",
    )
    # The enterprise sees why and supplies the material again.
    again = api.wait_task("ent_hongqiao", instance_id, "supplement_material")
    shown = flow.page_for("ent_hongqiao")
    shown.goto(f"/tasks/{again['id']}")
    assert "制度文本缺少公章" in shown.locator("main").inner_text()
    flow.complete(
        "ent_hongqiao",
        instance_id,
        "supplement_material",
        {"attachment": _material("制度-盖章版.pdf")},
        "supply-2",
    )
    flow.complete(
        "rev_samr",
        instance_id,
        "review_supplement",
        {"decision": "accept", "opinion": "合格"},
        "accept",
    )

    final = api.get(f"/process-instances/{instance_id}", "ent_hongqiao")
    assert final["status"] == "completed", final
    actions = [h["action"] for h in final["history"]]
    assert "rongque.material_returned" in actions and "rongque.material_accepted" in actions
    if page_exists(page, f"/enterprise/applications/{instance_id}"):
        page.goto(f"/enterprise/applications/{instance_id}")
        screenshot(page, "application-done")
    print("driven through the API:", flow.via_api or "nothing", "; notes:", flow.notes)
