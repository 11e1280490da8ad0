"""The Content-Security-Policy in Chromium: the studio (bpmn-js modeler, properties panel, dmn-js)
and Swagger UI work with no violation, and an injected inline script does not run."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile
    + ":" + e.lineNumber);
});
"""


def _watch(page: Any) -> list[str]:
    """Record CSP violations (DOM events and console messages) and page errors."""
    seen: list[str] = []
    page.add_init_script(WATCH)
    page.on(
        "console",
        lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.on("pageerror", lambda exc: seen.append(f"pageerror: {exc}"))
    return seen


def _violations(page: Any, seen: list[str]) -> list[str]:
    return seen + list(page.evaluate("() => window.__csp || []"))


def test_studio_modeler_properties_and_dmn_run_under_the_csp(page: Any, sign_in: Any) -> None:
    seen = _watch(page)
    sign_in(page, "owner")
    page.goto("/studio/processes/objection_handling")
    with page.expect_navigation():
        page.locator(
            "form[action$='/studio/processes/objection_handling/drafts'] button[type=submit]"
        ).first.click()
    assert re.search(r"/studio/drafts/\d+", page.url), page.url
    response = page.request.get(page.url)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy and "frame-ancestors 'none'" in policy
    page.wait_for_function("() => window.cfStudio && window.cfStudio.ready")
    page.evaluate("() => window.cfStudio.ready.then(() => true)")
    assert page.locator(".djs-container svg .djs-element").count() > 5  # the diagram is drawn

    page.evaluate("(id) => window.cfStudio.select(id)", "time_limits")
    page.wait_for_selector(".bio-properties-panel-header-label")
    page.locator("#studio-properties button[data-action=open-decision]").click()
    pane = page.locator('.studio-pane[data-file="objection_handling__time_limits.dmn"]')
    pane.locator('td[data-element-id="rule_sh_2017_limit_flag_days"]').wait_for()
    assert pane.get_by_text("命中策略：").is_visible()
    assert _violations(page, seen) == []

    # The policy is enforced: a script injected into the page does not run.
    page.evaluate(
        "() => document.body.appendChild(Object.assign(document.createElement('script'),"
        " {textContent: 'window.__injected = true'}))"
    )
    assert page.evaluate("() => window.__injected === undefined")
    assert any("script-src" in v for v in _violations(page, seen))


def test_swagger_ui_runs_under_the_csp(page: Any) -> None:
    seen = _watch(page)
    page.goto("/api/docs")
    page.locator("#swagger-ui .opblock").first.wait_for()
    assert page.locator("#api-list").is_hidden()  # the nonce'd inline script ran
    assert _violations(page, seen) == []
