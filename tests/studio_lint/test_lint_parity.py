"""The studio's live lint (assets/studio/lint) agrees with the server's validation.

Every model here is linted in node with bpmnlint's Linter and bpmn-moddle, as the modeler does,
with spiffworkflow elements left generic (no descriptor), typed by our own minimal descriptor
(spiffworkflow.json here), and typed by the modeler's own (assets/studio/moddle.js
`descriptorFor`) when it exists.

- Models the server deploys have no lint error.
- Each broken model the server refuses, in every category the lint covers, gets a lint error on
  the element the server names; its warnings (gateway loops, dates without offset) are lint
  warnings on the same element.
- Messages are in Chinese by default and in English with `locale: "en"` (the studio on an
  English page): every message of every rule, worded like the server's `message_en`.

Server checks the lint does not mirror (nothing is asserted for them): the real
RestrictedPython compilation (only names/attributes starting with "_", import, exec/eval,
FEEL/JUEL "$" and empty expressions are caught in the browser; other syntax errors are not),
XML well-formedness, DTD/entity refusal, encodings, file names and sizes, XSD validation,
everything about DMN tables and cells and JSON Schema forms (other files than the diagram),
duplicate process/decision ids across files, multi-instance without cardinality or input
collection (bpmn-moddle drops a loopDataInputRef naming a variable, so the lint cannot see it),
parser warnings, and the deploy-time length limits of ids and names.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from lxml import etree

from app.engine.validation import BundleCheck, validate_bundle
from app.engine.validation_bpmn import TYPE_ZH
from tests.engine.test_validation import (
    BPMN_HEAD,
    CORPUS,
    ROLES,
    SERVICES,
    edited,
    flow,
    gateway_loop,
    messaging,
    process,
    valid_files,
)

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("run_lint.mjs")
OWN_DESCRIPTOR = Path(__file__).with_name("spiffworkflow.json")
MODELER_DESCRIPTOR = ROOT / "assets" / "studio" / "moddle.js"
REQUIRE_E2E = os.environ.get("REQUIRE_E2E") == "1"
NODE = shutil.which("node")


def _missing() -> str | None:
    if NODE is None:
        return "node is not installed"
    for package in ("bpmnlint", "bpmn-moddle"):
        if not (ROOT / "node_modules" / package / "package.json").exists():
            return f"node_modules/{package} is missing (run `npm ci`)"
    return None


if (reason := _missing()) is not None:
    if REQUIRE_E2E:
        pytest.fail(f"REQUIRE_E2E=1 but {reason}", pytrace=False)
    pytest.skip(f"studio lint tests need node: {reason}", allow_module_level=True)

DESCRIPTORS = {"generic": None, "typed": OWN_DESCRIPTOR}
if MODELER_DESCRIPTOR.exists():
    DESCRIPTORS["modeler"] = MODELER_DESCRIPTOR

# --- running the lint ----------------------------------------------------------------------

Files = dict[str, bytes]


def context_for(files: Files, handlers: set[str], roles: set[str]) -> dict[str, Any]:
    """What the modeler passes to createLintConfig for a draft with these files."""
    decisions, processes = [], []
    for name, data in files.items():
        if not name.endswith((".bpmn", ".dmn")):
            continue
        try:
            root = etree.fromstring(data)
        except etree.XMLSyntaxError:
            continue
        kind = "decision" if name.endswith(".dmn") else "process"
        found = [
            el.get("id") for el in root.iter(etree.Element) if etree.QName(el).localname == kind
        ]
        (decisions if kind == "decision" else processes).extend(filter(None, found))
    return {
        "handlers": sorted(handlers),
        "roles": sorted(roles),
        "formFiles": sorted(files),
        "decisionIds": decisions,
        "processIds": processes,
    }


def run_lint(
    cases: dict[str, tuple[str, dict[str, Any]]], descriptor: Path | None, locale: str | None = None
) -> dict:
    request = {
        "descriptor": str(descriptor) if descriptor else None,
        "cases": {key: {"xml": xml, "context": ctx} for key, (xml, ctx) in cases.items()},
    }
    done = subprocess.run(
        [NODE, str(RUNNER), *([locale] if locale else [])],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for key, result in results.items():
        assert result["error"] is None, f"{key}: {result['error']}"
        crashed = [i for i in result["issues"] if i["category"] == "rule-error"]
        assert not crashed, f"{key}: a rule crashed: {crashed}"
    return results


def server(files: Files) -> BundleCheck:
    return validate_bundle(files, lane_roles=ROLES, service_handlers=SERVICES)


# --- the cases -----------------------------------------------------------------------------


class Case(NamedTuple):
    files: Callable[[], Files]
    element_id: str | None  # None: the server names no element; any lint error will do
    severity: str = "error"


S = '<bpmn:startEvent id="start"/>'
E = '<bpmn:endEvent id="end"/><bpmn:endEvent id="end2"/>'


def small(body: str) -> Callable[[], Files]:
    return lambda: process(S + body + E)


def only_bpmn(files: Files) -> Files:
    return {name: data for name, data in files.items() if name.endswith(".bpmn")}


def not_executable() -> Files:
    files = process(S + flow("f0", "start", "end") + E)
    return {"p.bpmn": files["p.bpmn"].replace(b'isExecutable="true"', b'isExecutable="false"')}


def task_flow(task: str) -> str:
    return flow("f0", "start", "t") + task + flow("f1", "t", "end")


SERVICE = (
    '<bpmn:serviceTask id="t"><bpmn:extensionElements>'
    '<spiffworkflow:serviceTaskOperator id="notify_enterprise" resultVariable="out">'
    "<spiffworkflow:parameters>{param}</spiffworkflow:parameters>"
    "</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"
)


def with_data_store() -> Files:
    files = process(S + flow("f0", "start", "end") + E)
    text = files["p.bpmn"].replace(
        b"<bpmn:process", b'<bpmn:dataStore id="ds" name="archive"/><bpmn:process'
    )
    return {"p.bpmn": text}


def throw_event(definition: str) -> Callable[[], Files]:
    return small(
        flow("f0", "start", "w")
        + f'<bpmn:intermediateThrowEvent id="w">{definition}</bpmn:intermediateThrowEvent>'
        + flow("f1", "w", "end")
    )


IO_SPEC = (
    '<bpmn:ioSpecification><bpmn:dataInput id="amount"/><bpmn:inputSet>'
    "<bpmn:dataInputRefs>amount</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet/>"
    "</bpmn:ioSpecification>"
)
# validation_support.KINDS, each on the element the server names.
UNSUPPORTED: dict[str, Case] = {
    "transaction": Case(
        small(
            task_flow(
                '<bpmn:transaction id="t"><bpmn:startEvent id="s1"/>'
                + flow("g1", "s1", "e9")
                + '<bpmn:endEvent id="e9"/></bpmn:transaction>'
            )
        ),
        "t",
    ),
    "link_event": Case(throw_event('<bpmn:linkEventDefinition name="L"/>'), "w"),
    "ignored_definition": Case(
        throw_event(
            '<bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration>'
            "</bpmn:timerEventDefinition>"
        ),
        "w",
    ),
    "compensation_event": Case(throw_event("<bpmn:compensateEventDefinition/>"), "w"),
    "compensation_activity": Case(
        small(flow("f0", "start", "end") + '<bpmn:task id="undo" isForCompensation="true"/>'),
        "undo",
    ),
    "boundary_without_definition": Case(
        small(
            task_flow('<bpmn:task id="t"/>')
            + '<bpmn:boundaryEvent id="b" attachedToRef="t"/>'
            + flow("f2", "b", "end2")
        ),
        "b",
    ),
    "data_store": Case(with_data_store, "ds"),
    "loop_without_limit": Case(
        small(task_flow('<bpmn:task id="t"><bpmn:standardLoopCharacteristics/></bpmn:task>')),
        "t",
    ),
    "sub_process_without_end": Case(
        small(
            task_flow(
                '<bpmn:subProcess id="t"><bpmn:startEvent id="s1"/>'
                + flow("g1", "s1", "x")
                + '<bpmn:task id="x"/></bpmn:subProcess>'
            )
        ),
        "t",
    ),
    "task_io_specification": Case(
        small(task_flow(f'<bpmn:task id="t">{IO_SPEC}</bpmn:task>')), "t"
    ),
    "instantiating_receive_task": Case(
        small(task_flow('<bpmn:receiveTask id="t" instantiate="true"/>')), "t"
    ),
}
REFUSED_CORPUS = [
    "import_in_script",
    "subclasses_in_condition",
    "import_in_prescript",
    "undefined_called_element",
    "unknown_decision",
    "unquoted_timer",
    "invalid_duration",
    "user_task_without_lane",
    "lane_not_a_role",
    "missing_form",
    "no_form_property",
    "unknown_service",
    "service_param_escape",
    "two_timers_behind_event_gateway",
    "flow_to_missing_target",
    "parallel_gateway_condition",
    "exclusive_flow_without_condition",
]
MESSAGING_SITES = {
    "correlation": ("<bpmn:formalExpression>case_id", "<bpmn:formalExpression>case_id.__class__"),
    "message_payload": ('"dept": "tax"}', '"dept": __import__("os")}'),
    "process_variable_correlation": (
        "<spiffworkflow:expression>case_id",
        "<spiffworkflow:expression>_secret",
    ),
    "loop_cardinality": ("len(departments)", "len(__builtins__)"),
    "completion_condition": ("done_count &gt;= 2", "done_count.__dict__"),
    "loop_condition": ("reminders &lt; 3", "reminders.__dict__"),
}
MESSAGING_OWNERS = {
    "correlation": "case_id_prop",
    "message_payload": "ask",
    "process_variable_correlation": "answer",
    "loop_cardinality": "tally",
    "completion_condition": "tally",
    "loop_condition": "remind",
}
DEADLINE = '<bpmn:timeDuration>"P5D"</bpmn:timeDuration>'
REFUSED: dict[str, Case] = {
    **{name: Case(CORPUS[name].files, CORPUS[name].element_id) for name in REFUSED_CORPUS},
    **{
        f"messaging_{name}": Case(
            lambda old_new=old_new: messaging(old_new), MESSAGING_OWNERS[name]
        )
        for name, old_new in MESSAGING_SITES.items()
    },
    "unquoted_time_date": Case(
        lambda: edited("credit_repair.bpmn", ('"P5D"', "2026-01-01T00:00:00+08:00")),
        "review_deadline",
    ),
    "unquoted_cycle": Case(
        lambda: edited("credit_repair.bpmn", ('"P5D"', "R2/P1D")), "review_deadline"
    ),
    "empty_timer": Case(
        lambda: edited("credit_repair.bpmn", (DEADLINE, "<bpmn:timeDuration></bpmn:timeDuration>")),
        "review_deadline",
    ),
    "invalid_cycle": Case(
        lambda: edited("credit_repair.bpmn", (DEADLINE, '<bpmn:timeCycle>"P1D"</bpmn:timeCycle>')),
        "review_deadline",
    ),
    "timer_without_time": Case(
        small(
            flow("f0", "start", "w")
            + '<bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition/>'
            "</bpmn:intermediateCatchEvent>" + flow("f1", "w", "end")
        ),
        "w",
    ),
    "juel_condition": Case(
        lambda: edited("credit_repair.bpmn", ('level in ("high", "medium")', "${level}")),
        "flow_eligible",
    ),
    "eval_in_script": Case(
        lambda: edited(
            "credit_repair.bpmn",
            ("score = 40 + penalty_points * 2", 'score = eval("40")'),
        ),
        "compute_score",
    ),
    "empty_condition": Case(
        lambda: edited("credit_repair.bpmn", ('level in ("high", "medium")', "  ")),
        "flow_eligible",
    ),
    "no_start_event": Case(
        lambda: process('<bpmn:task id="t"/>' + flow("f1", "t", "end") + E), "p"
    ),
    "sub_process_without_start": Case(
        small(task_flow('<bpmn:subProcess id="t"><bpmn:task id="inner"/></bpmn:subProcess>')),
        "t",
    ),
    "sub_process_two_starts": Case(
        small(
            task_flow(
                '<bpmn:subProcess id="t"><bpmn:startEvent id="s1"/><bpmn:startEvent id="s2"/>'
                + flow("g1", "s1", "e9")
                + flow("g2", "s2", "e9")
                + '<bpmn:endEvent id="e9"/></bpmn:subProcess>'
            )
        ),
        "t",
    ),
    "not_executable": Case(not_executable, "p"),
    **{f"unsupported_{name}": case for name, case in UNSUPPORTED.items()},
    "complex_gateway": Case(
        small(flow("f0", "start", "g") + '<bpmn:complexGateway id="g"/>' + flow("f1", "g", "end")),
        "g",
    ),
    "implicit_split_from_task": Case(
        small(task_flow('<bpmn:task id="t"/>') + flow("f2", "t", "end2")), "t"
    ),
    "implicit_split_from_event": Case(
        small(
            flow("f0", "start", "w")
            + '<bpmn:intermediateThrowEvent id="w"/>'
            + flow("f1", "w", "end")
            + flow("f2", "w", "end2")
        ),
        "w",
    ),
    "condition_after_task": Case(
        small(
            task_flow('<bpmn:task id="t"/>').replace(
                '<bpmn:sequenceFlow id="f1" sourceRef="t" targetRef="end"/>',
                flow("f1", "t", "end", "amount &gt; 5"),
            )
        ),
        "f1",
    ),
    "script_task_without_script": Case(small(task_flow('<bpmn:scriptTask id="t"/>')), "t"),
    "service_task_without_operator": Case(small(task_flow('<bpmn:serviceTask id="t"/>')), "t"),
    "service_param_without_type": Case(
        small(task_flow(SERVICE.format(param='<spiffworkflow:parameter id="c" value="1"/>'))),
        "t",
    ),
    "business_rule_without_decision": Case(
        small(task_flow('<bpmn:businessRuleTask id="t"/>')), "t"
    ),
    "flow_into_another_process": Case(
        lambda: {
            "p.bpmn": (
                '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
                'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
                'targetNamespace="http://creditflow.example/bpmn"><bpmn:process id="p" '
                'isExecutable="true"><bpmn:startEvent id="start"/>'
                + flow("f1", "start", "q_end")
                + '</bpmn:process><bpmn:process id="q" isExecutable="true"><bpmn:startEvent '
                'id="qs"/>' + flow("g1", "qs", "q_end") + '<bpmn:endEvent id="q_end"/>'
                "</bpmn:process></bpmn:definitions>"
            ).encode()
        },
        "f1",
    ),
}
WARNED: dict[str, Case] = {
    "gateway_loop": Case(gateway_loop, "merge", "warning"),
    "time_date_without_offset": Case(
        lambda: edited(
            "credit_repair.bpmn",
            (DEADLINE, '<bpmn:timeDate>"2026-01-01T09:00:00"</bpmn:timeDate>'),
        ),
        "review_deadline",
        "warning",
    ),
}
# Models the server accepts that look close to refused ones: the lint must not cry wolf.
ACCEPTED: dict[str, Callable[[], Files]] = {
    "valid_bundle": valid_files,
    "messaging": messaging,
    "underscore_inside_a_string": lambda: edited(
        "credit_repair.bpmn", ("checked = True", 'checked = "_x import y eval(1) $"  # _z')
    ),
    "number_with_underscores": lambda: edited(
        "credit_repair.bpmn", ("score = 40 + penalty_points * 2", "score = 1_000")
    ),
    "time_date_with_offset": lambda: edited(
        "credit_repair.bpmn",
        (DEADLINE, '<bpmn:timeDate>"2026-01-01T09:00:00+08:00"</bpmn:timeDate>'),
    ),
    "timer_from_a_variable": lambda: edited("credit_repair.bpmn", ('"P5D"', 'f"P{days}D"')),
    "cycle_timer": lambda: edited(
        "credit_repair.bpmn", (DEADLINE, '<bpmn:timeCycle>"R2/PT12H"</bpmn:timeCycle>')
    ),
    "split_from_start_event": small(flow("f1", "start", "end") + flow("f2", "start", "end2")),
    "two_start_events": lambda: process(
        S + '<bpmn:startEvent id="s2"/>' + flow("f0", "start", "end") + flow("f1", "s2", "end") + E
    ),
    "single_flow_out_of_exclusive_gateway": small(
        flow("f0", "start", "g") + '<bpmn:exclusiveGateway id="g"/>' + flow("f1", "g", "end")
    ),
    "script_with_print": small(
        task_flow('<bpmn:scriptTask id="t"><bpmn:script>print(x)</bpmn:script></bpmn:scriptTask>')
    ),
}


def definitions(body: str) -> Callable[[], Files]:
    return lambda: {"p.bpmn": (BPMN_HEAD + body + "</bpmn:definitions>\n").encode()}


# Models for the rest of the messages (no server counterpart asserted): with the cases above,
# every rule of the pack reports at least once, in each of its wordings.
EXTRA: dict[str, Callable[[], Files]] = {
    "call_activity_without_called_element": small(
        flow("f0", "start", "c")
        + '<bpmn:callActivity id="c" name="Publish"/>'
        + flow("f1", "c", "end")
    ),
    "pools": definitions(
        '<bpmn:collaboration id="co"><bpmn:participant id="pa" name="Bank" processRef="p"/>'
        '<bpmn:participant id="pb" name="Customer"/>'
        '<bpmn:participant id="pc" name="Registry" processRef="start"/></bpmn:collaboration>'
        '<bpmn:process id="p"><bpmn:startEvent id="start"/>'
        + flow("f0", "start", "end")
        + '<bpmn:endEvent id="end"/></bpmn:process>'
    ),
    "unnamed_lane": small(
        '<bpmn:laneSet id="ls"><bpmn:lane id="l1"><bpmn:flowNodeRef>u</bpmn:flowNodeRef>'
        "</bpmn:lane></bpmn:laneSet>"
        + task_flow('<bpmn:userTask id="u" name="Review"/>').replace('"t"', '"u"')
    ),
    "flow_without_source": small(flow("f0", "start", "end") + flow("f9", "nowhere", "end2")),
    "empty_service_parameter": small(
        task_flow(SERVICE.format(param='<spiffworkflow:parameter id="c" type="str" value=" "/>'))
    ),
    "event_sub_process_untyped_start": small(
        flow("f0", "start", "end")
        + '<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="es"/>'
        + flow("g0", "es", "ee")
        + '<bpmn:endEvent id="ee"/></bpmn:subProcess>'
    ),
    "duplicate_flows": small(flow("f0", "start", "end") + flow("f1", "start", "end")),
    "two_event_definitions": small(
        flow("f0", "start", "w")
        + '<bpmn:intermediateCatchEvent id="w" name="Wait"><bpmn:messageEventDefinition/>'
        '<bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration>'
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>" + flow("f1", "w", "end")
    ),
    "event_definition_ref": definitions(
        '<bpmn:timerEventDefinition id="ed"><bpmn:timeDuration>"P1D"</bpmn:timeDuration>'
        '</bpmn:timerEventDefinition><bpmn:process id="p" isExecutable="true">'
        + S
        + flow("f0", "start", "w")
        + '<bpmn:intermediateCatchEvent id="w" name="Wait"><bpmn:eventDefinitionRef>ed'
        "</bpmn:eventDefinitionRef></bpmn:intermediateCatchEvent>"
        + flow("f1", "w", "end")
        + E
        + "</bpmn:process>"
    ),
    "data_store_association": small(
        task_flow(
            '<bpmn:task id="t" name="Archive"><bpmn:dataOutputAssociation id="a">'
            "<bpmn:targetRef>dsr</bpmn:targetRef></bpmn:dataOutputAssociation></bpmn:task>"
        )
        + '<bpmn:dataStoreReference id="dsr"/>'
    ),
}


def bpmn_cases(prefix: str, files: Files) -> dict[str, tuple[str, dict[str, Any]]]:
    ctx = context_for(files, SERVICES, ROLES)
    return {
        f"{prefix}::{name}": (data.decode("utf-8"), ctx) for name, data in only_bpmn(files).items()
    }


def shipped_cases() -> tuple[Files, dict[str, tuple[str, dict[str, Any]]]]:
    from app.services import definitions
    from app.services.handlers import HANDLERS
    from app.services.process_handlers import load_all

    load_all()
    files = definitions.read_bundle_dir(ROOT / "bpmn")
    ctx = context_for(files, set(HANDLERS), set(definitions.LANE_ROLES))
    cases = {f"shipped::{n}": (d.decode("utf-8"), ctx) for n, d in only_bpmn(files).items()}
    return files, cases


@functools.cache
def all_cases() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every model linted here, keyed `<case>::<file>`: refused, warned, accepted, shipped, and
    the extra ones that make every rule speak."""
    cases: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, case in {**REFUSED, **WARNED}.items():
        cases.update(bpmn_cases(name, case.files()))
    for name, files in {**ACCEPTED, **EXTRA}.items():
        cases.update(bpmn_cases(name, files()))
    cases.update(shipped_cases()[1])
    return cases


