"""Upload-time validation of a process bundle (.bpmn, .dmn, .json form schemas).

ENGINE.md §2 and §15 "Upload": refuse DTDs, parse with SpiffBpmnParser + XSD, build every
executable spec, then lint what the parser does not check: every expression compiles under
our sandbox (never run), DMN tables, lanes and forms, service operators, timers and gateways.
`validate_bundle` never raises; everything it finds is a `Problem`, Chinese first.

Modules: this one (files, parser, API), `validation_bpmn` (BPMN lint of what the engine
runs; elements of processes marked isExecutable="false" are skipped), `validation_support`
(what the engine does not execute: non-executable processes and pools first, then unsupported
elements), `validation_dmn` (DMN lint and the shared sandbox-compile helper).
`BundleCheck.parser` is set whenever the parser built every spec, even if lint found errors:
deploy only when `check.ok`.
Not thread-safe in two small ways: `warnings.catch_warnings` and the shared XSD `VALIDATOR`'s
error log are process-global; run uploads in one thread per process (Gunicorn sync workers).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from app.engine.validation_bpmn import BPMN_NS, NS, SPIFF_NS, describe, is_executable, lint_bpmn
from app.engine.validation_dmn import check_dmn
from app.engine.validation_support import lint_support, processes, report_scope

EXTENSIONS = (".bpmn", ".dmn", ".json")
TRANSLATION_SUFFIX = ".i18n.json"  # <process id>.i18n.json: the model's texts in other languages
TRANSLATION_LOCALES = ("en",)
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.I)
_ENCODING = re.compile(r"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([^\"']+)", re.I)
# Parser messages our own lint already reports more precisely for the same element.
_COVERED_BY_LINT = (
    "Non-default exclusive",
    "When looking for a task spec",
    "A Service Task must have an operator",
    "Malformed Output Expression",
    "Multiple outgoing flows",
    "Exactly one start event",
    "A SubWorkflow Must contain an End event",
    "Cannot resolve data",
    "A multiinstance task must specify",
    "A loopMaximum or loopCondition",
    "There is no support implemented",
    "NotImplementedError",
    "Cancel Events may only be used",
)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    element_id: str | None
    message: str  # Chinese, says what to change
    message_en: str
    severity: str = "error"  # or "warning"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BundleCheck:
    problems: list[Problem] = field(default_factory=list)
    process_ids: list[str] = field(default_factory=list)  # executable process ids
    parser: SpiffBpmnParser | None = None  # populated when parsing and get_spec succeeded

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


@dataclass
class _Bundle:
    lane_roles: frozenset[str]
    service_handlers: frozenset[str]
    problems: list[Problem] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    bpmn: dict[str, etree._Element] = field(default_factory=dict)
    dmn: dict[str, etree._Element] = field(default_factory=dict)
    json_docs: dict[str, Any] = field(default_factory=dict)  # form schemas
    translations: dict[str, Any] = field(default_factory=dict)  # <process>.i18n.json
    schemas_checked: set[str] = field(default_factory=set)

    def add(
        self,
        file: str,
        line: int | None,
        element_id: str | None,
        zh: str,
        en: str,
        severity: str = "error",
    ) -> None:
        self.problems.append(Problem(file, line, element_id or None, zh, en, severity))

    def find(
        self, element_id: str | None, file: str | None = None
    ) -> tuple[str, etree._Element] | None:
        """The file and element with that id, looking in `file` first."""
        roots = {**self.bpmn, **self.dmn}
        preferred = {file: roots[file]} if file in roots else {}
        for name, root in {**preferred, **roots}.items():
            found = root.xpath("//*[@id=$i]", i=element_id or "")
            if found:
                return name, found[0]
        return None


def validate_bundle(
    files: Mapping[str, bytes],
    *,
    lane_roles: Collection[str],
    service_handlers: Collection[str],
    max_file_bytes: int = 2 * 1024 * 1024,
    max_files: int = 50,
) -> BundleCheck:
    """Check an uploaded bundle; never raises. `check.ok` is False when any error was found."""
    bundle = _Bundle(frozenset(lane_roles), frozenset(service_handlers))
    check = BundleCheck(problems=bundle.problems)
    try:
        if _check_file_set(bundle, files, max_files):
            for name, data in files.items():
                _guarded(bundle, name, lambda n=name, d=data: _load(bundle, n, d, max_file_bytes))
            runs = any(is_executable(p) for r in bundle.bpmn.values() for p in processes(r))
            for name, root in bundle.bpmn.items():  # scope lines first: what never runs
                _guarded(bundle, name, lambda n=name, r=root: report_scope(bundle, n, r, runs))
            for name, root in bundle.bpmn.items():
                _guarded(bundle, name, lambda n=name, r=root: lint_bpmn(bundle, n, r))
                _guarded(bundle, name, lambda n=name, r=root: lint_support(bundle, n, r))
            _lint_dmn_files(bundle)
            _guarded(bundle, "", lambda: _check_translation_targets(bundle))
            if bundle.bpmn:
                _guarded(bundle, "", lambda: _parse(bundle, check))
    except Exception as exc:  # noqa: BLE001 - never a stack trace to the uploader
        _internal_error(bundle, "", exc)
    check.problems[:] = list(dict.fromkeys(bundle.problems))  # drop exact duplicates
    return check


def _guarded(bundle: _Bundle, file: str, step: Callable[[], object]) -> None:
    try:
        step()
    except Exception as exc:  # noqa: BLE001 - one broken file must not hide the others
        _internal_error(bundle, file, exc)


def _internal_error(bundle: _Bundle, file: str, exc: Exception) -> None:
    detail = f"{type(exc).__name__}: {exc}"[:300]
    bundle.add(
        file,
        None,
        None,
        f"校验时出现意外错误（{detail}）。请检查文件内容，或联系平台管理员。",
        f"Unexpected error while validating ({detail}). Check the file or contact support.",
    )


# --- 1-2. files, sizes, encodings, DTDs --------------------------------------------------


def _check_file_set(bundle: _Bundle, files: Mapping[str, bytes], max_files: int) -> bool:
    if len(files) > max_files:
        bundle.add(
            "",
            None,
            None,
            f"文件过多：{len(files)} 个，最多 {max_files} 个。",
            f"Too many files: {len(files)}, at most {max_files}.",
        )
        return False
    if not any(str(name).lower().endswith(".bpmn") for name in files):
        bundle.add(
            "", None, None, "上传内容中没有 .bpmn 流程文件。", "The upload has no .bpmn file."
        )
    return True


def _load(bundle: _Bundle, name: str, data: bytes, max_bytes: int) -> None:
    if not _name_ok(bundle, name):
        return
    bundle.names.add(name)
    if len(data) > max_bytes:  # before anything reads the content
        bundle.add(
            name,
            None,
            None,
            f"文件过大（{len(data) / 1048576:.1f} MB），"
            f"单个文件最多 {max_bytes / 1048576:.1f} MB。",
            f"File too large ({len(data)} bytes, max {max_bytes}).",
        )
        return
    data = bytes(data)  # TypeError for a str: reported by _guarded
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bundle.add(
            name,
            line,
            None,
            f"文件不是 UTF-8 编码（第 {line} 行）。请以 UTF-8 保存。",
            f"The file is not UTF-8 (line {line}). Save it as UTF-8.",
        )
        return
    if name.lower().endswith(TRANSLATION_SUFFIX):
        _load_translations(bundle, name, text)
    elif name.lower().endswith(".json"):
        _load_json(bundle, name, text)
    elif _xml_text_ok(bundle, name, text):
        _load_xml(bundle, name, data)


def _name_ok(bundle: _Bundle, name: object) -> bool:
    shown = str(name)[:100]
    if not isinstance(name, str) or not name.lower().endswith(EXTENSIONS) or len(name) > 200:
        bundle.add(
            shown,
            None,
            None,
            f"不支持的文件 {shown!r}：只接受 .bpmn、.dmn、.json 文件。",
            f"Unsupported file {shown!r}: only .bpmn, .dmn and .json are accepted.",
        )
        return False
    if any(c in name for c in "/\\\0") or name.startswith(".") or ".." in name:
        bundle.add(
            shown,
            None,
            None,
            f"文件名 {shown!r} 不能包含路径（/、\\、..）。",
            f"File name {shown!r} must not contain a path (/, \\, ..).",
        )
        return False
    return True


def _xml_text_ok(bundle: _Bundle, name: str, text: str) -> bool:
    match = _DTD.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        bundle.add(
            name,
            line,
            None,
            f"第 {line} 行含有 <!{match.group(1)}>：出于安全原因（XXE、实体炸弹）"
            "不接受 DTD 和实体声明。请删除它，建模器导出的文件不需要它。",
            f"Line {line} contains <!{match.group(1)}>: DTDs and entity declarations are "
            "refused for security (XXE, entity expansion). Remove it.",
        )
        return False
    encoding = _ENCODING.match(text)
    if encoding and encoding.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
        bundle.add(
            name,
            1,
            None,
            f"XML 声明的编码是 {encoding.group(1)}，请改为 UTF-8。"
            "（文件内容本身是有效的 UTF-8，下面按 UTF-8 继续校验。）",
            f"The XML declares encoding {encoding.group(1)}; use UTF-8. (The content is valid "
            "UTF-8, so it is checked as UTF-8 below.)",
        )  # an error, but keep checking the rest of the file
    return True


def _load_xml(bundle: _Bundle, name: str, data: bytes) -> None:
    # The content was decoded as UTF-8 already: a different declared encoding is reported
    # by _xml_text_ok, and must not make lxml re-read the bytes as Latin-1.
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, encoding="utf-8"
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or None
        bundle.add(
            name,
            line,
            None,
            f"XML 格式错误（第 {line} 行）：{exc.msg}。请用建模器重新导出。",
            f"Malformed XML (line {line}): {exc.msg}. Re-export it from the modeler.",
        )
        return
    namespace = etree.QName(root).namespace or ""
    is_dmn = name.lower().endswith(".dmn")
    expected = "omg.org/spec/DMN/" in namespace if is_dmn else namespace == BPMN_NS
    if etree.QName(root).localname != "definitions" or not expected:
        kind = "DMN" if is_dmn else "BPMN"
        bundle.add(
            name,
            root.sourceline,
            None,
            f"这不是 {kind} 文件（根元素不是 {kind} definitions）。",
            f"This is not a {kind} file (the root is not {kind} definitions).",
        )
        return
    (bundle.dmn if is_dmn else bundle.bpmn)[name] = root


def _load_json(bundle: _Bundle, name: str, text: str) -> None:
    try:
        bundle.json_docs[name] = json.loads(text)
    except json.JSONDecodeError as exc:
        bundle.add(
            name,
            exc.lineno,
            None,
            f"JSON 格式错误（第 {exc.lineno} 行）：{exc.msg}。",
            f"Malformed JSON (line {exc.lineno}): {exc.msg}.",
        )
    except RecursionError:
        bundle.add(name, None, None, "JSON 嵌套过深。", "The JSON is nested too deeply.")


def _load_translations(bundle: _Bundle, name: str, text: str) -> None:
    """`{"en": {"<Chinese text of the model>": "<English>", ...}}`: objects of non-empty strings."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        bundle.add(
            name,
            exc.lineno,
            None,
            f"翻译文件 JSON 格式错误（第 {exc.lineno} 行）：{exc.msg}。",
            f"Malformed JSON in the translation file (line {exc.lineno}): {exc.msg}.",
        )
        return
    except RecursionError:
        bundle.add(name, None, None, "JSON 嵌套过深。", "The JSON is nested too deeply.")
        return
    shape_zh = '格式应为 {"en": {"模型中的中文文本": "英文译文", …}}'
    shape_en = 'the shape is {"en": {"<Chinese text of the model>": "<English>", …}}'
    if not isinstance(doc, dict):
        bundle.add(
            name,
            None,
            None,
            f"翻译文件的内容不是 JSON 对象：{shape_zh}。",
            f"The translation file is not a JSON object: {shape_en}.",
        )
        return
    ok = True
    for locale, texts in doc.items():
        if not isinstance(texts, dict):
            bundle.add(
                name,
                None,
                None,
                f"翻译文件中语言 {str(locale)[:20]!r} 的内容不是 JSON 对象：{shape_zh}。",
                f"The texts for locale {str(locale)[:20]!r} are not a JSON object: {shape_en}.",
            )
            ok = False
            continue
        bad = [k for k, v in texts.items() if not k or not isinstance(v, str) or not v.strip()]
        if bad:
            shown = "、".join(repr(k[:40]) for k in bad[:5])
            shown_en = ", ".join(repr(k[:40]) for k in bad[:5])
            bundle.add(
                name,
                None,
                None,
                f"翻译文件中语言 {str(locale)[:20]!r} 有 {len(bad)} 条译文为空或不是字符串"
                f"（{shown}）。每条译文都必须是非空字符串。",
                f"{len(bad)} translations for locale {str(locale)[:20]!r} are empty or not "
                f"strings ({shown_en}). Each translation must be a non-empty string.",
            )
            ok = False
        if locale not in TRANSLATION_LOCALES:
            bundle.add(
                name,
                None,
                None,
                f"翻译文件中的语言 {str(locale)[:20]!r} 不受支持，将被忽略"
                f"（支持：{'、'.join(TRANSLATION_LOCALES)}）。",
                f"Locale {str(locale)[:20]!r} of the translation file is not supported and is "
                f"ignored (supported: {', '.join(TRANSLATION_LOCALES)}).",
                severity="warning",
            )
    if ok:
        bundle.translations[name] = doc


