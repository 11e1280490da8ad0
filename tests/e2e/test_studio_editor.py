"""The studio's modeler page in Chromium (issue 6): open a draft of a shipped process, edit and
save, live lint, server validation linked to the elements, deploy a new version and see it run,
and saving each shipped BPMN keeps every element id and every extension element.

Only `objection_handling` is deployed here (no other e2e test walks it), and the new version
stays valid: a user task is renamed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
CHENGXI = "91310114MA1GT8QX92"
SHIPPED = sorted(p.stem for p in BPMN_DIR.glob("*.bpmn"))


def _open_new_draft(page: Any, key: str) -> str:
    """From the process page, make a draft of the current version; returns the draft's URL."""
    page.goto(f"/studio/processes/{key}")
    with page.expect_navigation():
        page.locator(
            f"form[action$='/studio/processes/{key}/drafts'] button[type=submit]"
        ).first.click()
    assert re.search(r"/studio/drafts/\d+", page.url), page.url
    _wait_ready(page)
    return page.url.split("#")[0]


def _wait_ready(page: Any) -> None:
    page.wait_for_function("() => window.cfStudio && window.cfStudio.ready")
    page.evaluate("() => window.cfStudio.ready.then(() => true)")


def _select(page: Any, element_id: str) -> None:
    page.evaluate("(id) => window.cfStudio.select(id)", element_id)
    page.wait_for_selector(f".bio-properties-panel-header-label >> text={_name(page, element_id)}")


def _name(page: Any, element_id: str) -> str:
    return page.evaluate(
        "(id) => window.cfStudio.modeler.get('elementRegistry').get(id).businessObject.name",
        element_id,
    )


def _selected(page: Any) -> list[str]:
    return page.evaluate("() => window.cfStudio.modeler.get('selection').get().map((e) => e.id)")


def _saved_files(page: Any) -> dict[str, str]:
    return page.evaluate(
        "() => fetch(window.cfStudio.config.urls.files, {headers: {Accept: 'application/json'}})"
        ".then((r) => r.json()).then((b) => b.files)"
    )