@pytest.fixture(scope="module", params=list(DESCRIPTORS), ids=list(DESCRIPTORS))
def descriptor(request: pytest.FixtureRequest) -> Path | None:
    return DESCRIPTORS[request.param]


@pytest.fixture(scope="module")
def linted(descriptor: Path | None) -> dict[str, dict]:
    """Every case linted with the default locale (Chinese)."""
    return run_lint(all_cases(), descriptor)


@pytest.fixture(scope="module")
def linted_en(descriptor: Path | None) -> dict[str, dict]:
    """Every case linted with locale "en" (the studio on an English page)."""
    return run_lint(all_cases(), descriptor, locale="en")


def issues(linted: dict[str, dict], prefix: str) -> list[dict]:
    return [i for key, r in linted.items() if key.startswith(f"{prefix}::") for i in r["issues"]]


def errors(found: list[dict]) -> list[dict]:
    return [i for i in found if i["category"] == "error"]


# --- tests ---------------------------------------------------------------------------------


def test_shipped_processes_have_no_lint_errors(linted: dict[str, dict]) -> None:
    files, cases = shipped_cases()
    assert len(cases) == 5
    from app.services.definitions import check_bundle

    assert check_bundle(files).ok  # the server deploys them
    assert errors(issues(linted, "shipped")) == []


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_models_the_server_accepts_have_no_lint_errors(linted: dict, name: str) -> None:
    assert server(ACCEPTED[name]()).ok
    assert errors(issues(linted, name)) == []


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_models_get_a_lint_error_on_the_same_element(linted: dict, name: str) -> None:
    case = REFUSED[name]
    check = server(case.files())
    refused = [p for p in check.problems if p.severity == "error"]
    assert refused, "the server accepts this fixture"
    assert any(p.element_id == case.element_id for p in refused), refused
    found = errors(issues(linted, name))
    if case.element_id is None:
        assert found
    else:
        assert case.element_id in {i["id"] for i in found}, found
    for issue in found:
        assert issue["rule"].startswith("creditflow/")
        assert re.search(r"[\u4e00-\u9fff]", issue["message"]), issue  # Chinese, says what to do


