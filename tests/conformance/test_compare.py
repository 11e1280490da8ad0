"""The MIWG round-trip comparator catches what an editor could lose, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from tests.conformance.compare import BPMN, BPMNDI, DC, DI, Difference, compare, main

MIWG = Path(__file__).parent / "miwg"
C91 = MIWG / "C.9.1.bpmn"  # Camunda: extensions, boundary timers, labels with bounds
NS = {
    "bpmn": BPMN,
    "bpmndi": BPMNDI,
    "dc": DC,
    "di": DI,
    "zeebe": "http://camunda.org/schema/zeebe/1.0",
}


def edited(change: Callable[[etree._Element], None], source: Path = C91) -> bytes:
    root = etree.fromstring(source.read_bytes())
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def one(root: etree._Element, xpath: str) -> etree._Element:
    [found] = root.xpath(xpath, namespaces=NS)
    return found


def kinds(found: list[Difference]) -> set[tuple[str, str]]:
    return {(d.kind, d.element_id) for d in found}


@pytest.mark.parametrize("path", sorted(MIWG.glob("*.bpmn")), ids=lambda p: p.name)
def test_a_file_equals_itself(path: Path) -> None:
    assert compare(path.read_bytes(), path.read_bytes()) == []


def test_prefixes_attribute_order_and_number_format_do_not_matter() -> None:
    text = C91.read_text(encoding="utf-8")
    renamed = (
        text.replace("bpmn:", "semantic:")
        .replace("xmlns:bpmn=", "xmlns:semantic=")
        .replace(
            '<dc:Bounds x="323" y="99" width="100" height="80" />',
            '<dc:Bounds height="80.0" width="100" y="99.000" x="323" />',
        )
        .replace('xsi:type="semantic:tFormalExpression"', 'xsi:type="tFormalExpression"')
        .replace("xmlns:xsi=", f'xmlns="{BPMN}" xmlns:xsi=')
    )
    assert "semantic:process" in renamed and 'height="80.0"' in renamed
    assert compare(text, renamed) == []


def test_a_removed_element_is_lost() -> None:
    def remove(root: etree._Element) -> None:
        task = one(root, "//bpmn:userTask[@id='UserTask_CallCustomer']")
        task.getparent().remove(task)

    found = compare(C91.read_bytes(), edited(remove))
    assert ("lost_element", "UserTask_CallCustomer") in kinds(found)
    [lost] = [d for d in found if d.kind == "lost_element"]
    assert lost.element_type == "userTask"


def test_a_moved_shape_is_reported_with_its_coordinates() -> None:
    def move(root: etree._Element) -> None:
        bounds = one(root, "//bpmndi:BPMNShape[@bpmnElement='UserTask_CallCustomer']/dc:Bounds")
        bounds.set("x", "700")

    [difference] = compare(C91.read_bytes(), edited(move))
    assert difference.kind == "moved_shape"
    assert difference.element_id == "UserTask_CallCustomer"
    assert "663" in difference.detail and "700" in difference.detail


def test_a_resized_shape_is_reported() -> None:
    def resize(root: etree._Element) -> None:
        one(root, "//bpmndi:BPMNShape[@bpmnElement='Participant_02']/dc:Bounds").set("width", "9")

    assert kinds(compare(C91.read_bytes(), edited(resize))) == {("resized_shape", "Participant_02")}


def test_a_lost_waypoint_is_reported() -> None:
    def drop(root: etree._Element) -> None:
        edge = one(root, "//bpmndi:BPMNEdge[@bpmnElement='SequenceFlow_0i97ejj']")
        edge.remove(edge.findall(f"{{{DI}}}waypoint")[-1])

    assert kinds(compare(C91.read_bytes(), edited(drop))) == {
        ("lost_waypoint", "SequenceFlow_0i97ejj")
    }


def test_a_moved_waypoint_is_reported() -> None:
    def shift(root: etree._Element) -> None:
        edge = one(root, "//bpmndi:BPMNEdge[@bpmnElement='SequenceFlow_0i97ejj']")
        edge.findall(f"{{{DI}}}waypoint")[0].set("y", "1")

    assert kinds(compare(C91.read_bytes(), edited(shift))) == {
        ("changed_waypoints", "SequenceFlow_0i97ejj")
    }


def test_dropped_label_bounds_are_reported() -> None:
    def drop(root: etree._Element) -> None:
        label = one(
            root, "//bpmndi:BPMNShape[@bpmnElement='EndEvent_TalkedToCustomer']/bpmndi:BPMNLabel"
        )
        label.remove(label.find(f"{{{DC}}}Bounds"))

    assert kinds(compare(C91.read_bytes(), edited(drop))) == {
        ("lost_label_bounds", "EndEvent_TalkedToCustomer")
    }


def test_a_moved_label_and_a_dropped_label_are_reported() -> None:
    def change(root: etree._Element) -> None:
        shape = "//bpmndi:BPMNShape[@bpmnElement='{}']/bpmndi:BPMNLabel"
        one(root, shape.format("EndEvent_TalkedToCustomer") + "/dc:Bounds").set("y", "300")
        label = one(root, shape.format("EndEvent_GotDocument"))
        label.getparent().remove(label)
        empty = one(root, shape.format("UserTask_CallCustomer"))  # <BPMNLabel/>: says nothing
        empty.getparent().remove(empty)

    assert kinds(compare(C91.read_bytes(), edited(change))) == {
        ("moved_label", "EndEvent_TalkedToCustomer"),
        ("lost_label", "EndEvent_GotDocument"),
    }


def test_lost_shape_edge_and_plane() -> None:
    def drop(root: etree._Element) -> None:
        for ref in ("UserTask_CallCustomer", "SequenceFlow_3"):
            di = one(root, f"//*[@bpmnElement='{ref}']")
            di.getparent().remove(di)
        plane = one(root, "//bpmndi:BPMNPlane")
        plane.set("bpmnElement", "somewhere_else")

    assert kinds(compare(C91.read_bytes(), edited(drop))) == {
        ("lost_shape", "UserTask_CallCustomer"),
        ("lost_edge", "SequenceFlow_3"),
        ("lost_plane", "Collaboration_0liisio"),
    }


def test_lost_and_changed_attributes_extensions_and_children() -> None:
    def change(root: etree._Element) -> None:
        task = one(root, "//bpmn:sendTask[@id='SendTask_RequestDocument']")
        del task.attrib["{http://camunda.org/schema/1.0/bpmn}topic"]  # vendor attribute
        task.set("name", "Request documents")
        task.remove(task.find(f"{{{BPMN}}}extensionElements"))  # zeebe:taskDefinition
        timer = one(root, "//bpmn:boundaryEvent[@id='BoundaryEvent_2']")
        timer.remove(timer.find(f"{{{BPMN}}}timerEventDefinition"))  # has an id: lost element
        one(root, "//bpmn:timeCycle").text = "R5/P1D"
        shape = one(root, "//bpmndi:BPMNShape[@bpmnElement='Participant_02']")
        del shape.attrib["isHorizontal"]

    found = compare(C91.read_bytes(), edited(change))
    details = {(d.kind, d.element_id): d.detail for d in found}
    assert "topic" in details[("lost_attribute", "SendTask_RequestDocument")]
    assert "Request documents" in details[("changed_attribute", "SendTask_RequestDocument")]
    assert "taskDefinition" in details[("lost_extension", "SendTask_RequestDocument")]
    assert ("lost_element", "_TimerEventDefinition_3") in details
    assert "R6/P1D" in details[("lost_child", "_TimerEventDefinition_2")]  # timeCycle text
    assert "isHorizontal" in details[("lost_attribute", "Participant_02")]


def test_a_lost_event_definition_without_id_is_a_lost_child() -> None:
    text = MIWG.joinpath("A.3.0.bpmn").read_bytes()

    def drop(root: etree._Element) -> None:
        definition = root.xpath("//bpmn:escalationEventDefinition", namespaces=NS)[0]
        assert definition.get("id") is None
        definition.getparent().remove(definition)

    found = compare(text, edited(drop, MIWG / "A.3.0.bpmn"))
    assert [d.kind for d in found] == ["lost_child"]
    assert "escalationEventDefinition" in found[0].detail


def test_an_element_moved_to_another_parent() -> None:
    def move(root: etree._Element) -> None:
        sub = root.xpath("//bpmn:subProcess", namespaces=NS)[0]
        task = sub.xpath("bpmn:task", namespaces=NS)[0]
        sub.getparent().append(task)

    source = MIWG / "A.4.0.bpmn"
    found = compare(source.read_bytes(), edited(move, source))
    assert [d.kind for d in found] == ["moved_element"]


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def drop_diagram(root: etree._Element) -> None:
        root.remove(one(root, "bpmndi:BPMNDiagram"))

    saved = tmp_path / "saved.bpmn"
    saved.write_bytes(edited(drop_diagram))
    assert main([str(C91), str(C91)]) == 0
    assert main([str(C91), str(saved)]) == 1
    assert "lost_diagram" in capsys.readouterr().out


def test_numbers_compare_as_numbers_but_a_changed_number_is_reported() -> None:
    def set_value(value: str) -> Callable[[etree._Element], None]:
        def change(root: etree._Element) -> None:
            one(root, "//bpmn:participant").set("size", value)

        return change

    base = edited(set_value("10"))
    assert compare(base, edited(set_value("10.0"))) == []
    assert kinds(compare(base, edited(set_value("11")))) == {
        ("changed_attribute", "Participant_02")
    }


def test_an_omitted_xsd_default_is_not_lost_but_another_value_is() -> None:
    source = MIWG / "A.1.0.bpmn"

    def strip(value: str) -> Callable[[etree._Element], None]:
        def change(root: etree._Element) -> None:
            for task in root.xpath("//bpmn:task", namespaces=NS):
                task.set("startQuantity", value)
                del task.attrib["completionQuantity"]  # "1": the XSD default
                del task.attrib["isForCompensation"]  # "false": the XSD default

        return change

    assert compare(source.read_bytes(), edited(strip("1"), source)) == []
    changed = edited(strip("2"), source)
    assert {d.kind for d in compare(source.read_bytes(), changed)} == {"changed_attribute"}
    assert {d.kind for d in compare(changed, source.read_bytes())} == {"changed_attribute"}


def test_line_breaks_in_names_and_expression_substitution_read_the_same() -> None:
    source = MIWG / "C.8.1.bpmn"  # <semantic:formalExpression>manager</semantic:formalExpression>

    def rewrite(root: etree._Element) -> None:
        for node in root.xpath("//bpmn:formalExpression", namespaces=NS):
            node.tag = f"{{{BPMN}}}expression"  # what bpmn-moddle writes instead
            node.set("{http://www.w3.org/2001/XMLSchema-instance}type", "bpmn:tFormalExpression")
        task = one(root, "//bpmn:userTask")
        task.set("name", task.get("name").replace(" ", " \r\n"))

    assert compare(source.read_bytes(), edited(rewrite, source)) == []


def test_a_change_deep_inside_an_extension_is_located() -> None:
    source = MIWG / "C.8.1.bpmn"
    triso = "http://www.trisotech.com/2015/triso/modeling"

    def drop(root: etree._Element) -> None:
        node = root.xpath("//*[@triso:constraintsType]", namespaces={"triso": triso})[0]
        del node.attrib[f"{{{triso}}}constraintsType"]

    [difference] = compare(source.read_bytes(), edited(drop, source))
    assert difference.kind == "lost_child" and difference.element_type == "definitions"
    assert difference.detail.endswith(
        f"/relationship/extensionElements/itemDefinitions/itemDefinition/allowedValues: "
        f"lost attribute {{{triso}}}constraintsType='enumeration'"
    )
