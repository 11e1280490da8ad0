"""Service-task handlers of `credit_repair` (信用修复"一件事"); domain logic in services.repair.

- `repair.check_eligibility`: every requested record, with a Chinese reason per refusal;
- `repair.sign_commitment`: the public 信用承诺书 (kind `repair`) plus a check of the proofs;
- `repair.apply_results`: merge the departments' decisions, repair approved records and queue
  one `repair_approved` platform event per record and target (pending in the outbox);
- `repair.notify_applicant`: queue the `repair_decided` notice to the applicant.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.engine import clock
from app.models import HumanTask, ProcessInstance, Subject, User
from app.services import audit, repair
from app.services.handlers import HandlerContext, handler
from app.services.host import SETTINGS
from app.services.process_handlers.common import platform_push


def _subject(ctx: HandlerContext) -> Subject | None:
    instance = ctx.instance
    return ctx.session.get(Subject, instance.subject_id) if instance.subject_id else None


def _require_subject(ctx: HandlerContext) -> Subject:
    subject = _subject(ctx)
    if subject is None:
        raise ValueError("credit_repair needs the applicant's credit subject")
    return subject


def _day(value: Any) -> date:
    """A date parameter (ISO), or today on the engine clock in the deployment's time zone."""
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
    return clock.now().astimezone(ZoneInfo(SETTINGS.timezone)).date()


def _history(ctx: HandlerContext, action: str, details: dict[str, Any]) -> None:
    """An entry in the instance's history (shown to participants with the instance)."""
    audit.record(
        ctx.session,
        action,
        object_type="process_instance",
        object_id=str(ctx.instance.id),
        details=details,
    )


@handler("repair.check_eligibility", label=_l("逐条审查记录是否符合修复条件"))
def check_eligibility(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: record_ids (start data), application_date, policy (from the policy DMN)."""
    on = _day(params.get("application_date"))
    policy = repair.Policy.from_params(params.get("policy"))
    result = repair.check_eligibility(
        ctx.session, _subject(ctx), params.get("record_ids"), on, policy, ctx.instance.id
    )
    _history(
        ctx,
        "repair.eligibility",
        {
            "application_date": on,
            "policy_version": policy.version,
            "eligible_ids": result["eligible_ids"],
            "refusal_reasons": result["refusal_reasons"],
        },
    )
    return result


def _signer(ctx: HandlerContext, subject: Subject) -> User | None:
    """Who signed: the holder of the submit task, else the enterprise user who applied."""
    instance: ProcessInstance = ctx.instance
    assignee = ctx.session.scalar(
        select(HumanTask.assignee_id).where(
            HumanTask.instance_id == instance.id,
            HumanTask.bpmn_id == "submit_application",
            HumanTask.state == "ready",
        )
    )
    user = ctx.session.get(User, assignee or instance.started_by_id or 0)
    return user if user is not None and user.subject_id == subject.id else None


@handler("repair.sign_commitment", label=_l("签署信用修复承诺书并核对证明材料"))
def sign_commitment(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: agree, signer_name, record_ids (eligible), proofs, agent_authorization."""
    if params.get("agree") is not True:
        raise ValueError("the commitment was not agreed to (the form requires agree = true)")
    subject = _require_subject(ctx)
    records = repair.records_of(ctx.session, subject, params.get("record_ids") or [])
    commitment, created = repair.sign_commitment(
        ctx.session,
        subject=subject,
        records=records,
        signer_name=str(params.get("signer_name") or ""),
        signed_by=_signer(ctx, subject),
        instance_id=ctx.instance.id,
        details={
            "proofs": params.get("proofs") or [],
            "agent_authorization": params.get("agent_authorization"),
        },
    )
    problems = repair.proof_problems(
        ctx.session,
        ctx.instance.id,
        records,
        params.get("proofs"),
        params.get("agent_authorization"),
    )
    _history(
        ctx,
        "repair.submitted",
        {"commitment_id": commitment.id, "new_commitment": created, "proof_problems": problems},
    )
    return {
        "commitment_id": commitment.id,
        "sha256": commitment.text_sha256,
        "signed_at": commitment.signed_at.isoformat(),
        "proof_problems": problems,
    }


@handler("repair.apply_results", label=_l("执行各认定单位的修复决定"))
def apply_results(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: record_ids (eligible), department_results (one per finding department)."""
    subject = _require_subject(ctx)
    on = _day(params.get("decided_on"))
    records = repair.records_of(ctx.session, subject, params.get("record_ids") or [])
    merged = repair.merge_results(records, params.get("department_results"))
    results, newly = repair.apply_results(
        ctx.session, instance_id=ctx.instance.id, subject=subject, results=merged, on=on
    )
    for record in newly:
        platform_push(
            ctx,
            {
                "event": "repair_approved",
                "payload": repair.push_payload(record, ctx.instance.id),
                "targets": repair.repair_targets(record),
            },
        )
    outcome = repair.outcome_of(results)
    _history(ctx, "repair.decided", {"outcome": outcome, "results": results})
    return {
        "outcome": outcome,
        "outcome_label": repair.OUTCOME_LABELS[outcome],
        "results": results,
        "repaired_ids": [r["record_id"] for r in results if r["decision"] == "approved"],
        "document_context": repair.decision_context(subject, results, outcome, on),
    }


@handler("repair.notify_applicant", label=_l("通知申请人修复结果"))
def notify_applicant(ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    """params: outcome, results → one pending `repair_decided` notification in the outbox."""
    event = repair.notify_applicant(
        ctx.session,
        instance_id=ctx.instance.id,
        subject=_require_subject(ctx),
        outcome=str(params.get("outcome") or ""),
        results=params.get("results"),
    )
    return {"notified": "repair_decided", "outbox_id": event.id}
