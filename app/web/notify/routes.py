"""In-app notifications: the list (unread first) and marking read."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.extensions import db
from app.services import mail, notifications, portal
from app.services.errors import InvalidInputError
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


def _settings_page(values: dict[str, Any], errors: dict[str, list[str]] | None = None) -> str:
    user = current_user._get_current_object()
    return render_template(
        "notify/settings.html",
        events=[(key, mail.EVENTS[key]) for key in mail.events_for(user)],
        values=values,
        errors=errors or {},
        smtp_configured=bool(current_app.config.get("SMTP_HOST")),
    )


@bp.route("/notifications/settings", methods=["GET"])
@login_required
def settings() -> str:
    """The user's mail address and the mails they want (all on until turned off)."""
    user = current_user._get_current_object()
    values = {
        "email": user.email or "",
        "events": [e for e in mail.events_for(user) if mail.wants_event(user, e)],
    }
    return _settings_page(values)


@bp.route("/notifications/settings", methods=["POST"])
@login_required
def save_settings() -> Response | tuple[str, int]:
    values = {"email": request.form.get("email", ""), "events": request.form.getlist("events")}
    try:
        with transaction() as session:
            mail.set_preferences(
                session,
                current_user._get_current_object(),
                email=values["email"],
                events=values["events"],
            )
    except InvalidInputError as exc:
        return _settings_page(values, exc.fields), 422
    flash(_("邮件通知设置已保存。"), "success")
    return redirect(url_for("notify.settings"))
