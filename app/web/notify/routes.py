"""In-app notifications: the list (unread first) and marking read."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.extensions import db
from app.services import notifications, portal
from app.services.uow import transaction
from app.web.notify import bp


@bp.route("/notifications")
@login_required
def index() -> str:
    items = portal.notifications_for(db.session, current_user._get_current_object())
    return render_template("notify/index.html", items=items)


def _safe(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read() -> Response:
    """Mark one notification (`id`) or all of them read; then go to `next` or back to the list."""
    raw = request.form.get("id", "")
    with transaction() as session:
        notifications.mark_read(
            session, current_user._get_current_object(), int(raw) if raw.isdigit() else None
        )
    return redirect(_safe(request.form.get("next")) or url_for("notify.index"))