def _check_translation_targets(bundle: _Bundle) -> None:
    """A translation file names its process: warn when the bundle has no such process."""
    ids = {p.get("id") for root in bundle.bpmn.values() for p in processes(root)}
    for name in bundle.names:
        if not name.lower().endswith(TRANSLATION_SUFFIX):
            continue
        key = name[: -len(TRANSLATION_SUFFIX)]
        if key not in ids:
            bundle.add(
                name,
                None,
                None,
                f"翻译文件 {name} 对应的流程 {key!r} 不在上传的文件中，它不会被使用。"
                f"文件名应为“流程 id.i18n.json”。",
                f"The translation file {name} is for process {key!r}, which is not in the "
                f"upload, so it is not used. Name it <process id>.i18n.json.",
                severity="warning",
            )


def _lint_dmn_files(bundle: _Bundle) -> None:
    seen: dict[str, str] = {}
    for name, root in bundle.dmn.items():
        ids: list[str] = []
        _guarded(bundle, name, partial(_lint_dmn, bundle, name, root, ids))
        for decision in ids:
            if decision in seen:
                bundle.add(
                    name,
                    None,
                    decision,
                    f"决策 id {decision!r} 在 {seen[decision]} 中已存在。请改用唯一的决策 id。",
                    f"Decision id {decision!r} is already used in {seen[decision]}. Use a "
                    "unique id.",
                )
            seen.setdefault(decision, name)


