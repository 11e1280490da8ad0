"""Upload validation of process bundles: a valid bundle, then a corpus of hostile/broken ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from app.engine.validation import BundleCheck, Problem, validate_bundle

BUNDLES = Path(__file__).parent / "bundles"
ROLES = {"enterprise", "reviewer", "department"}
SERVICES = {"notify_enterprise", "publish_result"}
BPMN_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="defs" targetNamespace="http://creditflow.example/bpmn">\n'
)


def valid_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((BUNDLES / "valid").iterdir())}


def validate(files: dict[str, bytes], **kwargs: object) -> BundleCheck:
    return validate_bundle(files, lane_roles=ROLES, service_handlers=SERVICES, **kwargs)


def edited(file: str, *replacements: tuple[str, str]) -> dict[str, bytes]:
    """The valid bundle with text replaced in one file (each replacement must apply)."""
    files = valid_files()
    text = files[file].decode()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    files[file] = text.encode()
    return files


def script(code: str) -> dict[str, bytes]:
    old = "score = 40 + penalty_points * 2\nchecked = True"
    return edited("credit_repair.bpmn", (old, code))


def condition(expression: str) -> dict[str, bytes]:
    return edited("credit_repair.bpmn", ('level in ("high", "medium")', expression))


def cell(text: str) -> dict[str, bytes]:
    return edited("eligibility.dmn", ("<text>&gt;= 80</text>", f"<text>{text}</text>"))


def process(body: str, pid: str = "p") -> dict[str, bytes]:
    """A one-file bundle with a small executable process (no user tasks unless given)."""
    xml = f'{BPMN_HEAD}<bpmn:process id="{pid}" isExecutable="true">\n{body}\n</bpmn:process>\n'
    return {f"{pid}.bpmn": (xml + "</bpmn:definitions>\n").encode()}


def flow(fid: str, source: str, target: str, cond: str | None = None) -> str:
    if cond is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>'
    return (
        f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
        f"<bpmn:conditionExpression>{cond}</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


def timer_event(eid: str, duration: str) -> str:
    return (
        f'<bpmn:intermediateCatchEvent id="{eid}"><bpmn:timerEventDefinition>'
        f"<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
    )


def errors(check: BundleCheck) -> list[Problem]:
    return [p for p in check.problems if p.severity == "error"]


def find(
    check: BundleCheck,
    *,
    element_id: str | None = None,
    file: str | None = None,
    fragment: str = "",
    severity: str = "error",
) -> Problem:
    for p in check.problems:
        if (
            p.severity == severity
            and (element_id is None or p.element_id == element_id)
            and (file is None or p.file == file)
            and (fragment in p.message or fragment in p.message_en)
        ):
            return p
    pytest.fail(
        f"no {severity} {element_id=} {file=} {fragment=} in:\n"
        + "\n".join(map(str, check.problems))
    )


# --- the valid bundle ----------------------------------------------------------------------


def test_valid_bundle_passes_and_parser_is_usable() -> None:
    check = validate(valid_files())
    assert check.problems == []
    assert check.ok
    assert check.process_ids == ["credit_repair"]
    assert check.parser is not None
    spec = check.parser.get_spec("credit_repair")
    submit = spec.task_specs["submit_application"]
    assert submit.lane == "enterprise"
    assert submit.extensions["properties"]["formJsonSchemaFilename"] == "submit_form.json"
    assert spec.task_specs["review"].lane == "reviewer"
    assert check.parser.get_subprocess_specs("credit_repair") == {}


def test_valid_bundle_runs_under_the_sandbox() -> None:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from app.engine.sandbox import make_script_engine

    check = validate(valid_files())
    assert check.parser is not None
    wf = BpmnWorkflow(check.parser.get_spec("credit_repair"), script_engine=make_script_engine())
    wf.do_engine_steps()
    [submit] = wf.get_tasks(state=TaskState.READY, manual=True)
    submit.data.update(penalty_points=25)
    submit.run()
    wf.do_engine_steps()
    [review] = wf.get_tasks(state=TaskState.READY, manual=True)
    assert review.task_spec.bpmn_id == "review"
    assert review.data["score"] == 90 and review.data["level"] == "high"
    assert [e.event_type for e in wf.waiting_events()] == ["DurationTimerEventDefinition"]


def test_problem_as_dict() -> None:
    problem = Problem("a.bpmn", 3, "t", "中文", "English", "warning")
    assert problem.as_dict() == {
        "file": "a.bpmn",
        "line": 3,
        "element_id": "t",
        "message": "中文",
        "message_en": "English",
        "severity": "warning",
    }
    assert BundleCheck(problems=[problem]).ok


# --- runtime matters compile fine ----------------------------------------------------------


@pytest.mark.parametrize("code", ["while True:\n    pass", "blob = 'x' * 10**10"])
def test_cpu_and_memory_bombs_compile_they_are_runtime_matters(code: str) -> None:
    check = validate(script(code))
    assert check.ok, check.problems


# --- the hostile or broken corpus ----------------------------------------------------------


XXE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
)
LAUGHS = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
BILLION_LAUGHS = f'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">{LAUGHS}]>\n'


def with_prolog(prolog: str, entity: str = "") -> dict[str, bytes]:
    files = valid_files()
    text = files["credit_repair.bpmn"].decode().split("\n", 1)[1]
    text = text.replace('name="审核完成"', f'name="审核完成{entity}"')
    files["credit_repair.bpmn"] = (prolog + text).encode()
    return files


def call_activity(called: str) -> dict[str, bytes]:
    return process(
        '<bpmn:startEvent id="start"/>'
        + flow("f1", "start", "call_publish")
        + f'<bpmn:callActivity id="call_publish" name="公示" calledElement="{called}"/>'
        + flow("f2", "call_publish", "end")
        + '<bpmn:endEvent id="end"/>'
    )


def service_task(operator: str, value: str = "case_id") -> dict[str, bytes]:
    return process(
        '<bpmn:startEvent id="start"/>'
        + flow("f1", "start", "notify")
        + '<bpmn:serviceTask id="notify" name="通知企业"><bpmn:extensionElements>'
        f'<spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="out">'
        f'<spiffworkflow:parameters><spiffworkflow:parameter id="case" type="str" value="{value}"/>'
        "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>"
        "</bpmn:extensionElements></bpmn:serviceTask>"
        + flow("f2", "notify", "end")
        + '<bpmn:endEvent id="end"/>'
    )


def event_gateway_with_two_timers() -> dict[str, bytes]:
    return process(
        '<bpmn:startEvent id="start"/>'
        + flow("f0", "start", "wait")
        + '<bpmn:eventBasedGateway id="wait" name="等待异议或超时"/>'
        + flow("f1", "wait", "one_day")
        + flow("f2", "wait", "one_week")
        + timer_event("one_day", '"P1D"')
        + timer_event("one_week", '"P7D"')
        + flow("f3", "one_day", "end")
        + flow("f4", "one_week", "end")
        + '<bpmn:endEvent id="end"/>'
    )


def parallel_with_condition() -> dict[str, bytes]:
    return process(
        '<bpmn:startEvent id="start"/>'
        + flow("f0", "start", "fork")
        + '<bpmn:parallelGateway id="fork"/>'
        + flow("f1", "fork", "end_a", "amount > 5")
        + flow("f2", "fork", "end_b")
        + '<bpmn:endEvent id="end_a"/><bpmn:endEvent id="end_b"/>'
    )


def exclusive_without_condition() -> dict[str, bytes]:
    return process(
        '<bpmn:startEvent id="start"/>'
        + flow("f0", "start", "choose")
        + '<bpmn:exclusiveGateway id="choose" name="选择"/>'
        + flow("f1", "choose", "end_a", "amount > 5")
        + flow("f2", "choose", "end_b")
        + '<bpmn:endEvent id="end_a"/><bpmn:endEvent id="end_b"/>'
    )


def gateway_loop() -> dict[str, bytes]:
    return process(
        '<bpmn:startEvent id="start"/>'
        + flow("f0", "start", "merge")
        + '<bpmn:exclusiveGateway id="merge" name="再审"/>'
        + flow("f1", "merge", "count")
        + '<bpmn:scriptTask id="count"><bpmn:script>rounds = 1</bpmn:script></bpmn:scriptTask>'
        + flow("f2", "count", "again")
        + '<bpmn:exclusiveGateway id="again" default="f4"/>'
        + flow("f3", "again", "merge", "rounds &lt; 3")
        + flow("f4", "again", "end")
        + '<bpmn:endEvent id="end"/>'
    )


def without(name: str, files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k != name}


class Case(NamedTuple):
    files: Callable[[], dict[str, bytes]]
    element_id: str | None
    file: str | None
    fragment: str


REVIEW_LANE_REF = "<bpmn:flowNodeRef>submit_application</bpmn:flowNodeRef>"
CORPUS = {
    "import_in_script": Case(
        lambda: script("x = __import__('os').popen('id').read()"),
        "compute_score",
        "credit_repair.bpmn",
        "__import__",
    ),
    "subclasses_in_condition": Case(
        lambda: condition("().__class__.__base__.__subclasses__()"),
        "flow_eligible",
        "credit_repair.bpmn",
        "__subclasses__",
    ),
    "import_in_prescript": Case(
        lambda: edited(
            "credit_repair.bpmn",
            (
                "<spiffworkflow:postScript>applied = True",
                "<spiffworkflow:preScript>import os"
                "</spiffworkflow:preScript>"
                "<spiffworkflow:postScript>applied = True",
            ),
        ),
        "submit_application",
        "credit_repair.bpmn",
        "import",
    ),
    "xxe_doctype": Case(lambda: with_prolog(XXE, "&xxe;"), None, "credit_repair.bpmn", "DOCTYPE"),
    "billion_laughs": Case(
        lambda: with_prolog(BILLION_LAUGHS, "&lol9;"), None, "credit_repair.bpmn", "DOCTYPE"
    ),
    "not_well_formed": Case(
        lambda: edited("credit_repair.bpmn", ("</bpmn:process>", "</bpmn:proces>")),
        None,
        "credit_repair.bpmn",
        "XML 格式错误",
    ),
    "xsd_violation": Case(
        lambda: edited(
            "credit_repair.bpmn",
            (
                '<bpmn:endEvent id="end_approved"',
                '<bpmn:bogus id="x"/><bpmn:endEvent id="end_approved"',
            ),
        ),
        None,
        "credit_repair.bpmn",
        "XSD",
    ),
    "undefined_called_element": Case(
        lambda: call_activity("does_not_exist"), "call_publish", "p.bpmn", "does_not_exist"
    ),
    "unknown_decision": Case(
        lambda: edited("credit_repair.bpmn", (">repair_eligibility<", ">no_such_table<")),
        "eligibility",
        "credit_repair.bpmn",
        "no_such_table",
    ),
    "feel_range": Case(lambda: cell("[50..80)"), "rule_high_score", "eligibility.dmn", "FEEL"),
    "feel_list": Case(lambda: cell("1,2,3"), "rule_high_score", "eligibility.dmn", "FEEL"),
    "feel_not": Case(lambda: cell("not(5)"), "rule_high_score", "eligibility.dmn", "not("),
    "in_without_space": Case(
        lambda: cell("in (1,2,3)"), "rule_high_score", "eligibility.dmn", "scorein (1,2,3)"
    ),
    "cell_escape": Case(
        lambda: cell("? .__class__"), "rule_high_score", "eligibility.dmn", "__class__"
    ),
    "hit_policy_any": Case(
        lambda: edited("eligibility.dmn", ('"UNIQUE"', '"ANY"')),
        "eligibility_table",
        "eligibility.dmn",
        "ANY",
    ),
    "collect_sum": Case(
        lambda: edited(
            "eligibility.dmn", ('hitPolicy="UNIQUE"', 'hitPolicy="COLLECT" aggregation="SUM"')
        ),
        "eligibility_table",
        "eligibility.dmn",
        "aggregation",
    ),
    "unquoted_timer": Case(
        lambda: edited("credit_repair.bpmn", ('"P5D"', "P5D")),
        "review_deadline",
        "credit_repair.bpmn",
        "请加引号",
    ),
    "invalid_duration": Case(
        lambda: edited("credit_repair.bpmn", ('"P5D"', '"PT1D"')),
        "review_deadline",
        "credit_repair.bpmn",
        "ISO 8601",
    ),
    "user_task_without_lane": Case(
        lambda: edited("credit_repair.bpmn", (REVIEW_LANE_REF, "")),
        "submit_application",
        "credit_repair.bpmn",
        "不在任何泳道",
    ),
    "lane_not_a_role": Case(
        lambda: edited("credit_repair.bpmn", ('name="reviewer"', 'name="hacker"')),
        "review",
        "credit_repair.bpmn",
        "hacker",
    ),
    "missing_form": Case(
        lambda: without("review_form.json", valid_files()),
        "review",
        "credit_repair.bpmn",
        "review_form.json",
    ),
    "no_form_property": Case(
        lambda: edited(
            "credit_repair.bpmn",
            (
                '<spiffworkflow:property name="formJsonSchemaFilename" value="review_form.json"/>',
                "",
            ),
        ),
        "review",
        "credit_repair.bpmn",
        "formJsonSchemaFilename",
    ),
    "invalid_json_schema": Case(
        lambda: edited("review_form.json", ('"type": "object"', '"type": "objekt"')),
        "review",
        "review_form.json",
        "JSON Schema",
    ),
    "unknown_service": Case(lambda: service_task("shell/exec"), "notify", "p.bpmn", "shell/exec"),
    "service_param_escape": Case(
        lambda: service_task("notify_enterprise", "_getattr_"), "notify", "p.bpmn", "_getattr_"
    ),
    "two_timers_behind_event_gateway": Case(
        event_gateway_with_two_timers, "wait", "p.bpmn", "one_day"
    ),
    "flow_to_missing_target": Case(
        lambda: edited(
            "credit_repair.bpmn", ('targetRef="end_approved"', 'targetRef="end_nowhere"')
        ),
        "flow_reviewed",
        "credit_repair.bpmn",
        "end_nowhere",
    ),
    "parallel_gateway_condition": Case(parallel_with_condition, "f1", "p.bpmn", "并行网关"),
    "exclusive_flow_without_condition": Case(exclusive_without_condition, "f2", "p.bpmn", "默认流"),
}


@pytest.mark.parametrize("case", CORPUS.values(), ids=list(CORPUS))
def test_hostile_or_broken_bundle_is_refused(case: Case) -> None:
    check = validate(case.files())
    assert not check.ok
    problem = find(check, element_id=case.element_id, file=case.file, fragment=case.fragment)
    assert problem.message and problem.message_en
    assert "Traceback" not in problem.message


def test_script_problem_reports_the_xml_line() -> None:
    files = script("ok = 1\nbad = __import__('os')")
    check = validate(files)
    problem = find(check, element_id="compute_score", fragment="__import__")
    lines = files["credit_repair.bpmn"].decode().splitlines()
    assert "bad = __import__" in lines[problem.line - 1]
    assert "第 2 行" in problem.message


def test_not_well_formed_xml_reports_the_line() -> None:
    files = edited("credit_repair.bpmn", ("</bpmn:process>", "</bpmn:proces>"))
    problem = find(validate(files), file="credit_repair.bpmn", fragment="XML")
    lines = files["credit_repair.bpmn"].decode().splitlines()
    assert problem.line is not None and "</bpmn:proces>" in lines[problem.line - 1]


def test_xsd_violation_reports_the_line() -> None:
    files = edited(
        "credit_repair.bpmn",
        (
            '<bpmn:endEvent id="end_overdue"',
            '<bpmn:bogus id="x"/>\n<bpmn:endEvent id="end_overdue"',
        ),
    )
    problem = find(validate(files), file="credit_repair.bpmn", fragment="XSD")
    lines = files["credit_repair.bpmn"].decode().splitlines()
    assert problem.line is not None and "bpmn:bogus" in lines[problem.line - 1]


@pytest.mark.parametrize("prolog", [XXE, BILLION_LAUGHS], ids=["xxe", "billion_laughs"])
def test_dtd_is_refused_before_parsing(prolog: str) -> None:
    start = time.perf_counter()
    check = validate(with_prolog(prolog, "&xxe;" if prolog is XXE else "&lol9;"))
    assert time.perf_counter() - start < 1.0
    problem = find(check, file="credit_repair.bpmn", fragment="DOCTYPE")
    assert problem.line == 2
    assert check.parser is None and "root:" not in str(check.problems)


def test_twenty_megabyte_file_is_refused_quickly() -> None:
    files = valid_files()
    files["huge.bpmn"] = b"<" + b"a" * (20 * 1024 * 1024)
    start = time.perf_counter()
    check = validate(files)
    assert time.perf_counter() - start < 1.0
    find(check, file="huge.bpmn", fragment="过大")
    assert [p.file for p in errors(check)] == ["huge.bpmn"]


def test_unknown_decision_message_is_clear() -> None:
    check = validate(edited("credit_repair.bpmn", (">repair_eligibility<", ">nope<")))
    problem = find(check, element_id="eligibility", fragment="nope")
    assert "repair_eligibility" in problem.message  # lists the decisions that exist
    assert "No DMN Diagram" not in problem.message_en


def test_missing_target_message_is_not_the_misleading_parser_text() -> None:
    check = validate(
        edited("credit_repair.bpmn", ('targetRef="end_approved"', 'targetRef="end_nowhere"'))
    )
    assert not any("form has the same ID" in p.message_en for p in check.problems)


def test_lane_problem_lists_allowed_roles() -> None:
    check = validate(edited("credit_repair.bpmn", ('name="reviewer"', 'name="hacker"')))
    problem = find(check, element_id="review", fragment="hacker")
    assert all(role in problem.message for role in ROLES)
    assert check.parser is not None  # the parser itself is happy: lanes are our rule


def test_gateway_loop_is_a_warning_not_an_error() -> None:
    check = validate(gateway_loop())
    assert check.ok, check.problems
    problem = find(
        check, element_id="merge", severity="warning", fragment="standardLoopCharacteristics"
    )
    assert "again" in problem.message


def test_time_date_without_offset_is_a_warning() -> None:
    files = edited(
        "credit_repair.bpmn",
        (
            '<bpmn:timeDuration>"P5D"</bpmn:timeDuration>',
            '<bpmn:timeDate>"2026-01-01T09:00:00"</bpmn:timeDate>',
        ),
    )
    check = validate(files)
    assert check.ok
    find(check, element_id="review_deadline", severity="warning", fragment="+08:00")
    ok = edited(
        "credit_repair.bpmn",
        (
            '<bpmn:timeDuration>"P5D"</bpmn:timeDuration>',
            '<bpmn:timeDate>"2026-01-01T09:00:00+08:00"</bpmn:timeDate>',
        ),
    )
    assert validate(ok).problems == []


@pytest.mark.parametrize("literal", ["2026-01-01T00:00:00+08:00", "R2/P1D", "PT2H"])
def test_other_unquoted_iso_literals_are_errors(literal: str) -> None:
    check = validate(edited("credit_repair.bpmn", ('"P5D"', literal)))
    find(check, element_id="review_deadline", fragment="请加引号")


def test_dmn_last_rule_not_catch_all_is_a_warning() -> None:
    check = validate(edited("eligibility.dmn", ("<text>-</text>", "<text>&lt; 50</text>")))
    assert check.ok
    find(check, element_id="rule_other", severity="warning", fragment="兜底")


def test_valid_python_cells_pass() -> None:
    for text in ("!= 5", "? in (1, 2, 3)", " in (1, 2, 3)", "90", "&gt; 10 and score &lt; 99"):
        assert validate(cell(text)).ok, text


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("../evil.bpmn", "路径"), ("notes.txt", ".bpmn"), ("a/b.dmn", "路径")],
)
def test_bad_file_names_are_refused(name: str, fragment: str) -> None:
    files = valid_files()
    files[name] = b"{}"
    find(validate(files), file=name, fragment=fragment)


def test_non_utf8_and_too_many_files() -> None:
    files = valid_files()
    files["latin.json"] = '{"a": "é"}'.encode("latin-1")
    find(validate(files), file="latin.json", fragment="UTF-8")
    many = {f"f{i}.json": b"{}" for i in range(51)}
    check = validate(many)
    assert len(check.problems) == 1 and "51" in check.problems[0].message


def test_never_raises_on_garbage() -> None:
    garbage = {"x.bpmn": b"\x00\x01", "y.dmn": b"<a/>", "z.json": b"[" * 100_000}
    check = validate(garbage)
    assert not check.ok
    assert {p.file for p in check.problems} >= {"x.bpmn", "y.dmn", "z.json"}


# --- messages, correlations, loops ---------------------------------------------------------


def messaging(*replacements: tuple[str, str]) -> dict[str, bytes]:
    text = (BUNDLES / "messaging.bpmn").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return {"messaging.bpmn": text.encode()}


def test_messaging_bundle_passes() -> None:
    check = validate(messaging())
    assert check.problems == [] and check.parser is not None
    assert check.process_ids == ["dept_feedback_round"]


@pytest.mark.parametrize(
    ("old", "new", "element_id"),
    [
        (
            "<bpmn:formalExpression>case_id",
            "<bpmn:formalExpression>case_id.__class__",
            "case_id_prop",
        ),
        ('"dept": "tax"}', '"dept": __import__("os")}', "ask"),
        ("<spiffworkflow:expression>case_id", "<spiffworkflow:expression>_secret", "answer"),
        ("len(departments)", "len(__builtins__)", "tally"),
        ("done_count &gt;= 2", "done_count.__dict__", "tally"),
        ("reminders &lt; 3", "reminders.__dict__", "remind"),
    ],
    ids=[
        "correlation",
        "message_payload",
        "process_variable_correlation",
        "loop_cardinality",
        "completion_condition",
        "loop_condition",
    ],
)
def test_every_expression_site_is_compiled(old: str, new: str, element_id: str) -> None:
    check = validate(messaging((old, new)))
    problem = find(check, element_id=element_id, fragment="沙箱")
    assert problem.file == "messaging.bpmn" and problem.line is not None


def test_parser_deprecation_warning_becomes_a_warning_problem() -> None:
    payload = '<spiffworkflow:messagePayload>{"case_id": case_id}</spiffworkflow:messagePayload>'
    files = messaging(
        (
            '<bpmn:message id="dept_feedback" name="dept_feedback"/>',
            '<bpmn:message id="dept_feedback" name="dept_feedback"><bpmn:extensionElements>'
            f"{payload}</bpmn:extensionElements></bpmn:message>",
        )
    )
    check = validate(files)
    assert check.ok
    find(check, severity="warning", fragment="messageDefinition")


def test_parser_missing_target_message_is_rephrased() -> None:
    # The target exists in the file but in another process: only the parser notices.
    xml = (
        f'{BPMN_HEAD}<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="start"/>'
        + flow("f1", "start", "q_end")
        + '</bpmn:process><bpmn:process id="q" isExecutable="true"><bpmn:startEvent id="qs"/>'
        + flow("g1", "qs", "q_end")
        + '<bpmn:endEvent id="q_end"/></bpmn:process></bpmn:definitions>'
    )
    check = validate({"p.bpmn": xml.encode()})
    problem = find(check, element_id="f1", file="p.bpmn", fragment="points to a missing element")
    assert "不存在的元素" in problem.message and problem.line is not None
    assert not any("form has the same ID" in p.message_en for p in check.problems)
