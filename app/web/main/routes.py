"""Home pages per role, the enterprise's records, language switch and health check."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from app.auth import role_required
from app.extensions import db
from app.models import CreditRecord, Matter, Role, Subject, User
from app.services import audit, subjects
from app.services.calendar import get_calendar
from app.web.main import bp


def _today() -> datetime:
    return datetime.now(ZoneInfo(current_app.config["APP_TIMEZONE"]))


@bp.route("/")
@login_required
def index() -> str:
    """The signed-in user's home page, by role."""
    user: User = current_user
    if user.role == Role.ENTERPRISE:
        return _enterprise_home(user)
    if user.role == Role.APPROVER:
        return _approver_home(user)
    if user.role == Role.ADMIN:
        return redirect(url_for("admin.index"))  # type: ignore[return-value]
    if "studio.index" in current_app.view_functions:  # process owners work in the studio
        return redirect(url_for("studio.index"))  # type: ignore[return-value]
    return render_template("home/owner.html")


def _enterprise_home(user: User) -> str:
    subject = db.session.get(Subject, user.subject_id)
    records = subjects.list_records(db.session, subject) if subject else []
    today = _today().date()
    return render_template(
        "home/enterprise.html",
        subject=subject,
        records=records,
        repairable=[r for r in records if r.is_repairable_on(today)],
        today=today,
    )


def _approver_home(user: User) -> str:
    counts = dict(
        db.session.execute(
            select(CreditRecord.status, func.count())
            .where(CreditRecord.department_id == user.department_id)
            .group_by(CreditRecord.status)
        ).all()
    )
    matters = db.session.scalars(
        select(Matter).where(Matter.department_id == user.department_id).order_by(Matter.code)
    ).all()
    return render_template("home/approver.html", record_counts=counts, matters=matters)


@bp.route("/records")
@role_required(Role.ENTERPRISE)
def records() -> str:
    """The enterprise's own credit records with publication and repairable-from dates."""
    subject = db.session.get(Subject, current_user.subject_id)
    rows = subjects.list_records(db.session, subject) if subject else []
    today = _today().date()
    calendar = get_calendar(db.session)
    return render_template(
        "enterprise/records.html",
        subject=subject,
        records=rows,
        today=today,
        provisional=calendar.is_provisional(today.year),
    )


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str) -> Response:
    """Switch the interface language (zh_CN or en) and remember it."""
    if code in current_app.config["BABEL_SUPPORTED_LOCALES"]:
        session["lang"] = code
        if current_user.is_authenticated and current_user.locale != code:
            previous = current_user.locale
            current_user.locale = code
            audit.record(
                db.session,
                "user.locale_changed",
                actor=current_user._get_current_object(),
                object_type="user",
                object_id=str(current_user.id),
                details={"from": previous, "to": code},
            )
            db.session.commit()
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else "/")


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    """Liveness and database reachability."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="degraded", db="unavailable"), 503
    return jsonify(status="ok", db="ok"), 200