def _lint_dmn(bundle: _Bundle, name: str, root: etree._Element, ids: list[str]) -> None:
    ids.extend(check_dmn(root, partial(bundle.add, name)))


# --- 3-4. SpiffWorkflow parser -------------------------------------------------------------


def _parse(bundle: _Bundle, check: BundleCheck) -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        added = _add_documents(bundle, parser)
        check.process_ids = parser.get_process_ids() if added else []
        built = added and _build_specs(bundle, parser, check.process_ids)
    for message in dict.fromkeys(str(w.message) for w in caught):
        bundle.add(
            "", None, None, f"解析器警告：{message}", f"Parser warning: {message}", "warning"
        )
    has_processes = any(processes(root) for root in bundle.bpmn.values())
    if added and not check.process_ids and not has_processes:  # else report_scope said why
        bundle.add(
            "",
            None,
            None,
            '没有可执行的流程：请在流程上设置 isExecutable="true"。',
            'No executable process: set isExecutable="true" on the process.',
        )
    if built and check.process_ids:
        check.parser = parser


def _add_documents(bundle: _Bundle, parser: SpiffBpmnParser) -> bool:
    ok = True
    for name, root in bundle.bpmn.items():
        ok = _parser_step(bundle, name, lambda r=root, n=name: parser.add_bpmn_xml(r, n)) and ok
    for name, root in bundle.dmn.items():
        ok = _parser_step(bundle, name, lambda r=root, n=name: parser.add_dmn_xml(r, n)) and ok
    for dmn_parser in list(parser.dmn_parsers.values()):
        ok = _parser_step(bundle, dmn_parser.filename or "", dmn_parser.parse) and ok
    return ok


