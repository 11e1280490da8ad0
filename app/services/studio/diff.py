"""What changed between two bundles: BPMN elements added, removed or changed, and files.

An "element" is a BPMN element with an id (tasks, events, gateways, flows, lanes, messages,
the process itself, …). Parts without a life of their own (event definitions, conditions,
scripts, extension properties, loop characteristics, documentation) are folded into the
element that holds them, so a changed timer shows up as a change of its boundary event.
Diagram information (shapes, positions) is not compared: moving a shape changes no element.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from lxml import etree

from app.engine.validation_bpmn import TYPE_ZH
from app.i18n import is_english

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MAX_SHOWN = 80  # longer values are reported as "changed" without the text

# Sub-parts folded into their owner even though they may carry an id.
_FOLDED = {
    "conditionExpression",
    "condition",
    "script",
    "documentation",
    "extensionElements",
    "multiInstanceLoopCharacteristics",
    "standardLoopCharacteristics",
    "loopCardinality",
    "completionCondition",
    "loopCondition",
    "timeDuration",
    "timeDate",
    "timeCycle",
    "ioSpecification",
    "dataInput",
    "dataOutput",
    "inputSet",
    "outputSet",
    "dataInputAssociation",
    "dataOutputAssociation",
    "correlationPropertyRetrievalExpression",
    "messagePath",
    "laneSet",
}
_LABELS = {
    "name": _l("名称"),
    "script": _l("脚本"),
    "conditionExpression": _l("条件"),
    "condition": _l("条件"),
    "documentation": _l("说明"),
    "preScript": _l("前置脚本"),
    "postScript": _l("后置脚本"),
    "timeDuration": _l("定时器（timeDuration）"),
    "timeDate": _l("定时器（timeDate）"),
    "timeCycle": _l("定时器（timeCycle）"),
    "serviceTaskOperator": _l("服务处理器"),
    "parameter": _l("服务参数"),
    "calledDecisionId": _l("决策表"),
    "instructionsForEndUser": _l("办理说明"),
    "messagePayload": _l("消息内容"),
    "messageVariable": _l("消息变量"),
    "processVariableCorrelation": _l("流程变量关联"),
    "loopCardinality": _l("多实例数量"),
    "completionCondition": _l("多实例完成条件"),
    "loopCondition": _l("循环条件"),
    "incoming": _l("传入连线"),
    "outgoing": _l("传出连线"),
    "flowNodeRef": _l("泳道成员"),
    "messageEventDefinition": _l("消息事件"),
    "timerEventDefinition": _l("定时器事件"),
    "errorEventDefinition": _l("错误事件"),
    "signalEventDefinition": _l("信号事件"),
    "escalationEventDefinition": _l("升级事件"),
    "terminateEventDefinition": _l("终止事件"),
}
_LIST_PARTS = {"incoming", "outgoing", "flowNodeRef"}


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _is_element(el: etree._Element) -> bool:
    """An element of its own (compared by id) rather than a part of its owner."""
    if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN_NS:
        return False
    name = etree.QName(el).localname
    if name == "definitions" or name in _FOLDED or name.endswith("EventDefinition"):
        return False
    return bool(el.get("id"))


def _text(el: etree._Element) -> str:
    return (el.text or "").strip()


def _label(path: str) -> str:
    last = re.sub(r"\[\d+\]$", "", path.rsplit("/", 1)[-1])
    if last in _LABELS:
        return str(_LABELS[last])
    return _facet_label(path)


def _facet_label(key: str) -> str:
    """The label of a facet keyed by its (Chinese) name, in the current language."""
    if key == "名称":
        return _("名称")
    if key == "服务处理器":
        return _("服务处理器")
    if key == "结果变量":
        return _("结果变量")
    if key.startswith("扩展属性 "):
        return _("扩展属性 %(name)s", name=key[len("扩展属性 ") :])
    if key.startswith("服务参数 "):
        return _("服务参数 %(name)s", name=key[len("服务参数 ") :])
    if key.startswith("属性 "):
        return _("属性 %(name)s", name=key[len("属性 ") :])
    return key


def _attrs(el: etree._Element) -> list[tuple[str, str]]:
    """Attributes worth comparing: not BPMN ids (element identity), not xsi:type."""
    keep = []
    for attr, value in sorted(el.attrib.items()):
        qname = etree.QName(attr)
        if qname.namespace == XSI_NS:
            continue
        if qname.localname == "id" and etree.QName(el).namespace == BPMN_NS:
            continue
        keep.append((qname.localname, value))
    return keep


def _spiff_facet(child: etree._Element, facets: dict[str, str]) -> bool:
    """SpiffWorkflow extensions keyed by their own name; False for the generic handling."""
    local = _local(child.tag)
    if local == "property":
        facets[f"扩展属性 {child.get('name', '')}"] = child.get("value", "")
    elif local == "parameter":
        facets[f"服务参数 {child.get('id', '')}"] = (
            f"{child.get('value', '')}（{child.get('type', '')}）"
        )
    elif local == "serviceTaskOperator":
        facets["服务处理器"] = child.get("id", "")
        if child.get("resultVariable"):
            facets["结果变量"] = child.get("resultVariable", "")
    else:
        return False
    return True


def _facets(el: etree._Element) -> dict[str, str]:
    """Everything the engine could read from one element, as {label: value}."""
    facets: dict[str, str] = {}
    for local, value in _attrs(el):
        facets["名称" if local == "name" else f"属性 {local}"] = value
    lists: dict[str, list[str]] = {}

    def walk(node: etree._Element, path: str) -> None:
        seen: dict[str, int] = {}
        for child in node:
            if not isinstance(child.tag, str) or _is_element(child):
                continue
            local = _local(child.tag)
            if local in _LIST_PARTS:
                lists.setdefault(local, []).append(_text(child))
                continue
            if etree.QName(child).namespace == SPIFF_NS and _spiff_facet(child, facets):
                if local == "serviceTaskOperator":
                    walk(child, local)
                continue
            seen[local] = seen.get(local, 0) + 1
            key = f"{path}/{local}" if path else local
            if seen[local] > 1:
                key = f"{key}[{seen[local]}]"
            attrs = ", ".join(f"{k}={v}" for k, v in _attrs(child))
            value = " ".join(part for part in (_text(child), attrs and f"[{attrs}]") if part)
            if value or local.endswith("EventDefinition"):
                facets[key] = value
            walk(child, "" if local == "extensionElements" else key)

    walk(el, "")
    for label, values in lists.items():
        facets[label] = ", ".join(sorted(values))
    return facets


def bpmn_elements(files: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """{id: {id, type, name, facets}} of every BPMN element of the bundle's .bpmn files."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    found: dict[str, dict[str, Any]] = {}
    for name in sorted(files):
        if not name.lower().endswith(".bpmn"):
            continue
        try:
            root = etree.fromstring(files[name].encode("utf-8"), parser=parser)
        except etree.XMLSyntaxError:
            continue
        for el in root.iter():
            if _is_element(el) and el.get("id") not in found:
                found[el.get("id")] = {
                    "id": el.get("id"),
                    "type": _local(el.tag),
                    "name": el.get("name") or "",
                    "facets": _facets(el),
                }
    return found


