"""Handlers shared by several processes: eligibility, platform events, document requests."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.models import OutboxEvent, Subject
from app.services.commitments import route_for_subject
from app.services.handlers import HandlerContext, handler


def _subject(ctx: HandlerContext) -> Subject:
    subject = ctx.session.get(Subject, ctx.instance.subject_id) if ctx.instance.subject_id else None
    if subject is None:
        raise ValueError("this process needs a credit subject (start it for an enterprise)")
    return subject


@handler("subjects.route", label=_l("查询主体的信用等级和可适用的办理方式（附理由）"))
def subject_route(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """The subject's credit tier and allowed routes, with the reason to show (DOMAIN §5)."""
    route = route_for_subject(ctx.session, _subject(ctx))
    return {
        "tier": route.tier,
        "notify_commit": route.notify_commit,
        "rongque": route.rongque,
        "verification": route.verification,
        "reason": route.reason,
    }


@handler("platform.push", label=_l("向信用平台推送事件（由后台任务投递）"))
def platform_push(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Queue an event for the credit platforms (delivered by the worker; see issue 8).

    params: `event` (e.g. "repair_approved"), `payload` (dict), `targets` (list of platform
    keys: "creditchina", "gsxt", "local_platform", "credit_agencies").
    """
    event = str(params.get("event") or "")
    if not event:
        raise ValueError("platform.push needs an event name")
    targets = params.get("targets") or ["creditchina"]
    payload = dict(params.get("payload") or {})
    subject = ctx.session.get(Subject, ctx.instance.subject_id) if ctx.instance.subject_id else None
    for target in targets:
        ctx.session.add(
            OutboxEvent(
                instance_id=ctx.instance.id,
                kind="platform",
                name=event,
                payload={
                    **payload,
                    "target": target,
                    "instance_id": ctx.instance.id,
                    "subject_uscc": subject.uscc if subject else None,
                },
            )
        )
    return {"queued": list(targets), "event": event}


@handler("documents.request", label=_l("申请出具文书（由后台任务生成）"))
def documents_request(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Ask the worker to issue a document of `kind` for this instance (rendered in issue 7)."""
    kind = str(params.get("kind") or "")
    if not kind:
        raise ValueError("documents.request needs a kind")
    ctx.session.add(
        OutboxEvent(
            instance_id=ctx.instance.id,
            kind="document",
            name=kind,
            payload=dict(params.get("context") or {}),
        )
    )
    return {"requested": kind}