def _build_specs(bundle: _Bundle, parser: SpiffBpmnParser, process_ids: list[str]) -> bool:
    ok = True
    for pid in process_ids:
        ok = _parser_step(bundle, "", lambda p=pid: parser.get_subprocess_specs(p)) and ok
    return ok


def _parser_step(bundle: _Bundle, file: str, step: Callable[[], object]) -> bool:
    try:
        step()
    except ValidationException as exc:
        _report_validation(bundle, file, exc)
        return False
    except Exception as exc:  # noqa: BLE001 - the parser raises raw errors on odd input
        message = f"{type(exc).__name__}: {exc}"[:300]
        bundle.add(file, None, None, f"流程解析失败：{message}。", f"Parsing failed: {message}.")
        return False
    return True


def _report_validation(bundle: _Bundle, file: str, exc: ValidationException) -> None:
    message = str(exc.args[0]) if exc.args else str(exc)
    eid = getattr(exc, "id", "") or None
    found = bundle.find(eid, getattr(exc, "file_name", None)) if eid else None
    line = exc.line_number if isinstance(getattr(exc, "line_number", None), int) else None
    zh, en, new_eid = _rephrase(bundle, message, eid, found[1] if found else None, line)
    if message.startswith(_COVERED_BY_LINT) and any(
        p.element_id == new_eid and p.severity == "error" for p in bundle.problems
    ):
        return
    if message.startswith("Data Store with name") and any(
        p.element_id in _data_store_ids(bundle) for p in bundle.problems
    ):
        return
    if new_eid != eid:
        found, file = bundle.find(new_eid), ""
    file = (getattr(exc, "file_name", "") if new_eid == eid else "") or (
        found[0] if found else file
    )
    if line is None and found is not None:
        line = found[1].sourceline
    if new_eid is None and line is not None:  # XSD errors: name the element on that line
        root = bundle.bpmn.get(file, bundle.dmn.get(file))
        lined = [] if root is None else [e for e in root.iter() if e.sourceline == line]
        new_eid = next((e.get("id") for e in lined if isinstance(e.tag, str) and e.get("id")), None)
    bundle.add(file, line, new_eid, zh, en)


