"""Service-task handlers of `notify_commit_approval` (告知承诺制审批).

Thin adapters: they read the task data / parameters, call `app.services.notify_commit` and
return small JSON. Each is idempotent for its instance (see the service functions).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.models import Subject, User
from app.services import notify_commit
from app.services.handlers import HandlerContext, handler


def _subject(ctx: HandlerContext) -> Subject | None:
    if ctx.instance.subject_id is None:
        return None
    return ctx.session.get(Subject, ctx.instance.subject_id)


def _flag(value: Any) -> bool:
    return value is True or value in ("true", "True", 1)


@handler("notify_commit.load_matter", label=_l("读取告知承诺事项及其告知内容"))
def load_matter(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Start data `matter_code` → the matter (active, on the notify-and-commit list) and texts.

    Returns {"ok": False, "reason": …} instead of raising, so the process ends cleanly.
    """
    return notify_commit.check_matter(ctx.session, ctx.task_data.get("matter_code"), _subject(ctx))


@handler("commitments.sign_notify", label=_l("签署本轮告知承诺书（保存所示原文）"))
def sign_notify(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Sign the 告知承诺书 of this round with the exact text shown to the applicant.

    params: `signer_name`, `sign_round`, `matter_code`, `text`, `verification_days`.
    """
    actor = getattr(ctx, "actor", None)  # used once the host passes the acting user
    signed_by = actor if isinstance(actor, User) else None
    commitment = notify_commit.sign(
        ctx.session,
        ctx.instance,
        matter_code=str(params.get("matter_code") or ""),
        text=str(params.get("text") or ""),
        signer_name=str(params.get("signer_name") or ""),
        sign_round=int(params.get("sign_round") or 1),
        verification_days=int(params.get("verification_days") or 0)
        or notify_commit.DEFAULT_VERIFICATION_DAYS,
        signed_by=signed_by or notify_commit.signer_user(ctx.session, ctx.instance),
    )
    return {
        "id": commitment.id,
        "sha256": commitment.text_sha256,
        "signer_name": commitment.signer_name,
        "signed_at": commitment.signed_at.isoformat(),
        "due_on": commitment.due_on.isoformat() if commitment.due_on else None,
    }


@handler("commitments.close_notify", label=_l("结束本轮告知承诺（已履行或撤回）"))
def close_notify(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Close the current commitment. params: `status` (fulfilled | withdrawn), `note`, `late`."""
    status = str(params.get("status") or "")
    if status not in ("fulfilled", "withdrawn"):
        raise ValueError(f"commitments.close_notify: unsupported status {status!r}")
    return notify_commit.close(
        ctx.session,
        ctx.instance,
        status=status,
        note=str(params.get("note") or ""),
        late=_flag(params.get("late")),
    )


@handler("notify_commit.record_decision", label=_l("记录审批决定"))
def record_decision(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: `decision` (approve | reject), `opinion`, `escalated`, `verification_due`."""
    return notify_commit.record_decision(
        ctx.session,
        ctx.instance,
        decision=str(params.get("decision") or ""),
        opinion=str(params.get("opinion") or ""),
        escalated=_flag(params.get("escalated")),
        verification_due=params.get("verification_due"),
    )


@handler("notify_commit.sample_verification", label=_l("按抽查规则决定是否事后核查"))
def sample_verification(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: `rate` and `rule` from the sampling DMN → {"sampled", "draw", "rate", …}."""
    return notify_commit.sample_verification(
        ctx.session, ctx.instance, rate=params.get("rate"), rule=str(params.get("rule") or "")
    )


@handler("notify_commit.notify_staff", label=_l("提醒或督办工作人员"))
def notify_staff(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: `event`, `lane`, `department`, `due` (reminders and escalations)."""
    return notify_commit.notify_staff(
        ctx.session,
        ctx.instance,
        event=str(params.get("event") or "notice"),
        lane=str(params.get("lane") or ""),
        department=str(params.get("department") or ""),
        due=params.get("due"),
    )


@handler("notify_commit.revoke_approval", label=_l("撤销审批决定（附理由）"))
def revoke_approval(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: `opinion`, `method`, `escalated` → the revocation with its Chinese reason."""
    return notify_commit.revoke_approval(
        ctx.session,
        ctx.instance,
        opinion=str(params.get("opinion") or ""),
        method=str(params.get("method") or ""),
        escalated=_flag(params.get("escalated")),
    )


@handler(
    "notify_commit.flag_false_commitment", label=_l("标注主体作出虚假承诺（修复前不适用简化程序）")
)
def flag_false_commitment(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """Mark the subject `false_commitment=True` (excluded from simplified routes until repair)."""
    return notify_commit.flag_false_commitment(ctx.session, ctx.instance)


@handler("notify_commit.record_outcome", label=_l("记录办理结果"))
def record_outcome(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: `outcome`, `reason` → instance summary and history."""
    return notify_commit.record_outcome(
        ctx.session,
        ctx.instance,
        outcome=str(params.get("outcome") or ""),
        reason=str(params.get("reason") or ""),
    )