def _open_group(page: Any, label: str) -> None:
    header = page.locator(".bio-properties-panel-group-header", has_text=label).first
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def test_open_edit_save_lint_and_validate(page: Any, sign_in: Any, screenshot: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, "owner")
    draft_url = _open_new_draft(page, "objection_handling")

    # The diagram (shipped without layout) is drawn, and the properties are in Chinese.
    assert page.locator('.djs-element[data-element-id="platform_check"]').count() == 1
    _select(page, "platform_check")
    panel = page.locator("#studio-properties")
    for label in ("常规", "表单与办理说明", "表单文件", "办理说明", "所在泳道（办理角色）"):
        assert panel.get_by_text(label, exact=True).first.is_visible(), label
    assert panel.locator("select[name='cf-form-file']").input_value() == (
        "objection_handling__platform_check.json"
    )
    assert (
        "一口受理窗口"
        in panel.locator("select[name='cf-lane-of-node'] option:checked").inner_text()
    )
    screenshot(page, "user-task")

    # Rename the user task in the panel: the page turns dirty; Ctrl+S saves it on the server.
    _open_group(page, "常规")
    panel.locator("#bio-properties-panel-name").fill("平台核查异议申请（已改名）")
    page.wait_for_selector("#studio-dirty:not([hidden])")
    assert page.locator('.studio-tab[data-file="objection_handling.bpmn"].dirty').count() == 1
    page.keyboard.press("Control+s")
    page.wait_for_selector("#studio-status[data-kind=ok]")
    assert re.match(r"已保存（\d\d:\d\d:\d\d）", page.locator("#studio-status").inner_text())
    assert page.locator("#studio-dirty").is_hidden()
    saved = _saved_files(page)["objection_handling.bpmn"]
    assert 'name="平台核查异议申请（已改名）"' in saved

    # Pick another form file for the task, and the timer's due date preview answers.
    panel.locator("select[name='cf-form-file']").select_option(
        "objection_handling__decide_final.json"
    )
    page.locator("#btn-save").click()
    page.wait_for_selector("#studio-status[data-kind=ok]")
    saved = _saved_files(page)["objection_handling.bpmn"]
    assert 'value="objection_handling__decide_final.json"' in saved
    _select(page, "platform_check_deadline")
    assert panel.locator("select[name='cf-timer-kind']").input_value() == "timeDate"
    assert panel.locator("#bio-properties-panel-cf-timer-expression").input_value() == "check_due"
    panel.locator(".cf-timer-examples button", has_text="deadline_after_working_days(5)").click()
    expression = panel.locator("#bio-properties-panel-cf-timer-expression")
    assert expression.input_value() == "deadline_after_working_days(5)"
    page.wait_for_selector(".cf-timer-preview[data-kind=ok]")
    assert re.search(r"\d{4}-\d\d-\d\d|\d+月\d+日", panel.locator(".cf-timer-preview").inner_text())
    page.evaluate("() => window.cfStudio.modeler.get('commandStack').undo()")
    page.wait_for_function(  # undone: the timer keeps its modelled expression
        "() => document.querySelector('#bio-properties-panel-cf-timer-expression').value"
        " === 'check_due'"
    )
    screenshot(page, "timer")

    # A service task without handler: live lint marks it on the canvas.
    _select(page, "accept_objection")
    panel.locator("select[name='cf-service-handler']").select_option("")
    page.wait_for_selector('.djs-overlays[data-container-id="accept_objection"] .bjsl-overlay')
    assert page.locator(".bjsl-button-error").is_visible()
    issues = page.evaluate("() => window.cfStudio.lint()")
    assert any(i["id"] == "accept_objection" and i["category"] == "error" for i in issues), issues
    screenshot(page, "lint")

    # Server validation (saves first) lists the problem; clicking it selects the element.
    _select(page, "platform_check")
    page.locator("#btn-validate").click()
    problem = page.locator('#studio-problems .problem-link[data-element="accept_objection"]')
    problem.first.wait_for()
    assert "accept_objection" in page.locator("#studio-problems").inner_text()
    problem.first.click()
    assert _selected(page) == ["accept_objection"]
    screenshot(page, "validated")

    # Put the handler back: the draft validates again.
    panel.locator("select[name='cf-service-handler']").select_option("objections.accept")
    page.locator("#btn-validate").click()
    page.wait_for_selector("#studio-problems[data-ok=true]")

    # `#element=<id>` selects an element on load.
    page.goto(draft_url + "#element=time_limits")
    _wait_ready(page)
    assert _selected(page) == ["time_limits"]
    assert errors == []


