"""Service-task handlers of `objection_handling` (信用信息异议处理); logic: services.objections."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.engine import clock
from app.services import objections
from app.services.handlers import HandlerContext, handler


@handler("objections.accept", label=_l("受理异议并将记录标注为异议处理中"))
def accept_objection(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Validate the start data and flag the record `under_objection` at once.

    Reads `record_id`, `ground` and `claim` from the start data itself, so missing or wrong
    fields end the process with a reason instead of a script error.
    """
    data = ctx.task_data
    return objections.accept(
        ctx.session,
        ctx.instance,
        record_id=data.get("record_id"),
        ground=data.get("ground"),
        claim=data.get("claim"),
        at=clock.now(),
    )


@handler("objections.forward", label=_l("将异议转交认定单位核实"))
def forward_objection(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: `record_id`, `auto` (True when the platform's check period ran out)."""
    return objections.forward(
        ctx.session,
        ctx.instance.id,
        params.get("record_id"),
        at=clock.now(),
        auto=bool(params.get("auto")),
    )


@handler("objections.extend", label=_l("延长异议处理期限"))
def extend_objection(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: `record_id`, `reason`, `due` (the new deadline, ISO with offset)."""
    return objections.extend(
        ctx.session,
        ctx.instance.id,
        params.get("record_id"),
        reason=str(params.get("reason") or ""),
        due=str(params.get("due") or ""),
    )


@handler("objections.escalate", label=_l("认定单位逾期未决，升级由分管领导处理"))
def escalate_objection(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: `record_id`. The provider missed its deadline; the leader decides."""
    return objections.escalate(
        ctx.session, ctx.instance.id, params.get("record_id"), at=clock.now()
    )


@handler("objections.close", label=_l("办结异议：更正、删除或维持记录并告知结果"))
def close_objection(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: `record_id`, `outcome`, `opinion`, `corrected`, `check`, `limits`.

    Returns the sync event for the platforms, the result-notice context and the notice.
    """
    return objections.close(
        ctx.session,
        ctx.instance.id,
        params.get("record_id"),
        outcome=str(params.get("outcome") or ""),
        opinion=str(params.get("opinion") or ""),
        corrected=dict(params.get("corrected") or {}),
        check=dict(params.get("check") or {}),
        limits=dict(params.get("limits") or {}),
        at=clock.now(),
    )