@pytest.mark.parametrize("name", list(WARNED))
def test_server_warnings_are_lint_warnings_on_the_same_element(linted: dict, name: str) -> None:
    case = WARNED[name]
    check = server(case.files())
    assert check.ok
    assert any(p.severity == "warning" and p.element_id == case.element_id for p in check.problems)
    found = issues(linted, name)
    assert errors(found) == []
    assert case.element_id in {i["id"] for i in found if i["category"] == "warn"}, found


def test_messages_match_the_server_wording(linted: dict) -> None:
    by_case = {
        name: errors(issues(linted, name)) for name in ("lane_not_a_role", "unknown_service")
    }
    lane = next(i["message"] for i in by_case["lane_not_a_role"] if i["id"] == "review")
    assert "hacker" in lane and all(role in lane for role in ROLES)
    service = next(i["message"] for i in by_case["unknown_service"] if i["id"] == "notify")
    assert "shell/exec" in service and "notify_enterprise" in service


def test_without_draft_context_only_context_free_checks_run() -> None:
    """The default export (no handlers/forms/decisions known) reports no unknown names."""
    files = CORPUS["unknown_service"].files()
    xml = files["p.bpmn"].decode()
    unknown = run_lint({"x": (xml, {})}, None)["x"]["issues"]
    assert not [i for i in unknown if i["rule"] == "creditflow/service-task"]
    empty = run_lint({"x": (xml.replace("shell/exec", ""), {"handlers": ["a"]})}, None)
    assert [i["id"] for i in empty["x"]["issues"] if i["rule"] == "creditflow/service-task"] == [
        "notify"
    ]