def test_live_lint_speaks_english_on_an_english_page(page: Any, sign_in: Any) -> None:
    """With the UI in English (`?lang=en`), the live lint's messages are English too."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, "owner")
    page.goto("/studio/processes/objection_handling?lang=en")  # remembered in the session
    _open_new_draft(page, "objection_handling")
    assert page.locator("html").get_attribute("lang") == "en"

    # The same problem as above: a service task without handler.
    _select(page, "accept_objection")
    page.locator("#studio-properties select[name='cf-service-handler']").select_option("")
    page.wait_for_selector('.djs-overlays[data-container-id="accept_objection"] .bjsl-overlay')
    issues = page.evaluate("() => window.cfStudio.lint()")
    mine = [i for i in issues if i["id"] == "accept_objection" and i["category"] == "error"]
    assert mine, issues
    assert any(
        i["message"].startswith("Service task") and "(accept_objection)" in i["message"]
        for i in mine
    ), mine

    # Element names are the model's own (Chinese here); everything else is English.
    xml = page.evaluate("() => window.cfStudio.modeler.saveXML().then((r) => r.xml)")
    names = {" ".join(v.split()) for el in ET.fromstring(xml).iter() if (v := el.get("name"))}
    for issue in issues:
        text = issue["message"]
        for name in sorted(names, key=len, reverse=True):
            text = text.replace(name, "")
        assert issue["message"].strip(), issue
        assert not re.search(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]", text), issue
    assert errors == []


def test_stale_save_is_refused_and_offers_reload(
    page: Any, new_page: Any, sign_in: Any, screenshot: Any
) -> None:
    sign_in(page, "owner")
    draft_url = _open_new_draft(page, "objection_handling")
    other = new_page()
    sign_in(other, "owner")
    other.goto(draft_url)
    _wait_ready(other)

    _select(page, "platform_check")
    _open_group(page, "常规")
    page.locator("#bio-properties-panel-name").fill("第一人的修改")
    page.locator("#btn-save").click()
    page.wait_for_selector("#studio-status[data-kind=ok]")

    _select(other, "platform_check")
    _open_group(other, "常规")
    other.locator("#bio-properties-panel-name").fill("第二人的修改")
    other.locator("#btn-save").click()
    other.wait_for_selector("#studio-save-problem:not([hidden])")
    assert "保存冲突" in other.locator("#studio-save-problem").inner_text()
    assert other.locator("#btn-reload").is_visible()
    assert other.locator("#studio-dirty").is_visible()  # nothing was lost in the page
    screenshot(other, "conflict")
    assert "第一人的修改" in _saved_files(page)["objection_handling.bpmn"]


def test_dmn_and_form_tabs(page: Any, sign_in: Any, screenshot: Any) -> None:
    sign_in(page, "owner")
    _open_new_draft(page, "objection_handling")

    # The business rule task links to its decision table, which is editable.
    _select(page, "time_limits")
    page.locator("#studio-properties button[data-action=open-decision]").click()
    pane = page.locator('.studio-pane[data-file="objection_handling__time_limits.dmn"]')
    cell = pane.locator('td[data-element-id="rule_sh_2017_limit_flag_days"]')
    cell.wait_for()
    assert pane.get_by_text("命中策略：").is_visible()
    cell.click()
    page.keyboard.press("End")
    page.keyboard.type("0")
    page.wait_for_selector('.studio-tab[data-file="objection_handling__time_limits.dmn"].dirty')
    screenshot(page, "dmn")

    # The user task's form opens in its tab; the preview renders it like the task page.
    page.locator(".studio-tab", has_text="流程图").click()
    _select(page, "platform_check")
    page.locator("#studio-properties button[data-action=open-form]").click()
    form_pane = page.locator('.studio-pane[data-file="objection_handling__platform_check.json"]')
    form_pane.locator("button[data-action=preview]").click()
    form_pane.locator(".studio-form-preview").get_by_text("核查结论").first.wait_for()
    editor = form_pane.locator("textarea.studio-code")
    editor.fill(editor.input_value().replace('"title": "核查结论"', '"title": "核查结论（新）"'))
    form_pane.locator("button[data-action=preview]").click()
    form_pane.locator(".studio-form-preview").get_by_text("核查结论（新）").first.wait_for()
    editor.fill("{ not json")
    form_pane.locator("button[data-action=preview]").click()
    assert "JSON 格式错误" in form_pane.locator(".studio-form-error").inner_text()
    editor.fill(editor.input_value().replace("{ not json", '{"type": "object", "properties": {}}'))
    screenshot(page, "form")

    page.locator("#btn-save").click()
    page.wait_for_selector("#studio-status[data-kind=ok]")
    files = _saved_files(page)
    assert re.search(
        r'rule_sh_2017_limit_flag_days">\s*<text>10</text>',
        files["objection_handling__time_limits.dmn"],
    )
    assert (
        files["objection_handling__platform_check.json"] == '{"type": "object", "properties": {}}'
    )


def test_testrun_dialog_starts_a_sandbox_run(page: Any, sign_in: Any) -> None:
    sign_in(page, "owner")
    _open_new_draft(page, "objection_handling")
    page.locator("#btn-testrun").click()
    page.fill("#testrun-sample", "{record_id: 1")
    page.locator("#testrun-start").click()
    assert "样例数据不是合法的 JSON" in page.locator("#testrun-error").inner_text()
    page.fill("#testrun-sample", '{"record_id": 1, "ground": "wrong_info", "claim": "试运行"}')
    with page.expect_navigation():
        page.locator("#testrun-start").click()
    assert re.search(r"/studio/testruns/\d+$", page.url), page.url


def _objection_record(api: Any) -> int:
    """A published record of the demo enterprise that the repair e2e test does not pick."""
    items = api.get(f"/subjects/{CHENGXI}/records", "ent_chengxi")["items"]
    candidates = [
        r
        for r in items
        if r["status"] == "published"
        and not (
            r["department"] in ("samr", "ndrc")
            and r["type"] == "administrative_penalty"
            and r["severity"] == "general"
        )
    ]
    assert candidates, items
    return int(candidates[-1]["id"])


def test_deploy_new_version_and_run_it(page: Any, api: Any, sign_in: Any, screenshot: Any) -> None:
    sign_in(page, "owner")
    _open_new_draft(page, "objection_handling")
    new_name = "平台核查异议申请（新版流程）"
    _select(page, "platform_check")
    _open_group(page, "常规")
    page.locator("#bio-properties-panel-name").fill(new_name)
    page.wait_for_selector("#studio-dirty:not([hidden])")

    # 发布 saves the change first, then shows the confirmation with the diff.
    with page.expect_navigation():
        page.locator("#btn-deploy").click()
    assert page.url.endswith("/deploy"), page.url
    assert "platform_check" in page.content()
    screenshot(page, "confirm")
    with page.expect_navigation():
        page.get_by_role("button", name="确认发布为新版本").click()
    flash = page.locator(".flash").first.inner_text()
    version = int(re.search(r"已发布为版本\s*(\d+)", flash).group(1))  # type: ignore[union-attr]
    assert version >= 2
    screenshot(page, "deployed")

    started = api.post(
        "/process-instances",
        "ent_chengxi",
        {
            "process_key": "objection_handling",
            "data": {
                "record_id": _objection_record(api),
                "ground": "wrong_info",
                "claim": "记录内容与实际情况不符（工作室发布测试）",
            },
        },
    )
    assert started["version"] == version
    tasks = [t for t in started["tasks"] if t["bpmn_id"] == "platform_check"]
    if not tasks:  # the objection was refused (already under objection): still the new version
        assert started["status"] in ("running", "completed"), started
    else:
        assert tasks[0]["name"] == new_name


def _owner_id(node: ET.Element, parents: dict[ET.Element, ET.Element]) -> str:
    current: ET.Element | None = node
    while current is not None and current.get("id") is None:
        current = parents.get(current)
    return current.get("id", "") if current is not None else ""


def _canonical(node: ET.Element) -> str:
    attrs = " ".join(f"{k}={v!r}" for k, v in sorted(node.attrib.items()))
    children = "".join(_canonical(c) for c in node)
    return f"<{node.tag} {attrs}>{(node.text or '').strip()}{children}</{node.tag}>"


def _extensions(xml: str) -> Counter[tuple[str, str]]:
    """Every top-level spiffworkflow element with the id of the element it belongs to."""
    root = ET.fromstring(xml.encode())
    parents = {child: parent for parent in root.iter() for child in parent}
    found: Counter[tuple[str, str]] = Counter()
    for node in root.iter():
        if isinstance(node.tag, str) and node.tag.startswith(SPIFF):
            parent = parents.get(node)
            if parent is not None and parent.tag.startswith(SPIFF):
                continue  # part of an outer extension element, compared with it
            found[(_owner_id(node, parents), _canonical(node))] += 1
    return found


def _ids(xml: str) -> set[str]:
    return {n.get("id", "") for n in ET.fromstring(xml.encode()).iter() if n.get("id")}


@pytest.mark.parametrize("key", SHIPPED)
def test_saving_a_shipped_bpmn_keeps_ids_and_extensions(page: Any, sign_in: Any, key: str) -> None:
    original = (BPMN_DIR / f"{key}.bpmn").read_text(encoding="utf-8")
    sign_in(page, "owner")
    _open_new_draft(page, key)
    page.evaluate("() => window.cfStudio.save()")
    saved = _saved_files(page)[f"{key}.bpmn"]
    assert saved != original  # written by the modeler (with the layout), not the old text
    missing_ids = _ids(original) - _ids(saved)
    assert not missing_ids
    lost = _extensions(original) - _extensions(saved)
    assert not lost, list(lost)[:5]
    assert "BPMNShape" in saved
    problems = page.evaluate("() => window.cfStudio.validate()")
    assert problems == [], problems
