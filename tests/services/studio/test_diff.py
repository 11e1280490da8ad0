"""Element diff between two bundles: added, removed and changed BPMN elements, and files."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from app.services.studio import drafts
from app.services.studio.diff import bpmn_elements, diff_bundles

BUNDLE = Path("bpmn")


def _bundle() -> dict[str, str]:
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(BUNDLE.iterdir())}
    return drafts.bundle_for_key(files, "credit_repair")


def _edited(files: dict[str, str], *pairs: tuple[str, str]) -> dict[str, str]:
    new = dict(files)
    text = new["credit_repair.bpmn"]
    for old, replacement in pairs:
        assert old in text, old
        text = text.replace(old, replacement, 1)
    new["credit_repair.bpmn"] = text
    return new


def _changed(diff: dict, element_id: str) -> list[str]:
    [found] = [c for c in diff["changed"] if c["id"] == element_id]
    return found["changes"]


def test_identical_bundles_have_no_differences() -> None:
    files = _bundle()
    assert diff_bundles(files, dict(files)) == {
        "added": [],
        "removed": [],
        "changed": [],
        "files": {"added": [], "removed": [], "changed": []},
    }


def test_names_handlers_properties_and_scripts_show_as_changes_of_their_element() -> None:
    old = _bundle()
    new = _edited(
        old,
        ('name="记录申请日"', 'name="记录申请日期"'),
        ('id="repair.check_eligibility"', 'id="system.echo"'),
        (
            'value="credit_repair__accept_application.json"',
            'value="credit_repair__accept_v2.json"',
        ),
        ('outcome = ""\n', 'outcome = "pending"\n'),
    )
    diff = diff_bundles(old, new)
    assert diff["added"] == [] and diff["removed"] == []
    assert {c["id"] for c in diff["changed"]} == {
        "prepare_application",
        "check_eligibility",
        "accept_application",
    }
    prepare = _changed(diff, "prepare_application")
    assert prepare[0] == "名称：记录申请日 → 记录申请日期" and "脚本已修改" in prepare
    assert _changed(diff, "check_eligibility") == [
        "服务处理器：repair.check_eligibility → system.echo"
    ]
    assert _changed(diff, "accept_application") == [
        "扩展属性 formJsonSchemaFilename：credit_repair__accept_application.json → "
        "credit_repair__accept_v2.json"
    ]
    changed = next(c for c in diff["changed"] if c["id"] == "check_eligibility")
    assert changed["type"] == "serviceTask" and changed["typeLabel"] == "服务任务"
    assert diff["files"] == {"added": [], "removed": [], "changed": ["credit_repair.bpmn"]}


def test_timer_and_condition_changes_belong_to_the_event_and_the_flow() -> None:
    old = _bundle()
    elements = bpmn_elements(old)
    timer = elements["accept_deadline"]["facets"]["timerEventDefinition/timeDate"]
    flow_id, condition = next(
        (eid, e["facets"]["conditionExpression"])
        for eid, e in elements.items()
        if "conditionExpression" in e["facets"] and "\n" not in e["facets"]["conditionExpression"]
    )
    new = _edited(
        old,
        (f">{timer}<", ">deadline_after_working_days(3)<"),
        (f">{escape(condition)}<", ">True<"),
    )
    diff = diff_bundles(old, new)
    assert _changed(diff, "accept_deadline") == [
        f"定时器（timeDate）：{timer} → deadline_after_working_days(3)"
    ]
    assert _changed(diff, flow_id) == [f"条件：{condition} → True"]
    assert {c["id"] for c in diff["changed"]} == {"accept_deadline", flow_id}


def test_added_and_removed_elements_and_files() -> None:
    old = drafts.blank_bundle("demo_proc", "示例")
    new = dict(old)
    text = new["demo_proc.bpmn"]
    text = text.replace(
        '<bpmn:endEvent id="end" name="办结">', '<bpmn:endEvent id="finish" name="完成">'
    ).replace('targetRef="end"', 'targetRef="finish"')
    text = text.replace(
        "  </bpmn:process>",
        '    <bpmn:scriptTask id="extra_step" name="新步骤"><bpmn:script>x = 1</bpmn:script>'
        "</bpmn:scriptTask>\n  </bpmn:process>",
    )
    new["demo_proc.bpmn"] = text
    del new["demo_proc__handle.json"]
    new["demo_proc__other.json"] = "{}"
    diff = diff_bundles(old, new)
    assert [(e["id"], e["type"], e["name"]) for e in diff["added"]] == [
        ("extra_step", "scriptTask", "新步骤"),
        ("finish", "endEvent", "完成"),
    ]
    assert [(e["id"], e["typeLabel"]) for e in diff["removed"]] == [("end", "结束事件")]
    assert _changed(diff, "flow_end") == ["属性 targetRef：end → finish"]
    assert diff["files"] == {
        "added": ["demo_proc__other.json"],
        "removed": ["demo_proc__handle.json"],
        "changed": ["demo_proc.bpmn"],
    }


def test_moving_a_shape_changes_no_element() -> None:
    old = drafts.blank_bundle("demo_proc", "示例")
    new = dict(old)
    new["demo_proc.bpmn"] = old["demo_proc.bpmn"].replace('x="320" y="120"', 'x="340" y="130"')
    diff = diff_bundles(old, new)
    assert diff["changed"] == [] and diff["files"]["changed"] == ["demo_proc.bpmn"]


def test_nothing_deployed_yet_means_everything_is_added() -> None:
    new = drafts.blank_bundle("demo_proc", "示例")
    diff = diff_bundles(None, new)
    ids = {e["id"] for e in diff["added"]}
    assert {"demo_proc", "start", "handle", "end", "flow_start", "lane_window"} <= ids
    assert diff["removed"] == [] and diff["files"]["added"] == sorted(new)
