"""The script sandbox: every BPMN script, condition, timer, correlation and DMN cell runs here.

Layers, all on by default:
- RestrictedPython compiles the code: no imports, no dunder or underscore names, no `exec`.
- A custom policy routes `**`, `*` and `<<` through size guards, so `10**10**10`,
  `'x' * 10**10` or `1 << 10**9` are refused before they allocate or spin in C.
- String methods that amplify size (`ljust`, `replace`, …) are wrapped with the same limits.
- Every loop, comprehension and function body gets a deadline check (`_tick_`) injected at
  compile time, so `while True: pass` stops after `STEP_TIME_LIMIT` seconds. (A trace hook
  cannot do this: CPython 3.11 emits no line event for a jump back onto the same line.)
- Worker processes also run under RLIMIT_AS (see `limit_memory`).
"""

from __future__ import annotations

import ast
import re
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.Limits import limited_builtins
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from app.i18n import N_

SCRIPT_FILENAME = "<string>"  # SpiffWorkflow looks for this name to report line numbers
STEP_TIME_LIMIT = 2.0  # seconds of Python execution per evaluation
MAX_SEQUENCE = 1_000_000  # items or characters a single operation may create
MAX_EXPONENT_BITS = 100_000
MAX_SHIFT = 100_000


class SandboxError(Exception):
    """Code refused by the sandbox (at compile time or while running)."""


class ScriptTimeoutError(SandboxError):
    """A script ran longer than the step time limit."""


