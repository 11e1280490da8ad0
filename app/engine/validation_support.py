"""What the engine does not execute: scope lines and unsupported BPMN elements.

Models drawn in other tools (e.g. the BPMN MIWG reference models) contain processes marked
isExecutable="false", pools without a process, and elements SpiffWorkflow 3.2 refuses or
silently ignores (complex gateways, compensation, transactions, link events, data stores,
data associations it cannot resolve, implicit splits...). `report_scope` says once per file
which processes and pools the engine will not run; `lint_support` names every unsupported
element: one line per element (grouped per element and kind) inside executable processes,
one grouped warning per process and kind inside non-executable ones, so a purely descriptive
model gets a short answer that still names every element id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from lxml import etree

from app.engine.validation_bpmn import (
    NS,
    TYPE_ZH,
    LintContext,
    describe,
    is_executable,
    local,
    one_line,
    process_of,
)

_GATEWAYS = ("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway")
_SUBPROCESSES = ("subProcess", "transaction")
# Event definitions the parser reads, per event kind (SpiffWorkflow 3.2 event_parsers.py).
_READ_DEFINITIONS = {
    "startEvent": {"message", "signal", "timer", "conditional"},
    "endEvent": {"message", "cancel", "error", "escalation", "terminate"},
    "intermediateCatchEvent": {"message", "signal", "timer", "conditional"},
    "intermediateThrowEvent": {"escalation", "message", "signal"},
    "boundaryEvent": {"cancel", "error", "escalation", "message", "signal", "timer", "conditional"},
}
_DEFINITION_ZH = {
    "message": "消息",
    "signal": "信号",
    "timer": "定时器",
    "conditional": "条件",
    "cancel": "取消",
    "error": "错误",
    "escalation": "升级",
    "terminate": "终止",
    "compensate": "补偿",
    "link": "链接",
}


@dataclass(frozen=True)
class Kind:
    label_zh: str  # what the element is, e.g. "复杂网关（complexGateway）"
    label_en: str
    why_zh: str  # why the engine does not run it, and what to do instead
    why_en: str
    severity: str = "error"


KINDS = {
    "complex_gateway": Kind(
        "复杂网关（complexGateway）",
        "complex gateway",
        "引擎不支持复杂网关。请改用排他、包容或并行网关。",
        "The engine does not support complex gateways. Use an exclusive, inclusive or "
        "parallel gateway.",
    ),
    "transaction": Kind(
        "事务（transaction / 取消事件）",
        "transaction or cancel event",
        "引擎不支持事务子流程和取消事件（没有事务、补偿语义）。请改用普通子流程和错误事件。",
        "The engine does not support transaction subprocesses or cancel events (no "
        "transaction or compensation semantics). Use a plain subprocess and error events.",
    ),
    "compensation": Kind(
        "补偿（compensation）",
        "compensation",
        "引擎不支持补偿：补偿事件不会触发，补偿活动不会执行。请用显式的顺序流和服务任务实现撤销。",
        "The engine does not support compensation: compensation events never fire and "
        "compensation activities never run. Model the undo steps with explicit flows.",
    ),
    "link_event": Kind(
        "链接事件（linkEventDefinition）",
        "link event",
        "引擎不支持链接事件，抛出的链接不会到达捕获端。请直接用顺序流连接。",
        "The engine does not support link events; a thrown link never reaches its catch "
        "event. Connect the elements with a sequence flow.",
    ),
    "ignored_definition": Kind(
        "被忽略的事件定义",
        "ignored event definition",
        "引擎忽略这种事件定义，把事件当作无类型事件处理，行为与图中不同。请改用引擎支持的事件类型。",
        "The engine ignores this event definition and treats the event as a none event, "
        "which is not what the diagram says. Use an event type the engine supports.",
    ),
    "data_store": Kind(
        "数据存储（dataStore）",
        "data store",
        "CreditFlow 没有注册任何数据存储实现，解析器会拒绝包含数据存储的整个文件。"
        "请删除数据存储及其引用，改用服务任务读写外部系统。",
        "CreditFlow registers no data store implementation, so the parser refuses the whole "
        "file. Remove the data store and its references; use a service task instead.",
    ),
    "data_association": Kind(
        "数据关联（data association）",
        "data association",
        "引擎只能把数据关联连到同一流程（或上级流程）中的数据对象引用（dataObjectReference），"
        "其他关联会被解析器拒绝。请删除这些关联，数据通过流程变量传递。",
        "The engine only resolves data associations to a data object reference of the same "
        "(or an enclosing) process; the parser refuses the others. Remove them and pass data "
        "in process variables.",
    ),
    "ignored_data_mapping": Kind(
        "数据映射（assignment / transformation）",
        "data mapping",
        "引擎忽略数据关联里的 assignment 和 transformation，映射不会发生。请改用脚本"
        "（preScript/postScript）计算变量。",
        "The engine ignores assignment and transformation in data associations. Compute the "
        "variables in a preScript/postScript instead.",
        "warning",
    ),
    "io_specification": Kind(
        "任务的输入输出规范（ioSpecification）",
        "task ioSpecification",
        "引擎运行任务前要求任务数据里已有与每个 dataInput id 同名的变量，否则实例出错，"
        "并且任务运行时只能看到这些变量；完成时同样要求每个 dataOutput。CreditFlow 通过流程"
        "变量传递数据：请删除 ioSpecification。",
        "Before the task runs the engine requires a variable named after each dataInput id "
        "(the instance errors otherwise) and hides every other variable; on completion it "
        "requires each dataOutput. CreditFlow passes data in process variables: remove the "
        "ioSpecification.",
    ),
    "implicit_split": Kind(
        "隐式分支（活动或事件有多条出口顺序流）",
        "implicit split",
        "引擎只允许网关和开始事件有多条出口顺序流。请在后面加并行网关（全部执行）或排他网关"
        "（按条件选一条）。",
        "Only gateways and start events may have several outgoing sequence flows. Add a "
        "parallel gateway (all branches) or an exclusive gateway (one branch) after it.",
    ),
    "subprocess_shape": Kind(
        "子流程的开始/结束事件",
        "subprocess start/end events",
        "引擎要求子流程恰好有一个开始事件，并至少有一个结束事件。",
        "The engine requires exactly one start event and at least one end event in a subprocess.",
    ),
    "loop_without_limit": Kind(
        "没有上限的循环（standardLoopCharacteristics）",
        "loop without limit",
        "标准循环必须设置 loopMaximum 或 loopCondition，否则解析器拒绝它。",
        "A standard loop needs loopMaximum or a loopCondition; the parser refuses it otherwise.",
    ),
    "multi_instance": Kind(
        "多实例（multiInstanceLoopCharacteristics）",
        "multi-instance",
        "多实例必须恰好设置 loopCardinality 或 loopDataInputRef 之一（其他工具的扩展属性，"
        "如 zeebe:loopCharacteristics，引擎不读取）。",
        "A multi-instance activity needs exactly one of loopCardinality or loopDataInputRef "
        "(other tools' extensions such as zeebe:loopCharacteristics are not read).",
    ),
    "instantiating_receive": Kind(
        '启动流程的接收任务（instantiate="true"）',
        "instantiating receive task",
        "引擎不支持用接收任务启动流程。请改用消息开始事件。",
        "The engine cannot start a process with a receive task. Use a message start event.",
    ),
}


@dataclass(frozen=True)
class Finding:
    el: etree._Element  # the element with an id the problem is reported on
    kind: str
    detail_zh: str = ""
    detail_en: str = ""


def processes(root: etree._Element) -> list[etree._Element]:
    return root.xpath("//bpmn:process", namespaces=NS)


def _process_name(process: etree._Element) -> tuple[str, str]:
    name, pid = one_line(process.get("name")), process.get("id")
    if name:
        return f"流程「{name}」（{pid}）", f"process '{name}' ({pid})"
    return f"流程（{pid}）", f"process ({pid})"


# --- scope: processes and pools the engine will not run ---------------------------------------


def report_scope(ctx: LintContext, name: str, root: etree._Element, anything_runs: bool) -> None:
    """Once per file, before anything else: what in it the engine will not run at all."""
    add = partial(ctx.add, name)
    for process in processes(root):
        who_zh, who_en = _process_name(process)
        if not is_executable(process):
            add(
                process.sourceline,
                process.get("id"),
                f'{who_zh}未设为可执行（isExecutable="{process.get("isExecutable")}"），引擎不会执行它，'
                "它只是说明性模型：可以作为草稿保存，但不能发布。其中引擎不支持的元素（如有）按类别列在下面；"
                '要执行它，请设为 isExecutable="true" 后重新校验。',
                f'{who_en} is not executable (isExecutable="{process.get("isExecutable")}"): the '
                "engine will not run it; it can be kept as a draft but not deployed. Its "
                "unsupported elements (if any) are listed below by kind. Set "
                'isExecutable="true" and validate again to run it.',
                "warning" if anything_runs else "error",
            )
        elif process.get("isExecutable") is None:
            add(
                process.sourceline,
                process.get("id"),
                f"{who_zh}没有 isExecutable 属性，引擎按可执行流程处理并完整校验。"
                '如果它只是说明性模型，请设为 isExecutable="false"。',
                f"{who_en} has no isExecutable attribute, so the engine treats it as executable "
                'and checks it fully. If it is only descriptive, set isExecutable="false".',
                "warning",
            )
    process_ids = {p.get("id") for p in processes(root)}
    for participant in root.xpath("//bpmn:participant", namespaces=NS):
        ref = participant.get("processRef")
        if ref and ref.rpartition(":")[2] in process_ids:  # a QName: "tns:p" names p
            continue
        who_zh, who_en = describe(participant)
        why_zh = f"引用的流程 {ref!r} 不在本文件中" if ref else "没有流程（黑盒泳池）"
        why_en = (
            f"references process {ref!r}, which is not in this file"
            if ref
            else "has no process (a black-box pool)"
        )
        add(
            participant.sourceline,
            participant.get("id"),
            f"{who_zh}{why_zh}：引擎不执行它，发往它的消息流只是图示，引擎不会投递。",
            f"{who_en} {why_en}: the engine does not run it, and message flows to it are "
            "only drawn, never delivered.",
            "warning",
        )


# --- unsupported elements ---------------------------------------------------------------------


def lint_support(ctx: LintContext, name: str, root: etree._Element) -> None:
    add = partial(ctx.add, name)
    findings = list(_findings(root))
    grouped: dict[tuple[int, str], list[Finding]] = {}
    order: list[tuple[int, str]] = []
    for finding in findings:
        process = process_of(finding.el)
        executable = process is None or is_executable(process)
        # Executable scope: one line per element and kind; elsewhere one per process and kind.
        anchor = finding.el if executable else process
        key = (id(anchor), finding.kind)
        if key not in grouped:
            grouped[key] = []
            order.append(key)
        grouped[key].append(finding)
    for key in order:
        group = grouped[key]
        process = process_of(group[0].el)
        if process is None or is_executable(process):
            _report_element(add, group)
        else:
            _report_group(add, process, group)


def _report_element(add: Callable[..., None], group: list[Finding]) -> None:
    el, kind = group[0].el, KINDS[group[0].kind]
    who_zh, who_en = describe(el)
    details_zh = "；".join(dict.fromkeys(f.detail_zh for f in group if f.detail_zh))
    details_en = "; ".join(dict.fromkeys(f.detail_en for f in group if f.detail_en))
    add(
        el.sourceline,
        el.get("id"),
        f"{who_zh}：{kind.label_zh}{'（' + details_zh + '）' if details_zh else ''}。{kind.why_zh}",
        f"{who_en}: {kind.label_en}{' (' + details_en + ')' if details_en else ''}. {kind.why_en}",
        kind.severity,
    )


def _report_group(add: Callable[..., None], process: etree._Element, group: list[Finding]) -> None:
    kind = KINDS[group[0].kind]
    ids = list(dict.fromkeys(f.el.get("id") for f in group))
    zh: dict[str, list[str]] = {i: [] for i in ids}
    en: dict[str, list[str]] = {i: [] for i in ids}
    for f in group:
        zh[f.el.get("id")] += [f.detail_zh] if f.detail_zh else []
        en[f.el.get("id")] += [f.detail_en] if f.detail_en else []
    listed_zh = "、".join(f"{i}（{'；'.join(dict.fromkeys(zh[i]))}）" if zh[i] else i for i in ids)
    listed_en = ", ".join(f"{i} ({'; '.join(dict.fromkeys(en[i]))})" if en[i] else i for i in ids)
    who_zh, who_en = _process_name(process)
    add(
        group[0].el.sourceline,
        ids[0],
        f"{who_zh}（未设为可执行）中有 {len(ids)} 处{kind.label_zh}：{listed_zh}。{kind.why_zh}",
        f"{who_en} (not executable) has {len(ids)} {kind.label_en} element(s): {listed_en}. "
        f"{kind.why_en}",
        "warning",
    )


def _findings(root: etree._Element) -> Iterator[Finding]:
    yield from _element_findings(root)
    yield from _event_findings(root)
    yield from _data_findings(root)
    yield from _flow_findings(root)


def _xpath(root: etree._Element, xpath: str, **variables: str) -> list:
    return root.xpath(xpath, namespaces=NS, **variables)


def _element_findings(root: etree._Element) -> Iterator[Finding]:
    for el in _xpath(root, "//bpmn:complexGateway"):
        yield Finding(el, "complex_gateway")
    for el in _xpath(root, "//bpmn:transaction"):
        yield Finding(el, "transaction")
    for el in _xpath(root, "//*[@isForCompensation='true']"):
        yield Finding(el, "compensation", "补偿活动", "compensation activity")
    for el in _xpath(root, "//bpmn:receiveTask[@instantiate='true']"):
        yield Finding(el, "instantiating_receive")
    for el in _xpath(root, "//bpmn:standardLoopCharacteristics"):
        if el.get("loopMaximum") is None and not _xpath(el, "bpmn:loopCondition"):
            yield Finding(el.getparent(), "loop_without_limit")
    for el in _xpath(root, "//bpmn:multiInstanceLoopCharacteristics"):
        found = len(_xpath(el, "bpmn:loopCardinality")) + len(_xpath(el, "bpmn:loopDataInputRef"))
        if found != 1:
            yield Finding(el.getparent(), "multi_instance")
    for sub in _xpath(root, "//bpmn:subProcess|//bpmn:transaction"):
        starts = len(_xpath(sub, "bpmn:startEvent"))
        if starts != 1:
            yield Finding(
                sub, "subprocess_shape", f"有 {starts} 个开始事件", f"{starts} start events"
            )
        if not _xpath(sub, "bpmn:endEvent"):
            yield Finding(sub, "subprocess_shape", "没有结束事件", "no end event")


def _event_findings(root: etree._Element) -> Iterator[Finding]:
    for kind, read in _READ_DEFINITIONS.items():
        for event in _xpath(root, f"//bpmn:{kind}"):
            definitions = [
                local(d)[: -len("EventDefinition")]
                for d in event
                if local(d).endswith("EventDefinition")
            ]
            for definition in definitions:
                if definition == "compensate":
                    yield Finding(event, "compensation", "补偿事件", "compensation event")
                elif definition == "link":
                    yield Finding(event, "link_event")
                elif definition == "cancel":
                    yield Finding(event, "transaction", "取消事件", "cancel event")
                elif definition not in read:
                    zh = _DEFINITION_ZH.get(definition, definition)
                    yield Finding(
                        event,
                        "ignored_definition",
                        f"{TYPE_ZH.get(kind, kind)}上的{zh}事件定义",
                        f"{definition}EventDefinition on a {kind}",
                    )
            if _xpath(event, "bpmn:eventDefinitionRef"):
                yield Finding(
                    event,
                    "ignored_definition",
                    "通过 eventDefinitionRef 引用的事件定义",
                    "an event definition referenced by eventDefinitionRef",
                )
            if kind == "boundaryEvent" and not any(d in read for d in definitions):
                if not definitions:
                    yield Finding(
                        event, "ignored_definition", "边界事件没有事件定义", "no event definition"
                    )


def _data_findings(root: etree._Element) -> Iterator[Finding]:
    for store in _xpath(root, "//bpmn:dataStore"):
        refs = _xpath(root, "//bpmn:dataStoreReference[@dataStoreRef=$s]/@id", s=store.get("id"))
        if refs:
            yield Finding(
                store, "data_store", f"引用：{'、'.join(refs)}", f"refs: {', '.join(refs)}"
            )
        else:
            yield Finding(store, "data_store")
    for task in _xpath(root, "//*[bpmn:ioSpecification]"):
        if local(task) == "process" or local(task) in _SUBPROCESSES:
            continue
        io = _xpath(task, "bpmn:ioSpecification")[0]
        names = _xpath(io, "bpmn:inputSet/bpmn:dataInputRefs/text()") + _xpath(
            io, "bpmn:outputSet/bpmn:dataOutputRefs/text()"
        )
        if names:
            listed = "、".join(str(n).strip() for n in names)
            yield Finding(task, "io_specification", f"变量：{listed}", f"variables: {listed}")
    for assoc in _xpath(root, "//bpmn:dataInputAssociation|//bpmn:dataOutputAssociation"):
        task = assoc.getparent()
        ref_tag = "sourceRef" if local(assoc) == "dataInputAssociation" else "targetRef"
        for ref in _xpath(assoc, f"bpmn:{ref_tag}"):
            why = _association_problem(root, task, (ref.text or "").strip())
            if why:
                yield Finding(task, "data_association", f"{local(assoc)} → {why[0]}", why[1])
        if _xpath(assoc, "bpmn:assignment|bpmn:transformation"):
            yield Finding(task, "ignored_data_mapping", local(assoc), local(assoc))


def _association_problem(
    root: etree._Element, task: etree._Element, ref: str
) -> tuple[str, str] | None:
    found = _xpath(root, "//*[@id=$r]", r=ref) if ref else []
    if not found:
        return f"{ref or '（空）'}（不存在）", f"{ref or '(empty)'} (missing)"
    target = found[0]
    if local(target) == "dataObjectReference":
        containers = [a for a in task.iterancestors() if local(a) in ("process", *_SUBPROCESSES)]
        wanted = target.get("dataObjectRef")
        if any(_xpath(c, "bpmn:dataObject[@id=$d]", d=wanted or "") for c in containers):
            return None
        return f"{ref}（数据对象不在本流程中）", f"{ref} (data object not in this process)"
    return f"{ref}（{local(target)}）", f"{ref} ({local(target)})"


def _flow_findings(root: etree._Element) -> Iterator[Finding]:
    containers = _xpath(root, "//bpmn:process|//bpmn:subProcess|//bpmn:transaction")
    for container in containers:
        outgoing: dict[str, int] = {}
        for flow in _xpath(container, "bpmn:sequenceFlow"):
            source = flow.get("sourceRef") or ""
            outgoing[source] = outgoing.get(source, 0) + 1
        for node in container:
            count = outgoing.get(node.get("id") or "", 0)
            kind = local(node)
            if count > 1 and kind not in (*_GATEWAYS, "complexGateway", "startEvent"):
                yield Finding(
                    node, "implicit_split", f"{count} 条出口顺序流", f"{count} outgoing flows"
                )
