"""List envelope: {items, total, page, per_page}."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PAGE = 1_000_000


def paginate(session: Session, query: Select[Any], to_dict: Callable[[Any], Any]) -> dict[str, Any]:
    # Bounded so that the offset fits a database integer (a huge page is a 500 otherwise).
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    per_page = min(max(request.args.get("per_page", 50, type=int) or 50, 1), 200)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [to_dict(r) for r in rows], "total": total, "page": page, "per_page": per_page}
