"""Administrator pages: accounts and the audit chain."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from app.auth import role_required
from app.extensions import db
from app.models import AuditEvent, Role, User
from app.services.audit import verify_chain
from app.web.admin import bp


@bp.route("/")
@role_required(Role.ADMIN)
def index() -> str:
    """Accounts, the latest audit entries and the chain's state."""
    users = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(30)).all()
    report = verify_chain(db.session)
    return render_template("admin/index.html", users=users, events=events, report=report)
