"""Service-task handlers of `rongque_acceptance` (容缺受理与材料补齐).

The domain logic lives in app.services.rongque.

Every handler returns small JSON; those that write are idempotent per instance or per material
round (a retried step is rolled back as a whole, so repeating it is safe).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.models import Subject
from app.services import rongque
from app.services.handlers import HandlerContext, handler


def _id(params: dict[str, Any]) -> int:
    return int(params["commitment_id"])


@handler("rongque.check_application", label=_l("审查容缺申请（事项、容缺材料和信用等级）"))
def check_application(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Start data (matter_code, deferred_materials) and the subject's route → ok or a reason.

    Reads the start data from task data, so missing fields give a clear refusal, not an error.
    """
    data = ctx.task_data
    subject = ctx.session.get(Subject, ctx.instance.subject_id) if ctx.instance.subject_id else None
    return rongque.check_application(
        ctx.session,
        subject,
        data.get("route") if isinstance(data.get("route"), dict) else None,
        data.get("matter_code"),
        data.get("deferred_materials"),
    )


@handler("rongque.refuse", label=_l("不予受理容缺申请（附理由）"))
def refuse(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    return rongque.refuse(ctx.session, ctx.instance, str(params.get("reason") or ""))


@handler("rongque.sign_commitment", label=_l("签署容缺受理承诺书"))
def sign_commitment(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    application = ctx.task_data.get("application") or {}
    commitment = rongque.sign(
        ctx.session,
        ctx.instance,
        agree=params.get("agree") is True,
        signed_by=ctx.actor,
        signer_name=str(params.get("signer_name") or ""),
        text=str(params.get("text") or ""),
        matter_code=str(application.get("matter_code") or ""),
        codes=[m["code"] for m in application.get("materials") or []],
    )
    return {"id": commitment.id, "sha256": commitment.text_sha256, "due_on": str(commitment.due_on)}


@handler("rongque.accept", label=_l("受理容缺申请，承诺开始履行"))
def accept(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    return rongque.accept(ctx.session, ctx.instance, _id(params))


@handler("rongque.withdraw", label=_l("窗口不予受理：撤回承诺"))
def withdraw(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    return rongque.withdraw(
        ctx.session, ctx.instance, _id(params), str(params.get("opinion") or "")
    )


@handler("rongque.remind", label=_l("提醒申请人补交材料"))
def remind(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    return rongque.remind(ctx.session, ctx.instance, _id(params), str(params["code"]))


@handler("rongque.record_supplement", label=_l("记录补交的容缺材料"))
def record_supplement(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    return rongque.record_supplement(
        ctx.session, ctx.instance, _id(params), str(params["code"]), str(params["attachment"])
    )


@handler("rongque.record_review", label=_l("记录补交材料的审核结论"))
def record_review(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    return rongque.record_review(
        ctx.session,
        ctx.instance,
        _id(params),
        str(params["code"]),
        str(params.get("decision") or ""),
        str(params.get("opinion") or ""),
    )


@handler("rongque.fulfil", label=_l("材料全部补齐：承诺已履行"))
def fulfil(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    return rongque.fulfil(ctx.session, ctx.instance, _id(params))


@handler("rongque.breach", label=_l("容缺材料逾期未补齐：记录违诺"))
def breach(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    overdue = [str(code) for code in params.get("overdue") or []]
    return rongque.breach(ctx.session, ctx.instance, _id(params), overdue)