def test_miwg_reference_models_lint_without_crashing() -> None:
    folder = ROOT.parent / "shared" / "conformance" / "miwg"
    models = sorted(folder.glob("*.bpmn"))
    if not models:
        pytest.skip(f"no MIWG models in {folder}")
    results = run_lint({p.name: (p.read_text(encoding="utf-8"), {}) for p in models}, None)
    assert len(results) == len(models)  # run_lint asserts no rule crashed on any of them


# --- the messages' language ---------------------------------------------------------------

HAN = re.compile(r"[\u3400-\u9fff]")
# full-width and CJK punctuation (（）：、「」。), and the Chinese quotes “”
CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff00-\uffef\u201c\u201d]")


def element_names(xml: str) -> list[str]:
    """The names in a model (messages quote them as they are), longest first."""
    root = etree.fromstring(xml.encode("utf-8"))
    names = {" ".join(str(v).split()) for v in root.xpath("//@name")}
    return sorted(filter(None, names), key=len, reverse=True)


def without_names(message: str, names: list[str]) -> str:
    for name in names:
        message = message.replace(name, "")
    return message


def pack_rules() -> set[str]:
    """The rule names createLintConfig configures (`creditflow/…` and bpmnlint's)."""
    script = (
        "import { createLintConfig } from './assets/studio/lint/index.js';"
        "console.log(JSON.stringify(Object.keys(createLintConfig().config.rules)));"
    )
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return set(json.loads(done.stdout))


