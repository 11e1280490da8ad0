"""The enterprise portal (企业端): records, applying, my applications and their diagrams."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import role_required
from app.extensions import db
from app.models import ProcessInstance, Role
from app.services import portal
from app.services.errors import InvalidInputError
from app.services.objections import GROUND_LABELS
from app.services.uow import transaction
from app.web.enterprise import bp


def _actor():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


def _started(instance: ProcessInstance) -> Response:
    flash(_("申请已提交。"), "success")
    return redirect(url_for("enterprise.application", instance_id=instance.id))  # type: ignore[return-value]


@bp.route("/records")
@role_required(Role.ENTERPRISE)
def records() -> str:
    """My credit records with the actions allowed now and the reason when not."""
    subject = portal.subject_of(db.session, _actor())
    rows = portal.record_rows(db.session, _actor())
    return render_template("enterprise/my_records.html", subject=subject, rows=rows)


@bp.route("/apply")
@role_required(Role.ENTERPRISE)
def apply() -> str:
    """The three ways to apply."""
    return render_template("enterprise/apply.html")


@bp.route("/apply/repair", methods=["GET", "POST"])
@role_required(Role.ENTERPRISE)
def apply_repair() -> str | tuple[str, int] | Response:
    """信用修复"一件事": choose several repairable records at once."""
    errors: dict[str, list[str]] = {}
    chosen = request.form.getlist("record_ids")
    if request.method == "POST":
        try:
            with transaction() as session:
                instance = portal.start_repair(session, _actor(), chosen)
            return _started(instance)
        except InvalidInputError as exc:
            db.session.rollback()
            errors = exc.fields or {"record_ids": [exc.message]}
    rows = portal.record_rows(db.session, _actor())
    page = render_template(
        "enterprise/apply_repair.html",
        repairable=[r for r in rows if r.repair.allowed],
        others=[r for r in rows if not r.repair.allowed],
        chosen=set(chosen),
        errors=errors,
    )
    return (page, 422) if errors else page


@bp.route("/apply/matters")
@role_required(Role.ENTERPRISE)
def matters() -> str:
    """The matter catalogue: matters open to notify-and-commit or 容缺."""
    return render_template("enterprise/matters.html", matters=portal.active_matters(db.session))


@bp.route("/apply/matters/<code>", methods=["GET", "POST"])
@role_required(Role.ENTERPRISE)
def matter(code: str) -> str | tuple[str, int] | Response:
    """The notice text and materials, shown before committing; POST starts the application."""
    errors: dict[str, list[str]] = {}
    mode = request.form.get("mode", "")
    deferred = request.form.getlist("deferred_materials")
    if request.method == "POST":
        try:
            with transaction() as session:
                instance = portal.start_matter(session, _actor(), code, mode, deferred)
            return _started(instance)
        except InvalidInputError as exc:
            db.session.rollback()
            errors = exc.fields or {"mode": [exc.message]}
    found = portal.get_matter(db.session, code)
    page = render_template(
        "enterprise/matter.html",
        matter=found,
        materials=portal.material_rows(found),
        mode=mode,
        deferred=set(deferred),
        errors=errors,
    )
    return (page, 422) if errors else page


@bp.route("/records/<int:record_id>/object", methods=["GET", "POST"])
@role_required(Role.ENTERPRISE)
def object_record(record_id: int) -> str | tuple[str, int] | Response:
    """Object to one of my records (信用信息异议)."""
    record = portal.own_record(db.session, _actor(), record_id)
    errors: dict[str, list[str]] = {}
    ground = request.form.get("ground", "")
    claim = request.form.get("claim", "")
    if request.method == "POST":
        try:
            with transaction() as session:
                instance = portal.start_objection(session, _actor(), record_id, ground, claim)
            return _started(instance)
        except InvalidInputError as exc:
            db.session.rollback()
            errors = exc.fields or {"claim": [exc.message]}
            record = portal.own_record(db.session, _actor(), record_id)
    page = render_template(
        "enterprise/object.html",
        record=record,
        action=portal.object_action(record),
        grounds=GROUND_LABELS,
        ground=ground,
        claim=claim,
        errors=errors,
    )
    return (page, 422) if errors else page


@bp.route("/applications")
@role_required(Role.ENTERPRISE)
def applications() -> str:
    """My applications with status and what is expected from me now."""
    return render_template(
        "enterprise/applications.html", items=portal.applications(db.session, _actor())
    )


@bp.route("/applications/<int:instance_id>")
@role_required(Role.ENTERPRISE)
def application(instance_id: int) -> str:
    """One application: status, timeline, my tasks with countdowns, diagram, documents."""
    detail = portal.application_detail(db.session, _actor(), instance_id)
    return render_template(
        "enterprise/application.html",
        d=detail,
        has_task_page="tasks.task_page" in current_app.view_functions,
    )


@bp.route("/applications/<int:instance_id>/diagram.bpmn")
@role_required(Role.ENTERPRISE)
def diagram(instance_id: int) -> Response:
    """The BPMN XML of the application's process version (owner only)."""
    xml = portal.diagram_xml(db.session, _actor(), instance_id)
    return Response(xml, mimetype="application/xml")