class _GuardedPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus size guards on `**`, `*` and `<<`."""

    GUARDED = {ast.Pow: "pow", ast.Mult: "mult", ast.LShift: "lshift", ast.Add: "add"}

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        op = self.GUARDED.get(type(node.op))
        if op is None:
            return node
        call = ast.Call(
            func=ast.Name("_binop_", ast.Load()),
            args=[ast.Constant(op), node.left, node.right],
            keywords=[],
        )
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "import is not allowed in CreditFlow scripts (不允许 import)")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self.error(node, "import is not allowed in CreditFlow scripts (不允许 import)")
        return node

    def _with_tick(self, node: Any) -> Any:
        node = self.node_contents_visit(node)
        tick = ast.Expr(ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[]))
        node.body.insert(0, ast.fix_missing_locations(ast.copy_location(tick, node)))
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        return self._with_tick(node)

    def visit_For(self, node: ast.For) -> ast.AST:
        return self._with_tick(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node = super().visit_FunctionDef(node)
        tick = ast.Expr(ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[]))
        node.body.insert(0, ast.fix_missing_locations(ast.copy_location(tick, node)))
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        node = self.node_contents_visit(node)
        tick = ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[])
        node.ifs.append(ast.fix_missing_locations(ast.copy_location(tick, node.iter)))
        return node


def _seq_len(value: object) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def guarded_binop(op: str, left: Any, right: Any) -> Any:
    """Apply a guarded operator, refusing results that would be huge."""
    if op == "pow":
        if isinstance(left, int) and isinstance(right, int) and right > 0:
            if max(left.bit_length(), 1) * right > MAX_EXPONENT_BITS:
                raise SandboxError(N_("乘方结果过大（sandbox limit on **）"))
        return left**right
    if op == "add":
        if isinstance(left, str | bytes | list | tuple) and isinstance(right, type(left)):
            if len(left) + len(right) > MAX_SEQUENCE:
                raise SandboxError(N_("序列过长（sandbox limit on +）"))
        return left + right
    if op == "lshift":
        if isinstance(right, int) and right > MAX_SHIFT:
            raise SandboxError(N_("移位过大（sandbox limit on <<）"))
        return left << right
    for seq, count in ((left, right), (right, left)):
        n = _seq_len(seq)
        if n is not None and isinstance(count, int) and n * count > MAX_SEQUENCE:
            raise SandboxError(N_("序列重复后过长（sandbox limit on *）"))
    return left * right


def _inplace(op: str, left: Any, right: Any) -> Any:
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "+=": lambda a, b: a + b,
        "-=": lambda a, b: a - b,
        "/=": lambda a, b: a / b,
        "//=": lambda a, b: a // b,
        "%=": lambda a, b: a % b,
        "&=": lambda a, b: a & b,
        "|=": lambda a, b: a | b,
        "^=": lambda a, b: a ^ b,
        ">>=": lambda a, b: a >> b,
        "*=": lambda a, b: guarded_binop("mult", a, b),
        "**=": lambda a, b: guarded_binop("pow", a, b),
        "<<=": lambda a, b: guarded_binop("lshift", a, b),
    }
    if op not in ops:
        raise SandboxError(N_("不支持的运算 %(op)s") % {"op": op})
    if op == "+=" and isinstance(left, str | list) and len(left) + _safe_len(right) > MAX_SEQUENCE:
        raise SandboxError(N_("序列过长（sandbox limit on +=）"))
    return ops[op](left, right)


def _safe_len(value: object) -> int:
    try:
        return len(value)  # type: ignore[arg-type]
    except TypeError:
        return 0


_AMPLIFIERS = {"ljust", "rjust", "center", "zfill", "expandtabs"}


def _guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    value = safer_getattr(obj, name, default)
    if isinstance(obj, str | bytes) and name in _AMPLIFIERS:
        return _width_checked(value)
    if isinstance(obj, str | bytes) and name == "replace":
        return _replace_checked(obj)
    return value


def _width_checked(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if any(isinstance(a, int) and a > MAX_SEQUENCE for a in args):
            raise SandboxError(N_("字符串过长（sandbox limit）"))
        return method(*args)

    return call


def _replace_checked(text: Any) -> Callable[..., Any]:
    def replace(old: Any, new: Any, count: int = -1) -> Any:
        if len(text) * max(len(new), 1) > MAX_SEQUENCE * 10 and len(new) > len(old):
            raise SandboxError(N_("替换结果过长（sandbox limit）"))
        return text.replace(old, new, count)

    return replace


def _raise_compile_errors(errors: tuple[str, ...]) -> None:
    # A line number is required, or SpiffWorkflow's error formatter fails with TypeError.
    match = re.search(r"Line (\d+)", errors[0])
    line = int(match.group(1)) if match else 1
    raise SyntaxError("; ".join(errors), (SCRIPT_FILENAME, line, 0, ""))


@lru_cache(maxsize=4096)
def compile_exec(source: str) -> Any:
    """Compile a script under the sandbox policy (SyntaxError with a line number on refusal)."""
    result = compile_restricted_exec(source, filename=SCRIPT_FILENAME, policy=_GuardedPolicy)
    if result.errors:
        _raise_compile_errors(result.errors)
    return result.code


@lru_cache(maxsize=4096)
def compile_eval(source: str) -> Any:
    """Compile an expression under the sandbox policy."""
    result = compile_restricted_eval(source, filename=SCRIPT_FILENAME, policy=_GuardedPolicy)
    if result.errors:
        _raise_compile_errors(result.errors)
    return result.code


def check_source(source: str, mode: str) -> str | None:
    """The refusal message for `source` ("exec" or "eval"), or None when it compiles."""
    try:
        (compile_exec if mode == "exec" else compile_eval)(source)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    return None


SAFE_BUILTIN_EXTRAS = {
    "min": min,
    "max": max,
    "sum": sum,
    "any": any,
    "all": all,
    "sorted": sorted,
    "reversed": reversed,
    "zip": zip,
    "enumerate": enumerate,
    "dict": dict,
    "set": set,
    "map": map,
    "filter": filter,
}


def restricted_globals(helpers: Mapping[str, Any]) -> dict[str, Any]:
    builtins = {**safe_builtins, **limited_builtins, **SAFE_BUILTIN_EXTRAS}
    return {
        "__builtins__": builtins,
        "_getattr_": _guarded_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplace,
        "_binop_": guarded_binop,
        "_tick_": _tick,
        "_print_": PrintCollector,
        "Decimal": Decimal,
        **helpers,
    }


_deadline = threading.local()


def _tick() -> bool:
    """Injected at the top of every loop and function body of sandboxed code."""
    until = getattr(_deadline, "until", None)
    if until is not None and time.monotonic() > until:
        raise ScriptTimeoutError(
            N_("脚本运行超过时限（%(seconds)s 秒），已被终止") % {"seconds": f"{STEP_TIME_LIMIT:g}"}
        )
    return True


def _run_limited(fn: Callable[[], Any], limit: float) -> Any:
    previous = getattr(_deadline, "until", None)
    until = time.monotonic() + limit
    _deadline.until = until if previous is None else min(previous, until)
    try:
        return fn()
    finally:
        _deadline.until = previous


class RestrictedTaskDataEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment whose eval/exec go through RestrictedPython and the time limit."""

    def __init__(
        self, helpers: Mapping[str, Any] | None = None, time_limit: float = STEP_TIME_LIMIT
    ) -> None:
        super().__init__(restricted_globals(helpers or {}))
        self.time_limit = time_limit

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> Any:
        scope = {**self.globals, **(external_context or {})}
        scope.update((k, v) for k, v in context.items() if k not in self.globals)
        code = compile_eval(expression)
        return _run_limited(lambda: eval(code, scope), self.time_limit)

    def execute(
        self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> bool:
        self.check_for_overwrite(context, external_context or {})
        code = compile_exec(script)
        context.update(self.globals)
        context.update(external_context or {})
        try:
            _run_limited(lambda: exec(code, context), self.time_limit)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True

    def _remove_globals_and_functions_from_context(
        self, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> None:
        super()._remove_globals_and_functions_from_context(context, external_context)
        for key in [k for k in context if k.startswith("_")]:
            context.pop(key)


class SandboxedScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """PythonScriptEngine whose service calls report the handler's own error.

    SpiffWorkflow 3.2.0's `call_service` error path refers to an undefined name (`script`),
    so a failing handler would surface as "name 'script' is not defined" with no element.
    """

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        try:
            return self.environment.call_service(task.data, **kwargs)
        except SpiffWorkflowException:
            raise
        except Exception as err:  # noqa: BLE001 - re-raised with the task attached
            raise WorkflowTaskException(
                f"{type(err).__name__}: {err}", task=task, exception=err
            ) from err


def make_script_engine(
    helpers: Mapping[str, Any] | None = None, service_caller: Callable[..., str] | None = None
) -> PythonScriptEngine:
    """The one script engine every workflow gets, on creation and after every load."""
    environment = RestrictedTaskDataEnvironment(helpers)
    if service_caller is not None:
        environment.call_service = service_caller  # type: ignore[method-assign]
    return SandboxedScriptEngine(environment=environment)


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space (worker processes); 0 leaves it unlimited."""
    if megabytes <= 0:
        return
    import resource

    limit = megabytes * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > limit:
        resource.setrlimit(
            resource.RLIMIT_AS,
            (limit, hard if hard != resource.RLIM_INFINITY else resource.RLIM_INFINITY),
        )