def test_every_rule_reports_in_english(linted_en: dict) -> None:
    """With locale "en" each message is non-empty English: no Chinese outside element names."""
    cases = all_cases()
    seen: set[str] = set()
    for key, result in linted_en.items():
        names = element_names(cases[key][0])
        for issue in result["issues"]:
            seen.add(issue["rule"])
            message = issue["message"]
            assert isinstance(message, str) and message.strip(), (key, issue)
            bare = without_names(message, names)
            assert not HAN.search(bare), (key, issue)
            assert not CJK_PUNCTUATION.search(bare), (key, issue)
            assert message[0].isupper(), (key, issue)  # a sentence
    assert seen == pack_rules()  # every rule said something on these models


def test_chinese_is_the_default(linted: dict, linted_en: dict) -> None:
    """Without a locale every message is Chinese (not only the element names in it), and the
    English run finds exactly the same problems."""
    cases = all_cases()
    for key, result in linted.items():
        names = element_names(cases[key][0])
        for issue in result["issues"]:
            assert HAN.search(without_names(issue["message"], names)), (key, issue)

        def found(issues: list[dict]) -> list[tuple]:
            return sorted((i["rule"], i["id"] or "", i["category"]) for i in issues)

        assert found(result["issues"]) == found(linted_en[key]["issues"]), key


