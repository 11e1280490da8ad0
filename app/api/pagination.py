"""List envelope {items, total, page, per_page} and the query-string filters of the lists.

`?page=` (1…MAX_PAGE, default 1) and `?per_page=` (1…MAX_PER_PAGE, default DEFAULT_PER_PAGE);
anything else answers 422 with the offending parameters in `details.fields`. The bounds are
published in the OpenAPI document (app/api/openapi.py) from these constants.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.i18n import N_
from app.services.errors import InvalidInputError

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
# Bounded so that the offset fits a database integer (a huge page was a 500 once).
MAX_PAGE = 1_000_000
MOMENT_HINT = N_("须为 ISO 8601 日期或时间，如 2026-11-20 或 2026-11-20T09:00:00+08:00。")


def _int_arg(name: str, default: int, high: int, errors: dict[str, list[str]]) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9 or not 1 <= int(text) <= high:
        errors[name] = [_("须为 1 至 %(high)s 之间的整数。", high=high)]
        return default
    return int(text)


def page_args() -> tuple[int, int]:
    """(page, per_page) from the query string, or a 422 naming the bad parameters."""
    errors: dict[str, list[str]] = {}
    page = _int_arg("page", 1, MAX_PAGE, errors)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE, errors)
    if errors:
        raise InvalidInputError(_("分页参数无效。"), errors)
    return page, per_page


def paginate(session: Session, query: Select[Any], to_dict: Callable[[Any], Any]) -> dict[str, Any]:
    """One page of a SELECT, counted in the database."""
    page, per_page = page_args()
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [to_dict(r) for r in rows], "total": total, "page": page, "per_page": per_page}


def paginate_list(rows: Sequence[Any], to_dict: Callable[[Any], Any]) -> dict[str, Any]:
    """One page of rows already loaded (short lists: definitions, one subject's records)."""
    page, per_page = page_args()
    start = (page - 1) * per_page
    items = [to_dict(r) for r in rows[start : start + per_page]]
    return {"items": items, "total": len(rows), "page": page, "per_page": per_page}


class Filters:
    """Collects the query-string filters of one list, then raises one 422 for all bad ones."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def text(self, name: str, max_length: int = 64) -> str | None:
        raw = request.args.get(name)
        if raw is None or raw == "":
            return None
        if len(raw) > max_length:
            self.errors[name] = [_("不超过 %(max)s 个字符。", max=max_length)]
            return None
        return raw

    def choice(self, name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
        raw = request.args.get(name)
        if raw is None or raw == "":
            return default
        options = list(allowed)
        if raw not in options:
            self.errors[name] = [_("取值须为：%(options)s。", options=" / ".join(options))]
            return default
        return raw

    def flag(self, name: str) -> bool:
        """`1`/`true` or `0`/`false` (absent: false)."""
        value = self.choice(name, ("1", "0", "true", "false"))
        return value in ("1", "true")

    def moment(self, name: str) -> datetime | None:
        """An ISO 8601 date (its midnight) or date-time; without an offset, local time
        (APP_TIMEZONE). Answered in UTC."""
        raw = request.args.get(name)
        if raw is None or raw == "":
            return None
        local = ZoneInfo(current_app.config["APP_TIMEZONE"])
        try:
            if len(raw) == 10:
                value = datetime.combine(date.fromisoformat(raw), time.min)
            else:
                value = datetime.fromisoformat(raw)
            if value.tzinfo is None:
                value = value.replace(tzinfo=local)
            return value.astimezone(UTC)
        except (ValueError, OverflowError):
            self.errors[name] = [_(MOMENT_HINT)]
            return None

    def done(self) -> None:
        """Raise one 422 for every bad filter and paging parameter together."""
        try:
            page_args()
        except InvalidInputError as exc:
            self.errors.update(exc.fields)
        if self.errors:
            raise InvalidInputError(_("查询参数无效。"), self.errors)
