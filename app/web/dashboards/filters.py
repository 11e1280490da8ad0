"""The dashboards' filters: period (from / to, as months or days) and department."""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from app.services.errors import InvalidInputError
from app.services.stats import Scope

MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_SPAN_DAYS = 3700  # about ten years


@dataclass(frozen=True)
class Filters:
    """What the user asked for (kept to refill the form), and the scope it means."""

    raw_from: str
    raw_to: str
    raw_department: str
    scope: Scope


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months including this one, up to today."""
    year, month = (
        (today.year, today.month - 11)
        if today.month == 12
        else (
            today.year - 1,
            today.month + 1,
        )
    )
    return date(year, month, 1), today


def _parse(value: str, *, end: bool) -> date:
    if match := MONTH.match(value):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError
        day = calendar.monthrange(year, month)[1] if end else 1
        parsed = date(year, month, day)
    elif match := DAY.match(value):
        parsed = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    else:
        raise ValueError
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError
    return parsed


def parse_filters(
    args: Mapping[str, str],
    today: date,
    departments: Collection[str] | None,
) -> Filters:
    """Validate the query; InvalidInputError (422) with a message per field.

    `departments` None means the department filter is not offered (enterprise overview):
    any value given is then refused.
    """
    raw_from = (args.get("from") or "").strip()
    raw_to = (args.get("to") or "").strip()
    raw_department = (args.get("department") or "").strip()
    default_start, default_end = default_period(today)
    fields: dict[str, list[str]] = {}
    start, end = default_start, default_end
    hint = _("请填写年月（如 2026-01）或日期（如 2026-01-15），年份在 2000 至 2100 之间。")
    try:
        start = _parse(raw_from, end=False) if raw_from else default_start
    except ValueError:
        fields["from"] = [_("开始时间无效。") + hint]
    try:
        end = _parse(raw_to, end=True) if raw_to else (default_end if not raw_from else today)
    except ValueError:
        fields["to"] = [_("结束时间无效。") + hint]
    if not fields and start > end:
        fields["to"] = [_("结束时间不能早于开始时间。")]
    elif not fields and (end - start).days > MAX_SPAN_DAYS:
        fields["to"] = [_("统计期间不能超过 10 年，请缩短期间。")]
    if raw_department:
        if departments is None:
            fields["department"] = [_("此页面不按部门筛选。")]
        elif raw_department not in departments:
            fields["department"] = [_("部门不存在，请从列表中选择。")]
    if fields:
        raise InvalidInputError(_("筛选条件有误，请按提示修改。"), fields)
    return Filters(raw_from, raw_to, raw_department, Scope(start, end, raw_department or None))
