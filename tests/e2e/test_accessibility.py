"""axe-core on the main pages in Chromium: no serious or critical accessibility violation.

axe-core (node_modules/axe-core/axe.min.js, installed by `make assets`) is injected into each page
after it has loaded; the WCAG 2.x A/AA rules plus best practices run, and every violation with
impact "serious" or "critical" is reported by page, rule id and target. Each page is checked in
Chinese (the default) and the sign-in page also in English, since the `lang` attribute and the
text lengths change with the language.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHENGXI = "91310114MA1GT8QX92"
BLOCKING = {"serious", "critical"}
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    resultTypes: ["violations"],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(" ")).slice(0, 8),
  }));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make assets` (npm ci installs axe-core)")
    return AXE.read_text()


def _violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Through DevTools rather than a <script> tag: the pages' CSP allows only nonced scripts.
        page.evaluate(axe_source + "\n;true")
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]


class Audit:
    """Collects the blocking violations of every page visited, reported together at the end."""

    def __init__(self, axe_source: str) -> None:
        self.axe_source = axe_source
        self.found: list[str] = []
        self.checked: list[str] = []

    def check(self, page: Any, label: str) -> None:
        self.checked.append(label)
        for v in _violations(page, self.axe_source):
            self.found.append(
                f"{label} ({page.url}): [{v['impact']}] {v['id']}: {v['help']}\n"
                + "\n".join(f"      {t}" for t in v["targets"])
            )

    def visit(self, page: Any, path: str, label: str | None = None, status: int = 200) -> None:
        response = page.goto(path)
        assert response is not None, path
        assert response.status == status, f"{path}: {response.status}"
        self.check(page, label or path)

    def assert_clean(self) -> None:
        assert not self.found, (
            f"{len(self.found)} serious/critical axe-core violation(s) on "
            f"{len(self.checked)} pages:\n" + "\n".join(self.found)
        )


def _repairable_record(api: Any) -> int:
    today = date.today().isoformat()
    items = api.get(f"/subjects/{CHENGXI}/records", "ent_chengxi")["items"]
    ok = [r for r in items if r.get("repairable") and (r.get("repairable_from") or "") <= today]
    assert ok, items
    return int(ok[0]["id"])


def test_public_pages_have_no_serious_violations(page: Any, axe_source: str) -> None:
    audit = Audit(axe_source)
    audit.visit(page, "/login")
    page.fill("#username", "nobody")
    page.fill("#password", "wrong-password-1")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    audit.check(page, "/login (failed sign-in)")
    audit.visit(page, "/register")
    unknown = "/verify/%E4%BF%A1%E6%89%BF%E3%80%942099%E3%80%95999%E5%8F%B7"
    audit.visit(page, unknown, "/verify (unknown document)", status=404)
    audit.visit(page, "/login?lang=en", "/login in English")
    audit.visit(page, "/register?lang=en", "/register in English")
    audit.assert_clean()


def test_enterprise_pages_and_a_task_form_with_errors(
    page: Any, api: Any, sign_in: Any, axe_source: str
) -> None:
    audit = Audit(axe_source)
    record_id = _repairable_record(api)
    started = api.post(
        "/process-instances",
        "ent_chengxi",
        {"process_key": "credit_repair", "data": {"record_ids": [record_id]}},
    )
    try:
        _audit_enterprise_pages(page, api, sign_in, audit, started)
    finally:  # the live server is shared: give the record back to the other browser tests
        api.post(
            f"/process-instances/{started['id']}/terminate",
            "owner",
            {"reason": "无障碍检查结束"},
        )


def _audit_enterprise_pages(
    page: Any, api: Any, sign_in: Any, audit: Audit, started: dict[str, Any]
) -> None:
    task = api.wait_task("ent_chengxi", started["id"], "submit_application")

    sign_in(page, "ent_chengxi")
    audit.check(page, "home (enterprise)")
    for path in (
        "/enterprise/records",
        "/enterprise/apply",
        "/enterprise/apply/repair",
        "/enterprise/apply/matters",
        "/enterprise/applications",
        f"/enterprise/applications/{started['id']}",
        "/notifications",
    ):
        audit.visit(page, path)

    audit.visit(page, f"/tasks/{task['id']}", "task page")
    page.locator("#task-form button[type=submit]").click()  # empty: the server refuses it
    page.wait_for_selector("#task-form [aria-invalid=true]")
    audit.check(page, "task page with validation errors")
    audit.visit(page, f"/tasks/{task['id']}?lang=en", "task page in English")
    audit.assert_clean()


def _objectable_record(api: Any) -> int:
    items = api.get(f"/subjects/{CHENGXI}/records", "ent_chengxi")["items"]
    today = date.today().isoformat()
    published = [r for r in items if r["status"] == "published"]
    # Object to a record that cannot be repaired today: the repair and studio browser tests
    # (same live server) need the repairable ones.
    ok = [
        r
        for r in published
        if not r.get("repairable") or (r.get("repairable_from") or "9999") > today
    ]
    ok = ok or published
    assert ok, items
    return int(ok[-1]["id"])


def test_approver_admin_and_studio_pages(
    page: Any, api: Any, sign_in: Any, sign_out: Any, axe_source: str
) -> None:
    audit = Audit(axe_source)
    started = api.post(
        "/process-instances",
        "ent_chengxi",
        {
            "process_key": "objection_handling",
            "data": {"record_id": _objectable_record(api), "ground": "wrong_info", "claim": "有误"},
        },
    )
    api.wait_task("clerk_window", started["id"], "platform_check")

    sign_in(page, "clerk_window")
    audit.check(page, "home (approver)")
    audit.visit(page, "/approver/inbox")
    audit.visit(page, f"/approver/cases/{started['id']}", "approver case page")
    for scope in ("mine", "done", "department"):
        audit.visit(page, f"/approver/inbox?scope={scope}")
    audit.visit(page, "/notifications")
    sign_out(page)

    sign_in(page, "admin")
    audit.check(page, "home (admin)")
    audit.visit(page, "/admin/")
    sign_out(page)

    sign_in(page, "owner")
    audit.visit(page, "/studio/")
    audit.visit(page, "/studio/processes/credit_repair")
    audit.visit(page, "/studio/processes/credit_repair/instances")
    audit.visit(page, f"/studio/instances/{started['id']}", "studio instance page")
    audit.visit(page, "/studio/?lang=en", "/studio/ in English")
    audit.assert_clean()


def test_keyboard_reaches_the_sign_in_form_and_the_skip_link(page: Any) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.getAttribute('href')")
    assert first == "#main", "the first Tab stop is the skip link to the main content"
    page.keyboard.press("Enter")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "username":
            break
    else:
        pytest.fail("the user-name field cannot be reached with Tab from the skip link")
    page.keyboard.type("ent_chengxi")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url, json.dumps(page.url)
