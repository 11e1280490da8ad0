"""Upload lint for BPMN documents: what SpiffWorkflow's parser accepts but we must not.

Expressions (compiled under the sandbox, never run), timers, service operators, lanes and
forms, and the sequence-flow graph (gateway conditions, event-gateway timers, loops).
Used by `app.engine.validation`; reports through `LintContext.add`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine.validation_dmn import describe_compile_error

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
FORM_PROPERTY = "formJsonSchemaFilename"
UI_PROPERTY = "formUiSchemaFilename"
ISO_LITERAL = (
    r"^(R\d*/\S+|P(?=[\dT])[\d.,YMWDTHS]*|\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?)$"
)
# (xpath, mode, Chinese label, English label) of every expression the engine evaluates.
EXPRESSIONS = (
    ("//spiffworkflow:preScript", "exec", "前置脚本（preScript）", "preScript"),
    ("//spiffworkflow:postScript", "exec", "后置脚本（postScript）", "postScript"),
    ("//bpmn:conditionExpression", "eval", "条件表达式", "condition"),
    ("//bpmn:conditionalEventDefinition/bpmn:condition", "eval", "条件事件表达式", "condition"),
    ("//bpmn:loopCardinality", "eval", "多实例数量（loopCardinality）", "loopCardinality"),
    ("//bpmn:completionCondition", "eval", "多实例完成条件", "completionCondition"),
    ("//bpmn:loopCondition", "eval", "循环条件（loopCondition）", "loopCondition"),
    ("//bpmn:correlationPropertyRetrievalExpression/*", "eval", "关联表达式", "correlation"),
    (
        "//spiffworkflow:processVariableCorrelation/spiffworkflow:expression",
        "eval",
        "流程变量关联表达式",
        "processVariableCorrelation",
    ),
    ("//spiffworkflow:messagePayload", "eval", "消息内容（messagePayload）", "messagePayload"),
    ("//spiffworkflow:payloadExpression", "eval", "事件内容（payloadExpression）", "payload"),
)
TYPE_ZH = dict(
    pair.split("=")
    for pair in (
        "userTask=用户任务 scriptTask=脚本任务 serviceTask=服务任务 "
        "businessRuleTask=业务规则任务 callActivity=调用活动 sequenceFlow=顺序流 "
        "exclusiveGateway=排他网关 parallelGateway=并行网关 inclusiveGateway=包容网关 "
        "eventBasedGateway=事件网关 boundaryEvent=边界事件 startEvent=开始事件 "
        "intermediateCatchEvent=中间捕获事件 intermediateThrowEvent=中间抛出事件 "
        "endEvent=结束事件 subProcess=子流程 process=流程 message=消息 sendTask=发送任务 "
        "receiveTask=接收任务 manualTask=手工任务 task=任务 correlationProperty=关联属性 "
        "complexGateway=复杂网关 transaction=事务子流程 adHocSubProcess=自由子流程 "
        "dataStore=数据存储 dataStoreReference=数据存储引用 dataObjectReference=数据对象引用 "
        "participant=参与者（泳池） lane=泳道"
    ).split()
)
_CONTAINERS = "//bpmn:process|//bpmn:subProcess|//bpmn:transaction|//bpmn:adHocSubProcess"
_NOT_NODES = set(
    "sequenceFlow laneSet dataObject dataObjectReference dataStoreReference textAnnotation "
    "association ioSpecification property group".split()
)
# Elements that hold an expression and may carry their own id: report on their owner instead.
_EXPRESSION_HOLDERS = frozenset(
    "timeDuration timeDate timeCycle condition loopCardinality completionCondition "
    "loopCondition script".split()
)
Add = Callable[..., None]  # add(line, element_id, message_zh, message_en, severity="error")


class LintContext(Protocol):
    lane_roles: frozenset[str]
    service_handlers: frozenset[str]
    names: set[str]
    json_docs: dict[str, Any]
    schemas_checked: set[str]

    def add(
        self,
        file: str,
        line: int | None,
        element_id: str | None,
        zh: str,
        en: str,
        severity: str = "error",
    ) -> None: ...


def lint_bpmn(ctx: LintContext, name: str, root: etree._Element) -> None:
    """Lint what the engine would run: elements of non-executable processes are skipped."""
    add = partial(ctx.add, name)

    def scoped(xpath: str) -> list[etree._Element]:
        return [el for el in root.xpath(xpath, namespaces=NS) if in_executable_scope(el)]

    for xpath, mode, label_zh, label_en in EXPRESSIONS:
        for el in scoped(xpath):
            if el.text is not None:
                check_expr(add, el, el.text, mode, label_zh, label_en)
    for task in scoped("//bpmn:scriptTask"):
        _check_script_task(add, task)
    for timer in scoped("//bpmn:timeDuration|//bpmn:timeDate|//bpmn:timeCycle"):
        _check_timer(add, timer)
    for task in scoped("//bpmn:serviceTask"):
        _check_service_task(ctx, add, task)
    lanes = _lane_map(root)
    for task in scoped("//bpmn:userTask|//bpmn:manualTask"):  # both wait in the inbox
        _check_lane(ctx, add, task, lanes)
        _check_form(ctx, add, task)
    ids = set(root.xpath("//@id"))
    for container in scoped(_CONTAINERS):
        _lint_flows(add, container, ids)


def owner(el: etree._Element) -> etree._Element:
    """The nearest BPMN element with an id that a process owner recognises."""
    node: etree._Element | None = el
    while node is not None:
        qname = etree.QName(node)
        helper = (
            qname.localname.endswith(("EventDefinition", "Characteristics", "Expression"))
            or qname.localname in _EXPRESSION_HOLDERS
        )
        if node.get("id") and qname.namespace == BPMN_NS and not helper:
            return node
        node = node.getparent()
    return el


def one_line(text: str | None) -> str:
    """Names drawn on several lines in the diagram, on one line."""
    return " ".join((text or "").split())


def is_executable(process: etree._Element) -> bool:
    """As the parser decides: a missing isExecutable counts as executable."""
    return process.get("isExecutable", "true") == "true"


def process_of(el: etree._Element) -> etree._Element | None:
    """The bpmn:process an element belongs to (None for definitions-level elements)."""
    for node in el.iterancestors():
        if isinstance(node.tag, str) and node.tag == f"{{{BPMN_NS}}}process":
            return node
    return None


def in_executable_scope(el: etree._Element) -> bool:
    """False for elements of a non-executable process; definitions-level elements count."""
    process = el if el.tag == f"{{{BPMN_NS}}}process" else process_of(el)
    return process is None or is_executable(process)


def local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def describe(el: etree._Element) -> tuple[str, str]:
    """How messages name an element: (Chinese, English)."""
    local, eid, name = etree.QName(el).localname, el.get("id"), one_line(el.get("name"))
    kind = TYPE_ZH.get(local, local)
    return (
        f"{kind}「{name}」（{eid}）" if name else f"{kind}（{eid}）",
        f"{local} '{name}' ({eid})" if name else f"{local} ({eid})",
    )


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def check_expr(
    add: Add,
    el: etree._Element,
    source: str,
    mode: str,
    label_zh: str,
    label_en: str,
    line: int | None = None,
) -> bool:
    """Compile source under the sandbox; report and return True when it is refused."""
    found = describe_compile_error(source, mode)
    if found is None:
        return False
    rel, zh, en = found
    target = owner(el)
    who_zh, who_en = describe(target)
    base = line if line is not None else el.sourceline
    add(
        base + rel - 1 if base else None,
        target.get("id"),
        f"{who_zh}的{label_zh}（第 {rel} 行）{zh}",
        f"The {label_en} of {who_en} (line {rel}) {en}",
    )
    return True


def _check_script_task(add: Add, task: etree._Element) -> None:
    scripts = [c for c in task if isinstance(c.tag, str) and c.tag.endswith("script")]
    text = scripts[-1].text if scripts else None  # the parser takes the last one
    if text is None or not text.strip():
        who_zh, who_en = describe(task)
        add(
            task.sourceline,
            task.get("id"),
            f"{who_zh}没有脚本内容。请填写 Python 脚本。",
            f"{who_en} has no script. Enter a Python script.",
        )
        return
    check_expr(add, scripts[-1], text, "exec", "脚本", "script")


# --- timers (ENGINE.md §4) ------------------------------------------------------------------


def _check_timer(add: Add, el: etree._Element) -> None:
    kind, text, target = etree.QName(el).localname, el.text or "", owner(el)
    who_zh, who_en = describe(target)
    report = partial(add, el.sourceline, target.get("id"))
    literal = text.strip()
    if not literal:
        report(
            f'{who_zh}的定时器（{kind}）为空。请填写带引号的表达式，如 "P5D"。',
            f'The timer ({kind}) of {who_en} is empty. Enter a quoted expression like "P5D".',
        )
    elif re.match(ISO_LITERAL, literal, re.I):
        report(
            f"{who_zh}的定时器 {literal} 没有加引号："
            f'定时器表达式是 Python 表达式，请加引号，如 "P5D"（这里写成 "{literal}"）。',
            f"The timer {literal} of {who_en} is not quoted. Timer expressions are Python "
            f'expressions: write "{literal}".',
        )
    elif not check_expr(add, el, text, "eval", f"定时器（{kind}）", f"timer ({kind})"):
        _check_timer_literal(report, who_zh, who_en, kind, literal)


def _check_timer_literal(report: Add, who_zh: str, who_en: str, kind: str, text: str) -> None:
    node = ast.parse(text, mode="eval").body
    if not isinstance(node, ast.Constant):
        return  # a variable or f-string: only known at runtime
    value = node.value
    if not _timer_value_ok(kind, value):
        examples = {
            "timeDuration": '"P5D"、"PT2H"',
            "timeCycle": '"R2/P1D"',
            "timeDate": '"2026-01-01T09:00:00+08:00"',
        }[kind]
        report(
            f"{who_zh}的定时器值 {value!r} 不是有效的 ISO 8601 {kind}。示例：{examples}"
            "（T 之后不能用 D，如 PT1D 无效）。",
            f"The timer value {value!r} of {who_en} is not a valid ISO 8601 {kind}; "
            f"examples: {examples}.",
        )
    elif kind in ("timeDate", "timeCycle") and _naive_datetime(value):
        report(
            f"{who_zh}的时间 {value!r} 没有时区，将使用服务器时区。请加上 +08:00 或 Z。",
            f"The time {value!r} of {who_en} has no UTC offset, so the server's timezone is "
            "used. Add +08:00 or Z.",
            "warning",
        )


def _timer_value_ok(kind: str, value: object) -> bool:
    """Parse a literal timer value with the library's own (pure) parsers."""
    if not isinstance(value, str):
        return False
    try:
        if kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        elif kind == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        else:
            return isinstance(TimerEventDefinition.parse_time_or_duration(value), datetime)
    except Exception:  # noqa: BLE001 - any parse failure means an invalid literal
        return False
    return True


