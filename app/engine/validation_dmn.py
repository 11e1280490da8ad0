"""Upload checks for DMN decision tables, and the sandbox-compile helper shared with BPMN checks.

DMN cells are Python run by our sandbox (ENGINE.md §6). The engine evaluates a cell as
`(input) == (cell)` when the cell parses on its own, otherwise as `input + cell`; a `?` in the
cell stands for the input value. We compile exactly those expressions, never run them.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Callable

from lxml import etree

from app.engine.sandbox import check_source

# report(line, element_id, message_zh, message_en, severity)
Report = Callable[..., None]

SUPPORTED_HIT_POLICIES = ("UNIQUE", "COLLECT")
_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # as in DMNEngine
_FEEL_NOT = re.compile(r"^not\s*\(")
_FEEL_LITERALS = {"true": "True", "false": "False", "null": "None"}
_OPEN, _CLOSE = "([{", ")]}"


def describe_compile_error(source: str, mode: str) -> tuple[int, str, str] | None:
    """(line inside source, Chinese detail, English detail) when the sandbox refuses source."""
    if mode == "eval" and not source.strip():
        return 1, "为空，请填写表达式", "is empty; fill it in"
    message = check_source(source, mode)
    if message is None:
        return None
    match = re.match(r"line (\d+): (.*)", message, re.S)
    line = max(int(match.group(1)), 1) if match else 1
    parts = re.sub(r"Line \d+: ", "", match.group(2) if match else message).split("; ")
    detail = "; ".join(part.strip().rstrip(".") for part in parts)
    hint_zh, hint_en = _hint(source, mode, detail)
    return (
        line,
        f"无法通过沙箱编译：{detail}。{hint_zh}",
        f"is refused by the sandbox: {detail}. {hint_en}",
    )


def _hint(source: str, mode: str, detail: str) -> tuple[str, str]:
    fixed = textwrap.dedent(source).strip("\n") if mode == "exec" else source.strip()
    if fixed != source and check_source(fixed, mode) is None:
        return (
            "请删除开头的空格、缩进或空行（表达式按原样编译）",
            "Remove the leading spaces, indentation or blank lines (code is compiled as is)",
        )
    if "SyntaxError" in detail or "IndentationError" in detail:
        return (
            "请检查 Python 语法：表达式是 Python，不是 FEEL 或 JUEL（${...}）",
            "Check the Python syntax: expressions are Python, not FEEL or JUEL (${...})",
        )
    return (
        "不允许 import、以下划线开头的名字或属性、exec/eval 等；只能使用流程变量和平台提供的函数",
        "No imports, no names or attributes starting with '_', no exec/eval; use only "
        "process variables and the helpers CreditFlow provides",
    )


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in el if _local(child) == name]


def _text(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    found = _children(el, "text")
    return found[0].text if found else None


def _label(el: etree._Element) -> str:
    name = el.get("label") or el.get("name")
    return f"「{name}」（{el.get('id')}）" if name else f"（{el.get('id')}）"


def check_dmn(root: etree._Element, report: Report) -> list[str]:
    """Lint every decision table in a DMN document; returns the decision ids found."""
    decisions = [el for el in root.iter() if _local(el) == "decision"]
    if not decisions:
        report(
            root.sourceline,
            None,
            "DMN 文件里没有决策（decision）。",
            "The DMN file contains no decision.",
        )
    for decision in decisions:
        tables = _children(decision, "decisionTable")
        if not tables:
            report(
                decision.sourceline,
                decision.get("id"),
                f"决策{_label(decision)}没有决策表。引擎只支持决策表（decisionTable）。",
                f"Decision {decision.get('id')} has no decision table; only decision "
                "tables are supported.",
            )
        for table in tables:
            _check_table(table, report)
    return [d.get("id") or "" for d in decisions]


def _check_table(table: etree._Element, report: Report) -> None:
    tid = table.get("id")
    hit = (table.get("hitPolicy") or "UNIQUE").upper()
    if hit not in SUPPORTED_HIT_POLICIES:
        report(
            table.sourceline,
            tid,
            f"决策表{_label(table)}的命中策略 {hit} 不受支持：引擎只支持 UNIQUE（按第一条命中处理）"
            "和 COLLECT，其他策略会被悄悄当作 FIRST。请改为 UNIQUE 或 COLLECT。",
            f"Hit policy {hit} of decision table {tid} is not supported: the engine honours only "
            "UNIQUE (acts as FIRST) and COLLECT and silently treats others as FIRST. "
            "Use UNIQUE or COLLECT.",
        )
    if table.get("aggregation"):
        report(
            table.sourceline,
            tid,
            f"决策表{_label(table)}的聚合 aggregation={table.get('aggregation')} 会被引擎忽略"
            "（COLLECT 始终返回列表）。请删除 aggregation，需要汇总时在后续脚本中计算。",
            f"Decision table {tid}: aggregation={table.get('aggregation')} is ignored by the "
            "engine (COLLECT always returns a list). Remove it and aggregate in a later script.",
        )
    inputs = [_check_input(el, report) for el in _children(table, "input")]
    rules = _children(table, "rule")
    for row, rule in enumerate(rules, start=1):
        _check_rule(rule, row, inputs, report)
    if not rules:
        report(
            table.sourceline,
            tid,
            f"决策表{_label(table)}没有任何规则。",
            f"Decision table {tid} has no rules.",
            "warning",
        )
    elif not _is_catch_all(rules[-1]):
        report(
            rules[-1].sourceline,
            rules[-1].get("id"),
            f"决策表{_label(table)}的最后一条规则不是兜底规则。请在最后加一行所有输入都为“-”的规则，"
            "否则没有规则命中时输出会缺失且不报错。",
            f"The last rule of decision table {tid} is not a catch-all. Add a last row whose "
            "inputs are all '-', or unmatched inputs silently produce no output.",
            "warning",
        )


def _check_input(el: etree._Element, report: Report) -> tuple[str, str, str]:
    """Check one input column; returns (labels, expression used to build cell expressions)."""
    expression_el = next(iter(_children(el, "inputExpression")), None)
    expression = _text(expression_el)
    label, label_en = _label(el), f"'{el.get('label') or el.get('name')}' ({el.get('id')})"
    if not expression or not expression.strip():
        report(
            el.sourceline,
            el.get("id"),
            f"输入列{label}没有输入表达式。请填写一个流程变量或 Python 表达式，如 score。",
            f"Input column {el.get('id')} has no input expression. Enter a process variable "
            "or Python expression such as score.",
        )
        return label, label_en, "value"
    problem = describe_compile_error(expression, "eval")
    if problem is not None:
        report(
            expression_el.sourceline,
            el.get("id"),
            f"输入列{label}的输入表达式{problem[1]}",
            f"The input expression of column {el.get('id')} {problem[2]}",
        )
    return label, label_en, expression


def _is_catch_all(rule: etree._Element) -> bool:
    return all(_text(entry) in (None, "", "-") for entry in _children(rule, "inputEntry"))


def _check_rule(
    rule: etree._Element, row: int, inputs: list[tuple[str, str, str]], report: Report
) -> None:
    entries = _children(rule, "inputEntry")
    if len(entries) != len(inputs):
        report(
            rule.sourceline,
            rule.get("id"),
            f"第 {row} 条规则有 {len(entries)} 个输入单元格，但决策表有 {len(inputs)} 个输入列。",
            f"Rule {row} has {len(entries)} input cells but the table has {len(inputs)} inputs.",
        )
    for entry, (label, label_en, expression) in zip(entries, inputs, strict=False):
        found = _cell_problem(_text(entry), expression)
        if found is not None:
            report(
                entry.sourceline,
                entry.get("id"),
                f"第 {row} 条规则、输入列{label}的单元格 {_text(entry)!r}：{found[0]}",
                f"Rule {row}, input {label_en}, cell {_text(entry)!r}: {found[1]}",
            )
    for entry in _children(rule, "outputEntry"):
        text = _text(entry)
        problem = describe_compile_error(text, "eval") if text and text.strip() else None
        if problem is not None:
            report(
                entry.sourceline,
                entry.get("id"),
                f"第 {row} 条规则的输出单元格{problem[1]}",
                f"The output cell of rule {row} {problem[2]}",
            )


def _cell_problem(cell: str | None, input_expression: str) -> tuple[str, str] | None:
    """Why an input cell fails (Chinese, English), or None; mirrors DMNEngine.evaluate."""
    if cell is None or cell in ("", "-"):
        return None
    feel = _feel_problem(cell.strip())
    if feel is not None:
        return feel
    substituted = _QUESTION_MARK.sub("dmninputexpr", cell)
    if substituted != cell:
        return _compiled(substituted)
    if _parses(cell):
        return _compiled(f"({input_expression}) == ({cell})")
    if not _parses(f"v {cell}"):
        return (
            '不是合法的 Python 条件。请写成如 >= 50、!= 5、"A" 或 50 <= ? < 80。',
            'is not a valid Python condition. Write e.g. >= 50, != 5, "A" or 50 <= ? < 80.',
        )
    if re.search(r"\w$", input_expression) and re.match(r"\w", cell):
        joined = input_expression + cell
        return (
            f"会与输入拼接成 {joined!r}，运行时出错。请写成 ? {cell.strip()}，或在开头加一个空格。",
            f"is joined to the input as {joined!r} and fails at runtime. Write "
            f"? {cell.strip()} or add a leading space.",
        )
    return _compiled(input_expression + cell)


def _compiled(expression: str) -> tuple[str, str] | None:
    problem = describe_compile_error(expression, "eval")
    return None if problem is None else (problem[1], problem[2])


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except Exception:  # noqa: BLE001 - SyntaxError, ValueError (NUL), RecursionError
        return False
    return True


def _feel_problem(cell: str) -> tuple[str, str] | None:
    if cell[:1] in "[(]" and cell[-1:] in "])[" and ".." in cell:
        return (
            "这是 FEEL 区间写法，引擎不支持（会报错）。请写成 Python，如 50 <= ? < 80。",
            "is FEEL range syntax, which the engine does not support. Write Python, "
            "e.g. 50 <= ? < 80.",
        )
    if _top_level_comma(cell):
        return (
            "这是 FEEL 列表写法，引擎会把它当作元组比较，永远不成立。请写成 ? in (1, 2, 3)。",
            "is a FEEL list; the engine compares it as a tuple and it never matches. "
            "Write ? in (1, 2, 3).",
        )
    if _FEEL_NOT.match(cell):
        return (
            "这是 FEEL 的 not(...) 写法，引擎会悄悄判为不成立。请写成 != 5 或 ? not in (1, 2)。",
            "is FEEL not(...), which the engine silently evaluates as False. Write != 5 or "
            "? not in (1, 2).",
        )
    if cell in _FEEL_LITERALS:
        python = _FEEL_LITERALS[cell]
        return (
            f"这是 FEEL 字面量，Python 中请写 {python}。",
            f"is a FEEL literal; in Python write {python}.",
        )
    return None


def _top_level_comma(text: str) -> bool:
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
        elif char == "," and depth == 0:
            return True
    return False
