"""Service-task handlers of `commitment_breach` (违诺处置与反馈闭环); logic in services.breaches."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from app.services import breaches
from app.services.handlers import HandlerContext, handler


def _day(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


@handler("breaches.open_case", label=_l("读取违诺报告并立案"))
def open_case(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Read the breach report (message `breach`, else start data) and open the case.

    Returns `status` ok | invalid | duplicate, the `reason` of a refusal, and for `ok` the
    case summary (commitment, subject, originating department, matter, source process).
    """
    return breaches.open_case(ctx.session, ctx.instance, params.get("message"), ctx.task_data)


@handler("breaches.dismiss", label=_l("不认定违诺：承诺恢复为履行中"))
def dismiss(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """No breach: the commitment returns to `open` if the source had marked it breached."""
    return breaches.dismiss_case(
        ctx.session,
        ctx.instance,
        int(params["commitment_id"]),
        str(params.get("opinion") or ""),
        _day(params["on"]),
    )


@handler("breaches.record", label=_l("记录违诺信息并标注信用主体"))
def record(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Write the breach record to the credit file (idempotent per case); flag the subject."""
    finding = breaches.Finding(
        commitment_id=int(params["commitment_id"]),
        department_code=str(params["department"]),
        decided_on=_day(params["decided_on"]),
        severity=str(params["severity"]),
        severity_rule=str(params.get("severity_rule") or ""),
        severity_basis=str(params.get("severity_basis") or ""),
        opinion=str(params.get("opinion") or ""),
        false_commitment=bool(params.get("false_commitment")),
    )
    written = breaches.record_breach(ctx.session, ctx.instance, finding)
    summary = breaches.record_summary(written)
    subject = written.subject
    summary["route_reason"] = breaches.route_citing_breaches(ctx.session, subject).reason
    return summary


@handler("breaches.feedback", label=_l("向来源部门反馈违诺处理结果"))
def feedback(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Tell the originating department the result of the case (event `breach_feedback`)."""
    department = str(params["department"])
    payload = dict(params.get("payload") or {})
    breaches.department_feedback(
        ctx.session,
        instance_id=ctx.instance.id,
        event="breach_feedback",
        department_code=department,
        payload=payload,
    )
    return {"told": department, "result": payload.get("result")}