def test_locale_names_are_normalised() -> None:
    xml = small(task_flow('<bpmn:scriptTask id="t"/>'))()["p.bpmn"].decode()
    results = run_lint(
        {
            locale or "default": (xml, {"locale": locale} if locale else {})
            for locale in ("en", "en-US", "EN", "zh", "zh-CN", "fr", None)
        },
        None,
    )
    for key, result in results.items():
        message = next(
            i["message"] for i in result["issues"] if i["rule"] == "creditflow/script-task"
        )
        if key.lower().startswith("en"):
            assert message == "Script task (t) has no script. Enter a Python script.", key
        else:
            assert message == "脚本任务（t）没有脚本内容。请填写 Python 脚本。", key


# How the server names an element in English (`userTask 'Review' (review)`) and how the lint
# does (`user task "Review" (review)`): both become `<review>` to compare the sentences.
TYPE_EN = {
    local: {
        "eventBasedGateway": "event-based gateway",
        "subProcess": "sub-process",
        "adHocSubProcess": "ad-hoc sub-process",
        "participant": "participant (pool)",
    }.get(local, re.sub(r"(?<!^)(?=[A-Z])", " ", local).lower())
    for local in TYPE_ZH
}
SERVER_WHO = re.compile(
    r"\b(?:" + "|".join(sorted(TYPE_ZH, key=len, reverse=True)) + r") (?:'[^']*' )?\(([\w.-]+)\)"
)
LINT_WHO = re.compile(
    r"\b(?:" + "|".join(map(re.escape, sorted(TYPE_EN.values(), key=len, reverse=True))) + r")"
    r' (?:"[^"]*" )?\(([\w.-]+)\)',
    re.IGNORECASE,
)


