"""What the modeler offers to pick from, and the timer preview.

- service-task handlers of the registry (`app.services.handlers.HANDLERS`) with their label
  in the request's language (`HANDLER_LABELS`);
- lane roles (`definitions.LANE_ROLES`) with their Chinese labels;
- the helpers scripts may call (`app.engine.scripts`), with Chinese docs;
- `timer_preview`: evaluate a timer expression exactly as the engine does (sandboxed, with
  the same helpers and the engine clock) and parse it with SpiffWorkflow's own timer
  parsers, giving the due date in the deployment's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy.orm import Session

from app.engine import clock
from app.engine.sandbox import RestrictedTaskDataEnvironment, SandboxError, check_source
from app.engine.scripts import HELPER_NAMES, script_helpers
from app.engine.validation_bpmn import ISO_LITERAL
from app.i18n import translate_stored
from app.services.calendar import get_calendar
from app.services.definitions import LANE_ROLES
from app.services.errors import InvalidInputError
from app.services.handlers import HANDLER_LABELS, HANDLERS
from app.services.host import SETTINGS

clock.install()  # SpiffWorkflow's timer module reads "now" from the engine clock

TIMER_KINDS = ("timeDuration", "timeDate", "timeCycle")
MAX_EXPRESSION = 2000
WEEKDAYS = (
    _l("星期一"),
    _l("星期二"),
    _l("星期三"),
    _l("星期四"),
    _l("星期五"),
    _l("星期六"),
    _l("星期日"),
)
HELPER_DOCS = {
    "today": ("today()", _l("今天的日期（部署时区），ISO 格式，如 2026-11-20。")),
    "now_iso": ("now_iso()", _l("引擎时钟的当前时刻，ISO 8601 带时区偏移。")),
    "add_working_days": (
        "add_working_days(days, start=None)",
        _l("start（默认今天）之后第 days 个工作日的日期，ISO 格式；按工作日历跳过节假日。"),
    ),
    "deadline_after_working_days": (
        "deadline_after_working_days(days, start=None)",
        _l("start（默认今天）之后第 days 个工作日的 23:59:59（带 +08:00），可直接用作 timeDate。"),
    ),
    "working_days_between": (
        "working_days_between(start, end)",
        _l("start 之后到 end（含）之间的工作日天数。"),
    ),
    "Decimal": ("Decimal(value)", _l("十进制数，用于金额等精确计算，如 Decimal('0.1')。")),
}
TIMER_EXAMPLES = {
    "timeDuration": ['"P5D"', '"PT2H"', 'f"PT{cooling_hours}H"'],
    "timeDate": ['"2026-12-01T09:00:00+08:00"', "deadline_after_working_days(5)"],
    "timeCycle": ['"R3/P1D"', '"R/PT12H"'],
}


def handlers() -> list[dict[str, str]]:
    """[{name, doc}] of every registered service-task handler, by name.

    `doc` is the handler's label in the request's language (Chinese outside a request); a
    handler registered without a label shows the first line of its docstring.
    """
    from app.services.process_handlers import load_all

    load_all()
    return [{"name": name, "doc": _handler_doc(name)} for name in sorted(HANDLERS)]


def _handler_doc(name: str) -> str:
    label = HANDLER_LABELS.get(name)
    return _plain(label) if label is not None else _first_line(HANDLERS[name].__doc__)


def _first_line(doc: str | None) -> str:
    lines = [line.strip() for line in (doc or "").strip().splitlines()]
    return lines[0] if lines else ""


def roles() -> list[dict[str, str]]:
    """[{key, label}] of the lane roles the engine accepts."""
    from app.web.labels import APPROVER_ROLES, ROLES

    labels = {**ROLES, **APPROVER_ROLES}
    return [{"key": key, "label": _plain(labels.get(key, key))} for key in LANE_ROLES]


def _plain(label: object) -> str:
    """A lazy label as text: translated in a request, its (Chinese) message id outside one."""
    if has_request_context() or not hasattr(label, "_args"):
        return str(label)
    return str(label._args[0])


def helpers() -> list[dict[str, str]]:
    """[{name, signature, doc}] of what scripts, conditions and timers may call."""
    return [
        {
            "name": name,
            "signature": HELPER_DOCS.get(name, (name, ""))[0],
            "doc": _plain(HELPER_DOCS.get(name, ("", name))[1]),
        }
        for name in HELPER_NAMES
    ]


def registry() -> dict[str, Any]:
    return {"handlers": handlers(), "roles": roles(), "helpers": helpers()}


# --- timer preview ---------------------------------------------------------------------------


def _refuse(message: str) -> InvalidInputError:
    return InvalidInputError(message, {"expression": [message]})


def _evaluate(session: Session, expression: str, data: Mapping[str, Any]) -> Any:
    refusal = check_source(expression, "eval")
    if refusal is not None:
        raise _refuse(
            _("表达式无法在沙箱中编译（%(reason)s）。定时器须是 Python 表达式。", reason=refusal)
        )
    environment = RestrictedTaskDataEnvironment(
        script_helpers(get_calendar(session), SETTINGS.timezone)
    )
    try:
        return environment.evaluate(expression, dict(data))
    except NameError as exc:
        name = getattr(exc, "name", None) or str(exc)
        raise _refuse(
            _(
                "表达式用到了 %(name)s：它不是可用的函数，预览时也没有这个流程变量。"
                '如果 %(name)s 是流程变量，请在示例数据中给出它的值，或先用固定值预览，如 "P5D"。',
                name=name,
            )
        ) from exc
    except SandboxError as exc:
        raise _refuse(_("表达式被沙箱拒绝：%(error)s", error=translate_stored(str(exc)))) from exc
    except Exception as exc:  # noqa: BLE001 - any failure of the user's expression
        problem = f"{type(exc).__name__}: {exc}"
        raise _refuse(_("表达式运行出错：%(error)s", error=problem)[:300]) from exc


def _display(moment: datetime, now: datetime) -> str:
    local = moment.astimezone(ZoneInfo(SETTINGS.timezone))
    text = _(
        "%(time)s（%(weekday)s）",
        time=f"{local:%Y-%m-%d %H:%M}",
        weekday=_plain(WEEKDAYS[local.weekday()]),
    )
    delta = moment - now
    if delta < timedelta(0):
        return _("%(time)s，已过期", time=text)
    return _("%(time)s，%(span)s后", time=text, span=_span(delta))


def _span(delta: timedelta) -> str:
    """ "5 天"、"3 小时 20 分钟" (zero parts left out; under a minute: "不到 1 分钟")."""
    minutes = int(delta.total_seconds()) // 60
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    shown = []
    if days:
        shown.append(_("%(n)s 天", n=days))
    if hours:
        shown.append(_("%(n)s 小时", n=hours))
    if mins:
        shown.append(_("%(n)s 分钟", n=mins))
    return " ".join(shown) if shown else _("不到 1 分钟")


def _due(kind: str, value: str, now: datetime) -> tuple[datetime, str]:
    """(due instant, extra note) of an evaluated timer value, parsed like the engine does."""
    examples = "、".join(TIMER_EXAMPLES[kind])
    try:
        if kind == "timeDuration":
            parsed = TimerEventDefinition.parse_iso_duration(value)
            return now + TimerEventDefinition.get_timedelta_from_start(parsed, now), ""
        if kind == "timeCycle":
            cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(value)
            times = _("无限次") if cycles < 0 else _("%(n)s 次", n=cycles)
            return start, _(
                "之后每隔 %(span)s触发一次，共 %(times)s。", span=_span(duration), times=times
            )
        due = TimerEventDefinition.parse_time_or_duration(value)
    except Exception as exc:  # noqa: BLE001 - the library raises bare Exceptions
        raise _refuse(
            _(
                "%(value)s 不是有效的 ISO 8601 %(kind)s。示例：%(examples)s"
                "（T 之后不能用 D，如 PT1D 无效）。",
                value=repr(value),
                kind=kind,
                examples=examples,
            )
        ) from exc
    if not isinstance(due, datetime):
        raise _refuse(
            _(
                "timeDate 需要一个日期时间，而 %(value)s 是一段时长。示例：%(examples)s",
                value=repr(value),
                examples=examples,
            )
        )
    note = ""
    if not re.search(r"(Z|[+-]\d{2}:?\d{2})$", value.strip(), re.I):
        note = _("该时间没有时区，将使用服务器时区；请加上 +08:00。")
    return due, note


def timer_preview(
    session: Session, kind: object, expression: object, data: object = None
) -> dict[str, Any]:
    """{ok, value, due (ISO, local offset), display, message} for a timer as modelled.

    The expression is evaluated in the sandbox with the script helpers and `data` (sample
    process data) like the engine does when the timer starts waiting; 422 with a Chinese
    message when it is empty, unquoted, refused, fails or does not give a valid ISO value.
    """
    if kind not in TIMER_KINDS:
        raise InvalidInputError(
            _("定时器类型须为 timeDuration、timeDate 或 timeCycle。"),
            {
                "kind": [
                    _(
                        "请选择定时器类型：timeDuration（时长）、timeDate（日期）"
                        "或 timeCycle（循环）。"
                    )
                ]
            },
        )
    if not isinstance(expression, str) or not expression.strip():
        raise _refuse(_('请填写定时器表达式，如 "P5D"（带引号）。'))
    if len(expression) > MAX_EXPRESSION:
        raise _refuse(_("表达式过长：最多 %(max)s 个字符。", max=MAX_EXPRESSION))
    if data is not None and not isinstance(data, Mapping):
        raise InvalidInputError(_("示例数据须是 JSON 对象。"), {"data": [_("须是 JSON 对象。")]})
    literal = expression.strip()
    if re.match(ISO_LITERAL, literal, re.I):
        raise _refuse(
            _(
                "定时器 %(literal)s 没有加引号：定时器表达式是 Python 表达式，"
                '请写成 "%(literal)s"。',
                literal=literal,
            )
        )
    now = clock.now()
    value = _evaluate(session, expression, data or {})
    if not isinstance(value, str):
        raise _refuse(
            _(
                "表达式的结果须是 ISO 8601 字符串，实际得到 %(type)s：%(value)s",
                type=type(value).__name__,
                value=repr(value),
            )[:300]
        )
    due, note = _due(kind, value, now)
    local = due.astimezone(ZoneInfo(SETTINGS.timezone))
    message = _("按当前时间计算，定时器将于 %(when)s触发。", when=_display(due, now))
    if due < now:
        message = _(
            "该时间 %(when)s 已过，定时器开始等待时会立即触发。",
            when=f"{local:%Y-%m-%d %H:%M}",
        )
    return {
        "ok": True,
        "kind": kind,
        "value": value,
        "now": now.astimezone(ZoneInfo(SETTINGS.timezone)).isoformat(timespec="seconds"),
        "due": local.isoformat(timespec="seconds"),
        "display": _display(due, now),
        "message": f"{message}{note}",
    }
