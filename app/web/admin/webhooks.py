"""Administrator pages: webhook endpoints (platform receivers) and their deliveries."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from app.auth import role_required
from app.extensions import db
from app.i18n import N_
from app.models import DeliveryState, Role, WebhookDelivery, WebhookEndpoint
from app.services import webhooks
from app.services.errors import InvalidInputError
from app.services.uow import transaction
from app.web.admin import bp

PER_PAGE = 30
STATE_LABELS = {
    DeliveryState.PENDING: N_("待投递"),
    DeliveryState.DELIVERED: N_("已送达"),
    DeliveryState.DEAD: N_("死信"),
    DeliveryState.DISCARDED: N_("已放弃"),
}
SECRET_MODE_LABELS = {
    "generate": N_("生成专用密钥（仅显示一次）"),
    "system": N_("使用系统密钥（WEBHOOK_SECRET）"),
    "custom": N_("自行填写"),
    "keep": N_("保持不变"),
}


def _endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def _form_values() -> dict[str, Any]:
    form = request.form
    return {
        "name": form.get("name", ""),
        "url": form.get("url", ""),
        "events": form.getlist("events"),
        "targets": form.getlist("targets"),
        "secret_mode": form.get("secret_mode") or None,
        "secret": form.get("secret", ""),
        "active": form.get("active") == "on",
    }


def _values_of(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "name": endpoint.name,
        "url": endpoint.url,
        "events": list(endpoint.events or []),
        "targets": list(endpoint.targets or []),
        "secret_mode": "keep",
        "secret": "",
        "active": endpoint.active,
    }


def _page(
    *,
    editing: WebhookEndpoint | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    shown_secret: str | None = None,
    shown_for: WebhookEndpoint | None = None,
) -> str:
    counts = dict(
        db.session.execute(
            select(WebhookDelivery.endpoint_id, func.count())
            .where(WebhookDelivery.state.in_([DeliveryState.PENDING, DeliveryState.DEAD]))
            .group_by(WebhookDelivery.endpoint_id)
        ).all()
    )
    default_values = {"secret_mode": "generate", "active": True, "events": [], "targets": []}
    return render_template(
        "admin/webhooks.html",
        endpoints=_endpoints(),
        open_counts=counts,
        editing=editing,
        values=values or (_values_of(editing) if editing else default_values),
        errors=errors or {},
        events=webhooks.EVENTS,
        targets=webhooks.TARGETS,
        secret_modes=SECRET_MODE_LABELS,
        mask=webhooks.mask,
        shown_secret=shown_secret,
        shown_for=shown_for,
    )


@bp.route("/webhooks", methods=["GET"])
@role_required(Role.ADMIN)
def webhooks_index() -> str:
    """Endpoints, and the form to add one."""
    return _page()


@bp.route("/webhooks", methods=["POST"])
@role_required(Role.ADMIN)
def webhooks_create() -> tuple[str, int]:
    values = _form_values()
    try:
        with transaction() as session:
            endpoint, shown = webhooks.create_endpoint(session, current_user, **values)
    except InvalidInputError as exc:
        return _page(values=values, errors=exc.fields), 422
    flash(_("已添加接收端“%(name)s”。", name=endpoint.name), "success")
    return _page(shown_secret=shown, shown_for=endpoint), 201


@bp.route("/webhooks/<int:endpoint_id>", methods=["GET"])
@role_required(Role.ADMIN)
def webhooks_edit(endpoint_id: int) -> str:
    return _page(editing=webhooks.get_endpoint(db.session, endpoint_id))


@bp.route("/webhooks/<int:endpoint_id>", methods=["POST"])
@role_required(Role.ADMIN)
def webhooks_update(endpoint_id: int) -> str | tuple[str, int] | Response:
    values = _form_values()
    try:
        with transaction() as session:
            endpoint, shown = webhooks.update_endpoint(session, current_user, endpoint_id, **values)
    except InvalidInputError as exc:
        editing = webhooks.get_endpoint(db.session, endpoint_id)
        return _page(editing=editing, values=values, errors=exc.fields), 422
    flash(_("已保存接收端“%(name)s”。", name=endpoint.name), "success")
    if shown:
        return _page(shown_secret=shown, shown_for=endpoint)
    return redirect(url_for("admin.webhooks_index"))


@bp.route("/webhooks/<int:endpoint_id>/active", methods=["POST"])
@role_required(Role.ADMIN)
def webhooks_set_active(endpoint_id: int) -> Response:
    active = request.form.get("active") == "1"
    with transaction() as session:
        endpoint = webhooks.set_active(session, current_user, endpoint_id, active)
    if active:
        flash(_("已启用接收端“%(name)s”。", name=endpoint.name), "success")
    else:
        flash(_("已停用接收端“%(name)s”，其待投递事件将暂停。", name=endpoint.name), "success")
    return redirect(url_for("admin.webhooks_index"))


def _filters() -> dict[str, Any]:
    args = request.args
    state = args.get("state", "")
    event = args.get("event", "")
    endpoint = args.get("endpoint_id", "")
    return {
        "state": state if state in DeliveryState.ALL else "",
        "event": event if event in webhooks.EVENTS else "",
        "endpoint_id": int(endpoint) if endpoint.isdigit() else None,
        "subject": args.get("subject", "").strip()[:64],
    }


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


@bp.route("/webhooks/deliveries")
@role_required(Role.ADMIN)
def webhook_deliveries() -> str:
    """Deliveries, newest first, filtered by state, event, endpoint and subject."""
    filters = _filters()
    query = select(WebhookDelivery)
    if filters["state"]:
        query = query.where(WebhookDelivery.state == filters["state"])
    if filters["event"]:
        query = query.where(WebhookDelivery.event == filters["event"])
    if filters["endpoint_id"] is not None:
        query = query.where(WebhookDelivery.endpoint_id == filters["endpoint_id"])
    if filters["subject"]:
        query = query.where(WebhookDelivery.subject_uscc == filters["subject"])
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(_int_arg("page", 1), pages)
    rows = db.session.scalars(
        query.order_by(WebhookDelivery.created_seq.desc(), WebhookDelivery.created_at.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    args = {k: v for k, v in filters.items() if v not in ("", None)}
    return render_template(
        "admin/webhook_deliveries.html",
        deliveries=rows,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        args=args,
        endpoints=_endpoints(),
        events=webhooks.EVENTS,
        states=STATE_LABELS,
    )


def _back() -> Response:
    allowed = ("state", "event", "endpoint_id", "subject", "page")
    args = {k: v for k, v in request.form.items() if k in allowed and v}
    return redirect(url_for("admin.webhook_deliveries", **args))


@bp.route("/webhooks/deliveries/<delivery_id>/retry", methods=["POST"])
@role_required(Role.ADMIN)
def webhook_delivery_retry(delivery_id: str) -> Response:
    with transaction() as session:
        webhooks.retry(session, delivery_id, current_user)
    flash(_("已重新排队，后台任务将立即投递。"), "success")
    return _back()


@bp.route("/webhooks/deliveries/<delivery_id>/discard", methods=["POST"])
@role_required(Role.ADMIN)
def webhook_delivery_discard(delivery_id: str) -> Response:
    with transaction() as session:
        webhooks.discard(session, delivery_id, current_user)
    flash(_("已放弃该投递。"), "success")
    return _back()