def sentence(message: str, who: re.Pattern[str]) -> str:
    return who.sub(r"<\1>", message).rstrip(".")


# Checks whose English lint message is the server's message_en, element names aside.
SAME_WORDING = [
    "import_in_script",
    "service_param_escape",
    "unknown_service",
    "lane_not_a_role",
    "user_task_without_lane",
    "unquoted_timer",
    "unquoted_time_date",
    "empty_timer",
    "parallel_gateway_condition",
    "exclusive_flow_without_condition",
    "script_task_without_script",
    "service_param_without_type",
    "business_rule_without_decision",
    "implicit_split_from_task",
    "implicit_split_from_event",
    "complex_gateway",
    "sub_process_two_starts",
    "messaging_loop_cardinality",
    "messaging_message_payload",
    "time_date_without_offset",
    *(f"unsupported_{name}" for name in UNSUPPORTED),
]
MIRRORED = {**REFUSED, **WARNED}


@pytest.mark.parametrize("name", list(MIRRORED))
def test_english_messages_name_the_element_the_server_names(linted_en: dict, name: str) -> None:
    case = MIRRORED[name]
    if case.element_id is None:
        pytest.skip("the server names no element")
    named = f"({case.element_id})"
    server_en = [
        p.message_en for p in server(case.files()).problems if p.element_id == case.element_id
    ]
    lint_en = [i["message"] for i in issues(linted_en, name) if i["id"] == case.element_id]
    assert lint_en, name
    if any(named in m for m in server_en):
        assert any(named in m for m in lint_en), (server_en, lint_en)
    if name in SAME_WORDING:
        expected = {sentence(m, SERVER_WHO) for m in server_en}
        assert expected & {sentence(m, LINT_WHO) for m in lint_en}, (server_en, lint_en)


def test_miwg_reference_models_lint_in_english() -> None:
    """Models drawn in other tools (many unsupported elements): English messages too."""
    folder = ROOT.parent / "shared" / "conformance" / "miwg"
    models = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.bpmn"))}
    if not models:
        pytest.skip(f"no MIWG models in {folder}")
    results = run_lint({name: (xml, {}) for name, xml in models.items()}, None, locale="en")
    found = [(name, i) for name, r in results.items() for i in r["issues"]]
    assert found
    for name, issue in found:
        bare = without_names(issue["message"], element_names(models[name]))
        assert issue["message"].strip() and not HAN.search(bare), (name, issue)
        assert not CJK_PUNCTUATION.search(bare), (name, issue)
