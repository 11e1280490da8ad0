"""Navigation per role, built only from endpoints that exist."""

from __future__ import annotations

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

# (role, endpoint, label) in display order; entries whose endpoint is not registered are hidden.
# "leader" is an approver whose approver role is leader (department leaders see dashboards).
NAV = [
    ("enterprise", "main.index", _l("首页")),
    ("enterprise", "enterprise.records", _l("我的信用记录")),
    ("enterprise", "main.records", _l("我的信用记录")),
    ("enterprise", "enterprise.apply", _l("办事申请")),
    ("enterprise", "enterprise.applications", _l("我的申请")),
    ("approver", "main.index", _l("工作台")),
    ("approver", "approver.inbox", _l("待办")),
    ("leader", "dashboards.index", _l("统计看板")),
    ("enterprise", "dashboards.mine", _l("我的概览")),
    ("process_owner", "studio.index", _l("流程工作室")),
    ("admin", "admin.index", _l("系统管理")),
    ("admin", "studio.index", _l("流程工作室")),
    ("admin", "dashboards.index", _l("统计看板")),
]


def _has_role(role: str) -> bool:
    if role == "leader":
        return current_user.role == "approver" and current_user.approver_role == "leader"
    return role == current_user.role


def nav_items() -> list[tuple[str, object]]:
    """(url, label) for the signed-in user's role."""
    from flask import current_app

    if not current_user.is_authenticated:
        return []
    seen: set[object] = set()
    items = []
    for role, endpoint, label in NAV:
        if not _has_role(role) or endpoint not in current_app.view_functions:
            continue
        if str(label) in seen:
            continue
        seen.add(str(label))
        items.append((url_for(endpoint), label))
    return items


def init_app(app: Flask) -> None:
    @app.context_processor
    def _nav() -> dict[str, object]:
        unread = 0
        if current_user and current_user.is_authenticated:
            from app.extensions import db
            from app.services.notifications import unread_count

            unread = unread_count(db.session, current_user)
        has_notifications = "notify.index" in app.view_functions
        return {
            "nav_items": nav_items(),
            "unread_notifications": unread,
            "notifications_url": url_for("notify.index") if has_notifications else None,
        }