def _naive_datetime(value: str) -> bool:
    for part in value.split("/"):
        try:
            if datetime.fromisoformat(part).tzinfo is None:
                return True
        except ValueError:
            continue
    return False


# --- service tasks, lanes, forms ------------------------------------------------------------


def at(add: Add, el: etree._Element, zh: str, en: str, severity: str = "error") -> None:
    """Report a problem located at an element."""
    add(el.sourceline, el.get("id"), zh, en, severity)


def _check_service_task(ctx: LintContext, add: Add, task: etree._Element) -> None:
    who_zh, who_en = describe(task)
    ops = task.xpath("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS)
    name = ops[0].get("id") if ops else None
    known = sorted(ctx.service_handlers)
    if not ops:
        at(
            add,
            task,
            f"{who_zh}没有指定服务（spiffworkflow:serviceTaskOperator）。",
            f"{who_en} has no spiffworkflow:serviceTaskOperator.",
        )
    elif name not in ctx.service_handlers:
        at(
            add,
            task,
            f"{who_zh}使用了未注册的服务 {name!r}。可用的服务：{'、'.join(known) or '无'}。",
            f"{who_en} uses unknown service {name!r}. Available: {', '.join(known) or 'none'}.",
        )
    for param in task.xpath(".//spiffworkflow:parameter[@value]", namespaces=NS):
        pid = param.get("id")
        if param.get("type") is None or pid is None:
            add(
                param.sourceline,
                task.get("id"),
                f"{who_zh}的服务参数缺少 id 或 type 属性。",
                f"A service parameter of {who_en} lacks its id or type attribute.",
            )
        check_expr(add, param, param.get("value"), "eval", f"服务参数 {pid}", f"parameter {pid}")


def _lane_map(root: etree._Element) -> dict[str, str | None]:
    lanes: dict[str, str | None] = {}
    for ref in root.xpath("//bpmn:lane/bpmn:flowNodeRef", namespaces=NS):
        if ref.text is not None:
            lanes[ref.text] = ref.getparent().get("name")
    return lanes


def _task_lane(task: etree._Element, lanes: dict[str, str | None]) -> tuple[bool, str | None]:
    """(in a lane, lane name) as the parser resolves it: the outermost subprocess's lane wins."""
    chain = [a for a in reversed(list(task.iterancestors())) if a.get("id") in lanes] + [task]
    for el in chain:
        if lanes.get(el.get("id")):
            return True, lanes[el.get("id")]
    return task.get("id") in lanes, None


def _check_lane(ctx: LintContext, add: Add, task: etree._Element, lanes: dict) -> None:
    in_lane, lane = _task_lane(task, lanes)
    if lane in ctx.lane_roles:
        return
    who_zh, who_en = describe(task)
    roles = sorted(ctx.lane_roles)
    why_zh, why_en = {
        (True, True): (
            f"所在泳道「{lane}」不是 CreditFlow 角色",
            f"is in lane '{lane}', not a role",
        ),
        (True, False): ("所在泳道没有名称", "is in a lane without a name"),
        (False, False): ("不在任何泳道中", "is not in any lane"),
    }[(in_lane, lane is not None)]
    at(
        add,
        task,
        f"{who_zh}{why_zh}。请把它放进以角色命名的泳道，允许的泳道名：{'、'.join(roles)}。",
        f"{who_en} {why_en}. Put it in a lane named after a role: {', '.join(roles)}.",
    )


def _check_form(ctx: LintContext, add: Add, task: etree._Element) -> None:
    xpath = "bpmn:extensionElements/spiffworkflow:properties//spiffworkflow:property"
    props = {p.get("name"): p.get("value") for p in task.xpath(xpath, namespaces=NS)}
    who_zh, who_en = describe(task)
    forms = {n for n in ctx.names if n.endswith(".json") and not n.endswith(".i18n.json")}
    uploaded = "、".join(sorted(forms)) or "无"
    for prop in (FORM_PROPERTY, UI_PROPERTY):
        value = props.get(prop)
        if (value is None and prop == UI_PROPERTY) or value in forms:
            continue
        zh = f"的表单文件 {value!r} 不在上传文件中" if value else f"缺少表单属性 {prop}"
        en = f"names form file {value!r}, which is not uploaded" if value else f"lacks {prop}"
        at(
            add,
            task,
            f"{who_zh}{zh}。请把 spiffworkflow 属性 {prop} 设为已上传的 .json 文件名"
            f"（已上传：{uploaded}）。",
            f"{who_en} {en}. Set {prop} to an uploaded .json file.",
        )
    form = props.get(FORM_PROPERTY)
    if form in ctx.json_docs and form not in ctx.schemas_checked:
        ctx.schemas_checked.add(form)
        try:
            Draft202012Validator.check_schema(ctx.json_docs[form])
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "/"
            ctx.add(
                form,
                None,
                task.get("id"),
                f"表单文件 {form}（{who_zh}使用）不是有效的 "
                f"JSON Schema：{exc.message}（位置：{where}）。",
                f"Form file {form} (used by "
                f"{who_en}) is not a valid JSON Schema: {exc.message} (at {where}).",
            )


# --- sequence-flow graph (ENGINE.md §4, §10, §14) -------------------------------------------


def _lint_flows(add: Add, container: etree._Element, ids: set[str]) -> None:
    nodes = {el.get("id"): el for el in container if _local(el) not in _NOT_NODES}
    nodes.pop(None, None)
    by_source: dict[str, list[etree._Element]] = {}
    for flow in container.xpath("bpmn:sequenceFlow", namespaces=NS):
        by_source.setdefault(flow.get("sourceRef") or "", []).append(flow)
        who_zh, who_en = describe(flow)
        for ref in (flow.get("sourceRef"), flow.get("targetRef")):
            if ref not in ids:
                at(
                    add,
                    flow,
                    f"{who_zh}指向不存在的元素 {ref!r}。请在建模器中重新连接或删除它。",
                    f"{who_en} points to a missing element {ref!r}. Reconnect or delete it.",
                )
    for source_id, flows in by_source.items():
        if source_id in nodes:
            _check_outgoing(add, nodes[source_id], flows)
            _check_event_gateway(add, nodes, nodes[source_id], flows)
    _check_cycles(add, nodes, by_source)


def _check_outgoing(add: Add, source: etree._Element, flows: list[etree._Element]) -> None:
    kind, (src_zh, src_en) = _local(source), describe(source)
    for flow in flows:
        (who_zh, who_en), default = describe(flow), flow.get("id") == source.get("default")
        found = flow.xpath(".//bpmn:conditionExpression", namespaces=NS)
        has_condition = bool(found) and found[0].text is not None  # as the parser decides
        if kind in ("exclusiveGateway", "inclusiveGateway"):
            if len(flows) > 1 and not has_condition and not default:
                at(
                    add,
                    flow,
                    f"{src_zh}的出口{who_zh}既没有条件也不是默认流。请添加条件，或设为默认流。",
                    f"Outgoing {who_en} of {src_en} has no condition and is not the default "
                    "flow. Add a condition or make it the default.",
                )
        elif has_condition and kind == "parallelGateway":
            at(
                add,
                flow,
                f"{src_zh}的出口{who_zh}带有条件，但并行网关忽略条件、所有分支都会执行。"
                "请删除条件，或改用排他/包容网关。",
                f"Outgoing {who_en} of {src_en} has a "
                "condition, but a parallel gateway ignores conditions (all branches run). "
                "Remove it or use an exclusive/inclusive gateway.",
            )
        elif has_condition:
            at(
                add,
                flow,
                f"{who_zh}从{src_zh}出发并带有条件，但引擎只在排他/包容网关判断条件，"
                "这里的条件会被忽略。请在前面加排他网关。",
                f"{who_en} leaves {src_en} with a "
                "condition, but only exclusive/inclusive gateways evaluate conditions; it is "
                "ignored. Add an exclusive gateway.",
            )


def _check_event_gateway(add: Add, nodes: dict, source: etree._Element, flows: list) -> None:
    if _local(source) != "eventBasedGateway":
        return
    targets = [nodes.get(flow.get("targetRef")) for flow in flows]
    timers = [
        t.get("id")
        for t in targets
        if t is not None
        and _local(t) == "intermediateCatchEvent"
        and t.xpath("bpmn:timerEventDefinition", namespaces=NS)
    ]
    if len(timers) > 1:
        who_zh, who_en = describe(source)
        at(
            add,
            source,
            f"{who_zh}后面有 {len(timers)} 个定时器事件（{'、'.join(timers)}），它们会"
            "共用同一个到期时间。一个事件网关后只能有一个定时器，请合并或改用边界定时器。",
            f"{who_en} is followed by {len(timers)} timer events ({', '.join(timers)}), which "
            "would share one due time. Keep one timer per event-based gateway.",
        )


def _check_cycles(add: Add, nodes: dict, by_source: dict[str, list[etree._Element]]) -> None:
    edges: dict[str, list[str]] = {n: [] for n in nodes}
    for source, flows in by_source.items():
        if source in edges:
            edges[source] += [f.get("targetRef") for f in flows if f.get("targetRef") in nodes]
    for node_id, el in nodes.items():  # a boundary event leaves the task it is attached to
        if _local(el) == "boundaryEvent" and el.get("attachedToRef") in edges:
            edges[el.get("attachedToRef")].append(node_id)
    for component in _cyclic_components(edges):
        members = [nodes[n] for n in nodes if n in component]
        gateway = ([el for el in members if _local(el).endswith("Gateway")] or members)[0]
        (who_zh, who_en), path = (
            describe(gateway),
            " → ".join(el.get("name") or el.get("id") for el in members[:6]),
        )
        at(
            add,
            gateway,
            f"{who_zh}处有顺序流回路（{path}）。每绕一圈任务树加深约 3 层，约 333 圈后"
            "流程会无声停滞。请改用任务的标准循环（standardLoopCharacteristics），或每轮新建一个流程实例。",
            f"{who_en} is on a sequence-flow loop ({path}). Each lap deepens the task tree and "
            "after ~333 laps the instance silently stalls. Use standardLoopCharacteristics on a "
            "task, or start a new instance per cycle.",
            "warning",
        )


def _cyclic_components(edges: dict[str, list[str]]) -> list[set[str]]:
    """Strongly connected components that contain a cycle (Kosaraju, iterative)."""
    reverse: dict[str, list[str]] = {n: [] for n in edges}
    for source, targets in edges.items():
        for target in targets:
            reverse[target].append(source)
    components, assigned = [], set()
    for start in reversed(_finish_order(edges)):
        if start in assigned:
            continue
        component, todo = {start}, [start]
        while todo:
            new = {p for p in reverse[todo.pop()] if p not in component and p not in assigned}
            component |= new
            todo += new
        assigned |= component
        if len(component) > 1 or start in edges[start]:
            components.append(component)
    return components


def _finish_order(edges: dict[str, list[str]]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()
    for start in edges:
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(edges[start]))]
        while stack:
            node, successors = stack[-1]
            nxt = next((n for n in successors if n not in seen), None)
            if nxt is None:
                order.append(node)
                stack.pop()
            else:
                seen.add(nxt)
                stack.append((nxt, iter(edges[nxt])))
    return order
