"""`flask bpmn validate` answers each BPMN MIWG reference model with clear lines, never a crash.

Every model, as a single file and all 21 as one directory: exit code 1 (none of them is
deployable as drawn), no stack trace, one line per problem in the documented format, every
line naming an element id that exists in that file (the only exception is the XML
declaration's encoding, which is on line 1 before any element), Chinese first. A few models
are checked by hand for what the engine does not execute.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pytest
from flask import Flask
from lxml import etree

from app.engine.validation import validate_bundle

MIWG = Path(__file__).parent / "miwg"
MODELS = sorted(MIWG.glob("*.bpmn"))
LINE = re.compile(
    r"^(?P<severity>error|warning): (?P<file>[^:\s]+):(?P<line>\d+|-)"
    r"(?: \[(?P<element_id>[^\]]+)\])? (?P<message>.+) \| (?P<message_en>.+)$"
)
SUMMARY = re.compile(r"^校验未通过：(\d+) 个错误，(\d+) 个警告。$")
ENCODING = "XML 声明的编码是 ISO-8859-1"
CJK = re.compile(r"[\u4e00-\u9fff]")


class Line(NamedTuple):
    severity: str
    file: str
    line: int | None
    element_id: str | None
    message: str
    message_en: str


class Answer(NamedTuple):
    exit_code: int
    output: str
    problems: list[Line]


def validate(app: Flask, path: Path | str) -> Answer:
    result = app.test_cli_runner().invoke(args=["bpmn", "validate", str(path)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash, not an answer
    problems = []
    for text in result.output.splitlines():
        match = LINE.match(text)
        if match:
            found = match.groupdict()
            problems.append(
                Line(
                    found["severity"],
                    found["file"],
                    None if found["line"] == "-" else int(found["line"]),
                    found["element_id"],
                    found["message"],
                    found["message_en"],
                )
            )
    return Answer(result.exit_code, result.output, problems)


@cache
def ids_in(path: Path) -> frozenset[str]:
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
    return frozenset(str(i) for i in root.xpath("//@id"))


def by_id(answer: Answer, element_id: str) -> list[Line]:
    return [p for p in answer.problems if p.element_id == element_id]


def check_well_formed(answer: Answer, files: dict[str, Path]) -> None:
    """The contract every answer keeps, whatever the model."""
    assert "Traceback" not in answer.output
    assert answer.exit_code == 1
    lines = [t for t in answer.output.splitlines() if t.startswith(("error", "warning"))]
    assert len(lines) == len(answer.problems), "a problem line is not in the documented format"
    errors = sum(p.severity == "error" for p in answer.problems)
    summary = SUMMARY.match(answer.output.splitlines()[-1])
    assert summary, answer.output[-300:]
    assert (int(summary[1]), int(summary[2])) == (errors, len(answer.problems) - errors)
    for problem in answer.problems:
        assert problem.file in files, problem
        assert CJK.search(problem.message), problem  # Chinese first
        assert "<Element" not in problem.message_en and "at 0x" not in problem.message_en
        if problem.message.startswith(ENCODING):
            assert problem.line == 1 and problem.severity == "error"
            continue
        assert problem.element_id in ids_in(files[problem.file]), problem
        assert problem.line is not None and problem.line >= 1, problem


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_each_model_gets_clear_lines(app: Flask, path: Path) -> None:
    answer = validate(app, path)
    check_well_formed(answer, {path.name: path})
    assert any(p.severity == "error" for p in answer.problems)


def test_the_directory_as_one_bundle(app: Flask) -> None:
    answer = validate(app, MIWG)
    files = {p.name: p for p in MODELS}
    check_well_formed(answer, files)
    assert answer.output.startswith(f"校验目录 {MIWG} 中的 21 个文件。")
    assert {p.file for p in answer.problems} == set(files)
    # One bundle: the process ids the A.* models share collide across files.
    duplicate = [p for p in by_id(answer, "WFP-6-") if "流程 id 与另一个文件重复" in p.message]
    assert {p.file for p in duplicate} == {"A.2.0.bpmn", "A.3.0.bpmn"}


def test_a_descriptive_model_says_once_that_nothing_runs(app: Flask) -> None:
    answer = validate(app, MIWG / "A.1.0.bpmn")
    assert [(p.severity, p.element_id) for p in answer.problems] == [
        ("error", None),  # the ISO-8859-1 declaration
        ("error", "WFP-6-"),
    ]
    assert answer.problems[0].message.startswith(ENCODING)
    assert 'isExecutable="false"' in answer.problems[1].message
    assert "不能发布" in answer.problems[1].message


def test_b20_wide_coverage_stays_short_and_names_every_unsupported_element(app: Flask) -> None:
    path = MIWG / "B.2.0.bpmn"
    answer = validate(app, path)
    assert len(answer.problems) < 20  # 4 processes, ~500 elements: grouped, not per element
    not_executable = [p for p in answer.problems if "未设为可执行（isExecutable" in p.message]
    assert {p.element_id for p in not_executable} == {
        "Process_ba16239e-181e-4b9f-bc5b-0bb2ee973450",
        "WFP-6-1",
        "WFP-6-2",
        "WFP-0-",
    }
    assert all(p.severity == "error" for p in not_executable)  # nothing in the file runs
    assert answer.problems.index(not_executable[0]) <= 1  # at the top, after the encoding
    root = etree.parse(str(path)).getroot()
    ns = {"b": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    links = root.xpath("//*[b:linkEventDefinition]/@id", namespaces=ns)
    [link_line] = [p for p in answer.problems if "链接事件" in p.message]
    assert link_line.severity == "warning"
    assert all(str(i) in link_line.message for i in links) and len(links) == 2
    # The data store makes the parser refuse the whole file: an error on the store itself.
    [store] = [p for p in answer.problems if "数据存储" in p.message and p.severity == "error"]
    assert store.element_id == "DS1373638079677"
    assert "Data Store with name" not in answer.output


def test_c10_executable_process_next_to_a_descriptive_pool(app: Flask) -> None:
    answer = validate(app, MIWG / "C.1.0.bpmn")
    [pool] = by_id(answer, "sid-5FBB6CB3-8A7C-42B5-9024-15BB2684EC57")
    assert pool.severity == "warning" and "未设为可执行" in pool.message
    assert answer.problems[0] == pool
    [juel] = by_id(answer, "invoiceNotApproved")
    assert "${!approved}" in juel.message and "JUEL" in juel.message
    lanes = [p for p in by_id(answer, "approveInvoice") if "泳道「Approver」" in p.message]
    assert lanes and "enterprise" in lanes[0].message
    [service] = by_id(answer, "archiveInvoice")
    assert "Archive Invoice" in service.message  # the name drawn on two lines, on one line


def test_c60_compensation_is_named_on_every_element(app: Flask) -> None:
    path = MIWG / "C.6.0.bpmn"
    answer = validate(app, path)
    root = etree.parse(str(path)).getroot()
    ns = {"b": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    expected = set(
        root.xpath(
            "//*[b:compensateEventDefinition]/@id | //*[@isForCompensation='true']/@id",
            namespaces=ns,
        )
    )
    named = {p.element_id for p in answer.problems if "补偿" in p.message and p.severity == "error"}
    assert expected and named == expected
    [missing] = [p for p in answer.problems if "没有 isExecutable 属性" in p.message]
    assert missing.severity == "warning"
    [empty_timer] = by_id(answer, "_87baeef0-f32e-4a93-b802-fdd588aaf729")
    assert "为空" in empty_timer.message


def test_c70_data_associations_are_explained_not_dumped(app: Flask) -> None:
    answer = validate(app, MIWG / "C.7.0.bpmn")
    assert "Cannot resolve" not in answer.output
    association = [
        p for p in by_id(answer, "_15b00027-5049-4081-8952-fd398e8b722a") if "数据关联" in p.message
    ]
    assert association and "dataOutputAssociation" in association[0].message
    io = [p for p in answer.problems if "ioSpecification" in p.message]
    assert len(io) == 5


def test_c30_timer_names_its_event_not_the_expression(app: Flask) -> None:
    answer = validate(app, MIWG / "C.3.0.bpmn")
    assert not by_id(answer, "Bpmn_FormalExpression_8pPK4BqGEeWDuOtG0oS24A")
    timers = [p for p in answer.problems if '"PT2H"' in p.message]
    assert timers and timers[0].element_id != "Bpmn_FormalExpression_8pPK4BqGEeWDuOtG0oS24A"
    [subprocess] = [p for p in answer.problems if "开始事件" in p.message and "子流程" in p.message]
    assert subprocess.element_id == "_cd6f230f-13c3-4027-aa3e-57de601a1ab2"
    assert "Exactly one start event" not in answer.output


def test_c92_zeebe_multi_instance_is_named(app: Flask) -> None:
    answer = validate(app, MIWG / "C.9.2.bpmn")
    [multi] = by_id(answer, "CallActivity_RequestDocument")
    assert "loopCardinality" in multi.message and "zeebe" in multi.message


def test_a_missing_path_is_a_message(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["bpmn", "validate", str(MIWG / "nope.bpmn")])
    assert result.exit_code != 0
    assert "路径不存在" in result.output and "Traceback" not in result.output


def test_a_single_shipped_file_brings_its_forms_and_tables(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["bpmn", "validate", str(Path(app.root_path).parent / "bpmn" / "credit_repair.bpmn")]
    )
    assert result.exit_code == 0, result.output
    assert "校验通过：credit_repair" in result.output
    assert ".dmn/.json" in result.output


# --- unsupported elements the MIWG set does not contain ---------------------------------------

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'id="defs" targetNamespace="http://creditflow.example/bpmn">\n'
)


def small(body: str, executable: str = "true") -> dict[str, bytes]:
    xml = f'{HEAD}<bpmn:process id="p" isExecutable="{executable}">\n{body}\n</bpmn:process>\n'
    return {"p.bpmn": (xml + "</bpmn:definitions>\n").encode()}


def flow(fid: str, source: str, target: str) -> str:
    return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>'


UNSUPPORTED = {
    "complex_gateway": (
        '<bpmn:startEvent id="s"/>'
        + flow("f0", "s", "g")
        + '<bpmn:complexGateway id="g"/>'
        + flow("f1", "g", "e")
        + '<bpmn:endEvent id="e"/>',
        "g",
        "复杂网关",
    ),
    "transaction": (
        '<bpmn:startEvent id="s"/>'
        + flow("f0", "s", "t")
        + '<bpmn:transaction id="t"><bpmn:startEvent id="ts"/>'
        + flow("tf", "ts", "te")
        + '<bpmn:endEvent id="te"/></bpmn:transaction>'
        + flow("f1", "t", "e")
        + '<bpmn:endEvent id="e"/>',
        "t",
        "事务",
    ),
    "signal_end_event": (
        '<bpmn:startEvent id="s"/>'
        + flow("f0", "s", "e")
        + '<bpmn:endEvent id="e"><bpmn:signalEventDefinition/></bpmn:endEvent>',
        "e",
        "信号事件定义",
    ),
    "link_events": (
        '<bpmn:startEvent id="s"/>'
        + flow("f0", "s", "go")
        + '<bpmn:intermediateThrowEvent id="go"><bpmn:linkEventDefinition name="x"/>'
        "</bpmn:intermediateThrowEvent>",
        "go",
        "链接事件",
    ),
    "instantiating_receive_task": (
        '<bpmn:receiveTask id="r" instantiate="true"/>'
        + flow("f0", "r", "e")
        + '<bpmn:startEvent id="s"/>'
        + flow("f1", "s", "e")
        + '<bpmn:endEvent id="e"/>',
        "r",
        "接收任务",
    ),
}


@pytest.mark.parametrize("name", list(UNSUPPORTED))
def test_unsupported_elements_in_an_executable_process_are_errors(name: str) -> None:
    body, element_id, fragment = UNSUPPORTED[name]
    check = validate_bundle(small(body), lane_roles={"reviewer"}, service_handlers=set())
    assert not check.ok
    named = [p for p in check.problems if p.element_id == element_id and fragment in p.message]
    assert named and named[0].severity == "error", check.problems
    assert not any(
        "Traceback" in p.message or "NotImplementedError" in p.message_en for p in check.problems
    )


def test_the_same_elements_in_a_descriptive_process_are_one_grouped_warning_each() -> None:
    body = (
        '<bpmn:startEvent id="s"/>'
        + flow("f0", "s", "g1")
        + '<bpmn:complexGateway id="g1"/>'
        + flow("f1", "g1", "g2")
        + '<bpmn:complexGateway id="g2"/>'
        + flow("f2", "g2", "e")
        + '<bpmn:endEvent id="e"/>'
    )
    check = validate_bundle(small(body, "false"), lane_roles={"reviewer"}, service_handlers=set())
    [scope, gateways] = check.problems
    assert scope.element_id == "p" and scope.severity == "error"
    assert gateways.severity == "warning" and gateways.element_id == "g1"
    assert "2 处复杂网关" in gateways.message and "g1、g2" in gateways.message


def test_calling_a_descriptive_process_names_the_call_activity() -> None:
    xml = (
        f'{HEAD}<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
        + flow("f0", "s", "call")
        + '<bpmn:callActivity id="call" name="调用说明性流程" calledElement="d"/>'
        + flow("f1", "call", "e")
        + '<bpmn:endEvent id="e"/></bpmn:process>'
        '<bpmn:process id="d" isExecutable="false"><bpmn:startEvent id="ds"/>'
        + flow("g0", "ds", "de")
        + '<bpmn:endEvent id="de"/></bpmn:process></bpmn:definitions>'
    )
    check = validate_bundle({"p.bpmn": xml.encode()}, lane_roles=set(), service_handlers=set())
    scope = [p for p in check.problems if p.element_id == "d"]
    assert [p.severity for p in scope] == ["warning"]  # p runs, so d is only descriptive
    [call] = [p for p in check.problems if p.element_id == "call"]
    assert call.severity == "error" and "未设为可执行" in call.message and "'d'" in call.message