def _rephrase(
    bundle: _Bundle, message: str, eid: str | None, el: etree._Element | None, line: int | None
) -> tuple[str, str, str | None]:
    who_zh, who_en = describe(el) if el is not None else (f"元素（{eid}）", f"element ({eid})")
    if match := re.search(r"we found two items.*\((.*)\)", message, re.S):
        return (
            f"{who_zh}的顺序流指向不存在的元素 {match.group(1)!r}。"
            "请在建模器中重新连接或删除这条顺序流。",
            f"A sequence flow from {who_en} points to a missing element "
            f"{match.group(1)!r}. Reconnect or delete it.",
            _flow_id(bundle, eid, match.group(1)) or eid,
        )
    if match := re.match(r"The process '(.*?)' was not found", message):
        callers = _callers(bundle, match.group(1))
        who_zh, who_en = describe(callers[0]) if callers else ("调用活动", "A call activity")
        return (
            f"{who_zh}调用的流程 {match.group(1)!r} 不在本次上传的文件中。请上传包含该流程的 .bpmn "
            "文件，或改正 calledElement。",
            f"{who_en} calls process {match.group(1)!r}, which "
            "is not in the upload. Upload it or fix calledElement.",
            callers[0].get("id") if callers else eid,
        )
    if match := re.match(r"Process (.*) is not executable", message):
        callers = _callers(bundle, match.group(1))
        who_zh, who_en = describe(callers[0]) if callers else ("调用活动", "A call activity")
        return (
            f"{who_zh}调用的流程 {match.group(1)!r} 未设为可执行，引擎无法调用它。"
            '请在被调用的流程上设置 isExecutable="true"。',
            f"{who_en} calls process {match.group(1)!r}, which is not executable. "
            'Set isExecutable="true" on it.',
            callers[0].get("id") if callers else eid,
        )
    if match := re.match(r'No DMN Diagram available with id "(.*?)"', message):
        known = sorted(bundle_decisions(bundle))
        wanted = (
            f"引用的决策 {match.group(1)!r} 不存在" if match.group(1) != "None" else "没有指定决策"
        )
        return (
            f"{who_zh}{wanted}（spiffworkflow:calledDecisionId）。请填写已上传 DMN 中的决策 id："
            f"{'、'.join(known) or '无'}。",
            f"{who_en} calls decision {match.group(1)!r}, which is not in any uploaded DMN "
            f"file. Set spiffworkflow:calledDecisionId to one of: {', '.join(known) or 'none'}."
            if match.group(1) != "None"
            else f"{who_en} has no spiffworkflow:calledDecisionId. Set it to one of: "
            f"{', '.join(known) or 'none'}.",
            eid,
        )
    xsd = (
        f"第 {line} 行不符合 BPMN/DMN 规范（XSD 校验）。请用建模器重新导出或修正该元素。",
        f"Line {line} breaks the BPMN/DMN schema (XSD); fix it or re-export it from the modeler.",
    )
    known = {
        "No start event found": ("没有开始事件。请添加一个开始事件。", "Add a start event."),
        "Multiple outgoing flows are not supported": (
            "有多条出口顺序流。请用网关来分支。",
            "Use a gateway to branch.",
        ),
        "Duplicate process ID": (
            "的流程 id 与另一个文件重复。请改用唯一的流程 id。",
            "Use a unique process id.",
        ),
        "Multiple decision tables": (
            "一个 DMN 文件只能包含一个决策。请拆分成多个文件。",
            "Put one decision per DMN file.",
        ),
        "Element '": xsd,
    }
    prefix = who_zh if eid else ""
    for start, (zh, en) in known.items():
        if message.startswith(start):
            who = f"{who_en}: " if eid else ""
            return f"{prefix}{zh}（{_short(message)}）", f"{who}{_short(message)}. {en}", eid
    return (
        f"{prefix}流程解析失败：{_short(message)}",
        f"{who_en + ': ' if eid else ''}{_short(message)}",
        eid,
    )


