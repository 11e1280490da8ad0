"""Compare a BPMN file with the same model saved by an editor: what got lost or changed.

`compare(original, saved)` parses both with lxml and returns `Difference`s:

- semantic elements (anything with an id outside the diagram-interchange namespaces) lost, of
  another type, or moved under another parent; their attributes lost or changed, their text
  changed, and their children without an id (event definitions, conditions, extensionElements
  and every vendor extension inside it, ...) lost;
- diagram interchange matched by `bpmnElement` (not by the DI element's own id): diagrams,
  planes, shapes and edges lost; shape bounds moved or resized; waypoints lost or moved; labels
  and their bounds lost or moved; label styles lost; DI attributes (isHorizontal, isExpanded,
  ...) lost or changed. An empty <BPMNLabel/> (no bounds, no style) carries nothing, so
  dropping it is not a difference.

Namespace prefixes and attribute order do not matter (names are compared as {namespace}local,
QName values such as xsi:type by resolved namespace), numbers are compared as numbers, and
whatever the saved file adds is not a difference. `python -m tests.conformance.compare a b`
prints the differences and exits 1 when there are some.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"
DI_NAMESPACES = (BPMNDI, DC, DI)
NUMBER_TOLERANCE = 0.01
# Attributes an editor legitimately rewrites: the tool that wrote the file.
REWRITTEN = {("definitions", "exporter"), ("definitions", "exporterVersion")}
# Defaults of the BPMN 2.0 XSD (Semantic.xsd): writing or omitting them says the same thing,
# and bpmn-moddle omits them. {attribute: default}, or {attribute: {element: default}}.
XSD_DEFAULTS: dict[str, str | dict[str, str]] = {
    "isForCompensation": "false",
    "startQuantity": "1",
    "completionQuantity": "1",
    "isClosed": "false",
    "processType": "None",
    "triggeredByEvent": "false",
    "cancelActivity": "true",
    "parallelMultiple": "false",
    "isInterrupting": "true",
    "gatewayDirection": "Unspecified",
    "instantiate": "false",
    "eventGatewayType": "Exclusive",
    "isSequential": "false",
    "behavior": "All",
    "testBefore": "false",
    "isCollection": "false",
    "associationDirection": "None",
    "waitForCompletion": "true",
    "textFormat": "text/plain",
    "isUnlimited": "true",
    "method": "##Compensate",
    "cancelRemainingInstances": "true",
    "minimum": "0",
    "maximum": "1",
    "expressionLanguage": "http://www.w3.org/1999/XPath",
    "typeLanguage": "http://www.w3.org/2001/XMLSchema",
    "implementation": {
        "serviceTask": "##WebService",
        "sendTask": "##WebService",
        "receiveTask": "##WebService",
        "userTask": "##unspecified",
        "businessRuleTask": "##unspecified",
        "globalUserTask": "##unspecified",
        "globalBusinessRuleTask": "##unspecified",
    },
}


@dataclass(frozen=True)
class Difference:
    kind: str  # lost_element, moved_shape, lost_waypoint, ... (see the module docstring)
    element_id: str  # the semantic element (for DI: its bpmnElement)
    element_type: str  # local name, e.g. "task", "BPMNShape"
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.element_type} {self.element_id} {self.detail}".rstrip()


def parse(data: bytes | str) -> etree._Element:
    raw = data.encode() if isinstance(data, str) else data
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    return etree.fromstring(raw, parser=parser)


def compare(original: bytes | str, saved: bytes | str) -> list[Difference]:
    before, after = parse(original), parse(saved)
    return [*_semantic(before, after), *_diagrams(before, after)]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _namespace(el: etree._Element) -> str | None:
    return etree.QName(el).namespace


def _is_element(el: object) -> bool:
    return isinstance(el, etree._Element) and isinstance(el.tag, str)


def _is_di(el: etree._Element) -> bool:
    return _namespace(el) in DI_NAMESPACES


# --- semantic model ----------------------------------------------------------------------------


def _ids(root: etree._Element) -> dict[str, etree._Element]:
    """Elements with an id outside the diagram interchange, first occurrence wins."""
    found: dict[str, etree._Element] = {}
    for el in root.iter():
        if _is_element(el) and el.get("id") is not None and not _inside_di(el):
            found.setdefault(el.get("id"), el)
    return found


def _inside_di(el: etree._Element) -> bool:
    return any(_is_element(a) and _is_di(a) for a in [el, *el.iterancestors()])


def _parent_id(el: etree._Element) -> str | None:
    for ancestor in el.iterancestors():
        if ancestor.get("id") is not None:
            return ancestor.get("id")
    return None


def _semantic(before: etree._Element, after: etree._Element) -> Iterator[Difference]:
    old, new = _ids(before), _ids(after)
    for eid, el in old.items():
        kind = _local(el)
        other = new.get(eid)
        if other is None:
            yield Difference("lost_element", eid, kind, f"({etree.QName(el).text})")
            continue
        if el.tag != other.tag:
            yield Difference("changed_type", eid, kind, f"now {etree.QName(other).text}")
        if _parent_id(el) != _parent_id(other):
            yield Difference(
                "moved_element", eid, kind, f"parent {_parent_id(el)} -> {_parent_id(other)}"
            )
        yield from _attributes(el, other, eid, kind)
        if _text(el) != _text(other):
            yield Difference("changed_text", eid, kind, f"{_text(el)!r} -> {_text(other)!r}")
        yield from _children(el, other, eid, kind)


def _attributes(
    el: etree._Element, other: etree._Element, eid: str, kind: str
) -> Iterator[Difference]:
    for name, value in el.attrib.items():
        qname = etree.QName(name)
        if (kind, qname.localname) in REWRITTEN and qname.namespace is None:
            continue
        shown = qname.localname if qname.namespace is None else name
        if name not in other.attrib:
            if qname.namespace is None and _is_default(kind, qname.localname, value):
                continue
            yield Difference("lost_attribute", eid, kind, f"{shown}={value!r}")
        elif not _same_value(el, value, other, other.attrib[name]):
            yield Difference(
                "changed_attribute", eid, kind, f"{shown}: {value!r} -> {other.attrib[name]!r}"
            )


def _is_default(kind: str, name: str, value: str) -> bool:
    default = XSD_DEFAULTS.get(name)
    if isinstance(default, dict):
        default = default.get(kind)
    return default is not None and value.strip() == default


def _same_value(el: etree._Element, value: str, other: etree._Element, new: str) -> bool:
    if value == new or value.split() == new.split():  # "a\r\nb" and "a \nb" read the same
        return True
    try:
        return abs(float(value) - float(new)) <= NUMBER_TOLERANCE
    except ValueError:
        pass
    (old_ns, old_local), (new_ns, new_local) = _resolve(el, value), _resolve(other, new)
    if old_local != new_local or ":" not in value + new:
        return False
    # a QName value: the same when the prefixes name the same namespace, or one has none
    return old_ns == new_ns or ":" not in value or ":" not in new


def _resolve(el: etree._Element, value: str) -> tuple[str | None, str]:
    """A QName value ("bpmn:tFormalExpression") as (namespace, local); prefixes do not matter."""
    prefix, _, local = value.strip().rpartition(":")
    if prefix and prefix in el.nsmap:
        return el.nsmap[prefix], local
    if not prefix and None in el.nsmap:
        return el.nsmap[None], local
    return (prefix or None), local


def _text(el: etree._Element) -> str:
    return " ".join((el.text or "").split())


def _canonical(el: etree._Element) -> str:
    """A prefix- and attribute-order-independent rendering of a child without an id.

    Descendants with an id are compared on their own, so they appear only as a reference.
    """
    if el.get("id") is not None:
        return f"#{el.get('id')}"
    tag, attrib = _normal_form(el)
    attrs = " ".join(
        f"{k}={_canonical_value(el, k, v)!r}"
        for k, v in sorted(attrib.items(), key=lambda i: i[0])
        if not (etree.QName(k).namespace is None and _is_default(_local(el), k, v))
    )
    inner = ",".join(sorted(_canonical(c) for c in el if _is_element(c)))
    return f"<{tag} {attrs}>{_text(el)}[{inner}]"


def _normal_form(el: etree._Element) -> tuple[str, dict[str, str]]:
    """<bpmn:formalExpression> is <bpmn:expression xsi:type="tFormalExpression"> (the XSD's
    substitution group; bpmn-moddle writes the latter)."""
    attrib = dict(el.attrib)
    if el.tag == f"{{{BPMN}}}formalExpression":
        return f"{{{BPMN}}}expression", {**attrib, XSI_TYPE: "tFormalExpression"}
    return el.tag, attrib


def _canonical_value(el: etree._Element, name: str, value: str) -> str:
    if name == XSI_TYPE:  # "bpmn:tFormalExpression", "tFormalExpression": the same type
        return value.strip().rpartition(":")[2]
    try:
        return repr(round(float(value), 2))
    except ValueError:
        return value.strip()


def _children(
    el: etree._Element, other: etree._Element, eid: str, kind: str
) -> Iterator[Difference]:
    def rendered(parent: etree._Element) -> Counter[str]:
        return Counter(_canonical(c) for c in parent if _is_element(c) and c.get("id") is None)

    missing = rendered(el) - rendered(other)
    if not missing:
        return
    by_rendering = {_canonical(c): c for c in el if _is_element(c) and c.get("id") is None}
    added = rendered(other) - rendered(el)
    candidates = [c for c in other if _is_element(c) and _canonical(c) in added]
    for text in missing:
        child = by_rendering[text]
        extension = _local(child) == "extensionElements" or _namespace(child) != BPMN
        twin = next((c for c in candidates if _normal_form(c)[0] == _normal_form(child)[0]), None)
        if twin is not None:  # the same element, changed inside: say where
            candidates.remove(twin)
            detail = f"{_short(_render(child), 80)} changed: {_explain(child, twin)}"
        else:
            detail = _short(_render(child))
        yield Difference("lost_extension" if extension else "lost_child", eid, kind, detail)


def _explain(old: etree._Element, new: etree._Element, path: str = "") -> str:
    """The first difference inside two children of the same type, with its path."""
    here = f"{path}/{etree.QName(old).localname}"
    for name, value in _normal_form(old)[1].items():
        newer = _normal_form(new)[1].get(name)
        if newer is None and not _is_default(_local(old), name, value):
            return f"{here}: lost attribute {name}={value!r}"
        if newer is not None and _canonical_value(old, name, value) != _canonical_value(
            new, name, newer
        ):
            return f"{here}: {name} {value!r} -> {newer!r}"
    if _text(old) != _text(new):
        return f"{here}: text {_text(old)!r} -> {_text(new)!r}"
    olds = Counter(_canonical(c) for c in old if _is_element(c))
    news = Counter(_canonical(c) for c in new if _is_element(c))
    gone = [c for c in old if _is_element(c) and (olds - news)[_canonical(c)]]
    fresh = [c for c in new if _is_element(c) and (news - olds)[_canonical(c)]]
    for child in gone:
        twin = next((c for c in fresh if _normal_form(c)[0] == _normal_form(child)[0]), None)
        if twin is None:
            return f"{here}: lost {_short(_render(child), 120)}"
        return _explain(child, twin, here)
    return f"{here}: changed"


def _render(el: etree._Element) -> str:
    """The element as written, without namespace declarations."""
    return re.sub(r'\s+xmlns(:[\w.-]+)?="[^"]*"', "", etree.tostring(el, encoding="unicode"))


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- diagram interchange ------------------------------------------------------------------------


def _diagram_elements(root: etree._Element) -> list[dict[str, etree._Element]]:
    """Per BPMNDiagram: {bpmnElement or '#id': plane/shape/edge/label style}."""
    diagrams = []
    for diagram in root.iter(f"{{{BPMNDI}}}BPMNDiagram"):
        found: dict[str, etree._Element] = {}
        for el in diagram.iter():
            if not _is_element(el):
                continue
            if _local(el) in ("BPMNPlane", "BPMNShape", "BPMNEdge") and el.get("bpmnElement"):
                found.setdefault(el.get("bpmnElement"), el)
            elif _local(el) == "BPMNLabelStyle" and el.get("id"):
                found.setdefault("#" + el.get("id"), el)
        diagrams.append(found)
    return diagrams


def _diagrams(before: etree._Element, after: etree._Element) -> Iterator[Difference]:
    old, new = _diagram_elements(before), _diagram_elements(after)
    for index, elements in enumerate(old):
        if index >= len(new):
            first = next(iter(elements), "")
            yield Difference("lost_diagram", first, "BPMNDiagram", f"diagram #{index + 1}")
            continue
        for ref, el in elements.items():
            yield from _di_element(ref, el, new[index].get(ref))


def _di_element(ref: str, el: etree._Element, other: etree._Element | None) -> Iterator[Difference]:
    kind = _local(el)
    if other is None:
        lost = {"BPMNPlane": "lost_plane", "BPMNShape": "lost_shape", "BPMNEdge": "lost_edge"}
        yield Difference(lost.get(kind, "lost_label_style"), ref.lstrip("#"), kind)
        return
    for name, value in el.attrib.items():
        if name == "id":
            continue
        if name not in other.attrib:
            yield Difference("lost_attribute", ref, kind, f"{name}={value!r}")
        elif not _same_value(el, value, other, other.attrib[name]):
            yield Difference(
                "changed_attribute", ref, kind, f"{name}: {value!r} -> {other.attrib[name]!r}"
            )
    if kind == "BPMNLabelStyle":
        yield from _children(el, other, ref.lstrip("#"), kind)
        return
    yield from _bounds(ref, kind, _child(el, DC, "Bounds"), _child(other, DC, "Bounds"), "shape")
    yield from _waypoints(ref, kind, el, other)
    label, new_label = _child(el, BPMNDI, "BPMNLabel"), _child(other, BPMNDI, "BPMNLabel")
    if label is not None and (len(label) or set(label.attrib) - {"id"}):  # empty says nothing
        if new_label is None:
            yield Difference("lost_label", ref, kind)
            return
        for name, value in label.attrib.items():
            if name != "id" and not _same_value(label, value, new_label, new_label.get(name, "")):
                yield Difference("changed_attribute", ref, "BPMNLabel", f"{name}={value!r}")
        yield from _bounds(
            ref, kind, _child(label, DC, "Bounds"), _child(new_label, DC, "Bounds"), "label"
        )


def _child(el: etree._Element, namespace: str, local: str) -> etree._Element | None:
    return el.find(f"{{{namespace}}}{local}")


def _number(el: etree._Element, name: str) -> float | None:
    try:
        return float(el.get(name, ""))
    except ValueError:
        return None


def _bounds(
    ref: str, kind: str, old: etree._Element | None, new: etree._Element | None, what: str
) -> Iterator[Difference]:
    if old is None:
        return
    if new is None:
        yield Difference(f"lost_{what}_bounds", ref, kind)
        return
    o = [_number(old, n) for n in ("x", "y", "width", "height")]
    n = [_number(new, n) for n in ("x", "y", "width", "height")]

    def differs(a: float | None, b: float | None) -> bool:
        return (a is None) != (b is None) or (
            a is not None and b is not None and abs(a - b) > NUMBER_TOLERANCE
        )

    moved = "moved_shape" if what == "shape" else "moved_label"
    resized = "resized_shape" if what == "shape" else "resized_label"
    if differs(o[0], n[0]) or differs(o[1], n[1]):
        yield Difference(moved, ref, kind, f"({o[0]}, {o[1]}) -> ({n[0]}, {n[1]})")
    if differs(o[2], n[2]) or differs(o[3], n[3]):
        yield Difference(resized, ref, kind, f"{o[2]}x{o[3]} -> {n[2]}x{n[3]}")


def _waypoints(
    ref: str, kind: str, el: etree._Element, other: etree._Element
) -> Iterator[Difference]:
    def points(edge: etree._Element) -> list[tuple[float | None, float | None]]:
        return [(_number(p, "x"), _number(p, "y")) for p in edge.findall(f"{{{DI}}}waypoint")]

    old, new = points(el), points(other)
    if len(new) < len(old):
        yield Difference("lost_waypoint", ref, kind, f"{len(old)} -> {len(new)} waypoints")
        return
    if len(new) != len(old) or any(
        a[0] is None
        or b[0] is None
        or abs(a[0] - b[0]) > NUMBER_TOLERANCE
        or abs((a[1] or 0) - (b[1] or 0)) > NUMBER_TOLERANCE
        for a, b in zip(old, new, strict=False)
    ):
        yield Difference("changed_waypoints", ref, kind, f"{old} -> {new}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m tests.conformance.compare ORIGINAL SAVED", file=sys.stderr)
        return 2
    found = compare(Path(argv[0]).read_bytes(), Path(argv[1]).read_bytes())
    for difference in found:
        print(difference)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