def _shown(value: str) -> str:
    return value if len(value) <= MAX_SHOWN and "\n" not in value else ""


def describe_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Chinese lines like "条件：x > 1 → x > 2" or "脚本已修改"."""
    lines = []
    for key in sorted(set(old) | set(new), key=lambda k: (k != "名称", k)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        label = _label(key)
        if before is None:
            shown = _shown(after or "")
            lines.append(
                _("新增%(label)s：%(value)s", label=label, value=shown)
                if shown
                else _("新增%(label)s", label=label)
            )
        elif after is None:
            lines.append(_("删除%(label)s", label=label))
        elif _shown(before) and _shown(after):
            empty = _("（空）")
            lines.append(
                _(
                    "%(label)s：%(before)s → %(after)s",
                    label=label,
                    before=before or empty,
                    after=after or empty,
                )
            )
        else:
            lines.append(_("%(label)s已修改", label=label))
    return lines


def _summary(element: dict[str, Any]) -> dict[str, str]:
    return {
        "id": element["id"],
        "type": element["type"],
        # Chinese type names; in English the BPMN names themselves, as the problems use them.
        "typeLabel": element["type"]
        if is_english()
        else TYPE_ZH.get(element["type"], element["type"]),
        "name": element["name"],
    }


def diff_bundles(old: Mapping[str, str] | None, new: Mapping[str, str]) -> dict[str, Any]:
    """{added, removed, changed: [{id, type, typeLabel, name(, changes)}], files: {…}}.

    `old` None means there is nothing deployed yet: everything is added.
    """
    old = old or {}
    before, after = bpmn_elements(old), bpmn_elements(new)
    changed = []
    for eid in sorted(set(before) & set(after)):
        lines = describe_changes(before[eid]["facets"], after[eid]["facets"])
        if before[eid]["type"] != after[eid]["type"]:
            was = TYPE_ZH.get(before[eid]["type"], before[eid]["type"])
            now = TYPE_ZH.get(after[eid]["type"], after[eid]["type"])
            lines.insert(0, _("类型：%(before)s → %(after)s", before=was, after=now))
        if lines:
            changed.append({**_summary(after[eid]), "changes": lines})
    return {
        "added": [_summary(after[e]) for e in sorted(set(after) - set(before))],
        "removed": [_summary(before[e]) for e in sorted(set(before) - set(after))],
        "changed": changed,
        "files": {
            "added": sorted(set(new) - set(old)),
            "removed": sorted(set(old) - set(new)),
            "changed": sorted(n for n in set(old) & set(new) if old[n] != new[n]),
        },
    }