def _callers(bundle: _Bundle, process_id: str) -> list[etree._Element]:
    return [
        el
        for root in bundle.bpmn.values()
        for el in root.xpath("//bpmn:callActivity[@calledElement=$c]", namespaces=NS, c=process_id)
    ]


def _data_store_ids(bundle: _Bundle) -> set[str]:
    return {
        str(i)
        for root in bundle.bpmn.values()
        for i in root.xpath("//bpmn:dataStore/@id", namespaces=NS)
    }


def _flow_id(bundle: _Bundle, source: str | None, target: str) -> str | None:
    for root in bundle.bpmn.values():
        xpath = "//bpmn:sequenceFlow[@sourceRef=$s and @targetRef=$t]/@id"
        for flow_id in root.xpath(xpath, namespaces=NS, s=source or "", t=target):
            return str(flow_id)
    return None


def bundle_decisions(bundle: _Bundle) -> set[str]:
    return {
        d.get("id")
        for root in bundle.dmn.values()
        for d in root.iter()
        if isinstance(d.tag, str) and etree.QName(d).localname == "decision"
    }


def _short(message: str) -> str:
    message = message.replace("{" + BPMN_NS + "}", "bpmn:").replace(
        "{" + SPIFF_NS + "}", "spiffworkflow:"
    )
    message = re.sub(r"\{[^{}]*/DMN/[^{}]*\}", "dmn:", message).rstrip(".")
    return message if len(message) <= 300 else message[:297] + "..."
