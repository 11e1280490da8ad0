"""告知承诺制审批 (DOMAIN §2): the matter check, the 告知承诺书 text, signing, the window's
decision, deterministic verification sampling, closing, revocation and outcomes.

Plain service functions used by the handlers of `notify_commit_approval`
(`app/services/process_handlers/notify_commit_approval.py`); every one is idempotent for
its instance, so an operator's retry after an incident repeats nothing.

Verification sampling (事中事后核查抽查) is deterministic: the draw of an instance is
`sha256("notify_commit_approval:<instance id>")`, first 8 bytes as an integer divided by
2**64 (a number in [0, 1)); the instance is sampled when the draw is below the rate the DMN
table `notify_commit_approval__sampling.dmn` gives for the subject's tier on the approval date.
The draw, rate and rule version are stored on the commitment (`details["sampling"]`), so anyone
can recompute why a case was or was not verified.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.i18n import N_
from app.models import (
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    HumanTask,
    Matter,
    OutboxEvent,
    ProcessInstance,
    Role,
    Subject,
    User,
)
from app.services import audit, commitments
from app.services.calendar import add_working_days

PROCESS_KEY = "notify_commit_approval"
DEFAULT_VERIFICATION_DAYS = 40  # our default when a matter sets no 核查期限 (DOMAIN §2.4)
SIGN_TASK = "sign_commitment"

# What the applicant commits to (DOMAIN §2.3, right-hand column; 42号, Shenzhen §61).
COMMITMENT_WORDING = (
    "（一）本单位已经知晓审批部门告知的全部内容；\n"
    "（二）本单位符合审批部门告知的条件、标准和要求；\n"
    "（三）本单位提交的材料和填报的信息真实、准确、完整；\n"
    "（四）本单位愿意接受审批部门的事中事后核查，愿意承担不实承诺的法律责任。"
    "承诺不实的，审批部门可依法撤销行政决定，并将虚假承诺记入信用记录，"
    "在信用修复前不再适用告知承诺等简化程序。"
)
VERIFICATION_METHODS = {
    "written": N_("书面核查"),
    "online": N_("网络核验"),
    "on_site": N_("实地调查"),
}


def local_today() -> date:
    """Today in the deployment's time zone, on the engine clock (tests move it)."""
    from app.services.host import SETTINGS

    return clock.now().astimezone(ZoneInfo(SETTINGS.timezone)).date()


def _as_date(value: Any) -> date | None:
    """A date from an ISO date or datetime string (deadlines carry +08:00)."""
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value)
    if "T" not in text:
        return date.fromisoformat(text)
    from app.services.host import SETTINGS

    return datetime.fromisoformat(text).astimezone(ZoneInfo(SETTINGS.timezone)).date()


# --- the matter and the text to sign ---------------------------------------------------------


def commitment_text(matter: Matter, subject: Subject) -> str:
    """The exact 告知承诺书 the applicant signs: the agency's notice plus the commitment."""
    authority = matter.department.authority_name or matter.department.name
    basis = matter.legal_basis or "以事项目录公布的设定依据为准"
    return (
        "告知承诺书\n"
        f"事项名称：{matter.name}（事项编码 {matter.code}）\n"
        f"设定依据：{basis}\n"
        f"审批部门：{authority}\n"
        f"承诺人：{subject.name}（统一社会信用代码 {subject.uscc}）\n"
        "\n一、审批部门告知\n"
        f"{(matter.notice_text or '').strip()}\n"
        "\n二、申请人承诺\n"
        f"{COMMITMENT_WORDING}"
    )


def check_matter(session: Session, matter_code: Any, subject: Subject | None) -> dict[str, Any]:
    """Whether this matter can be applied for by notify-and-commit, with the texts to show.

    Never raises: an invalid start ends the process with `reason` (Chinese) for the applicant.
    """
    if subject is None:
        return {
            "ok": False,
            "reason": N_("告知承诺制审批须由企业（信用主体）发起，未找到申请主体。"),
        }
    code = matter_code.strip() if isinstance(matter_code, str) else ""
    if not code:
        return {"ok": False, "reason": N_("请从事项目录中选择要办理的事项（缺少 matter_code）。")}
    matter = session.scalar(select(Matter).where(Matter.code == code))
    if matter is None:
        return {
            "ok": False,
            "reason": N_("事项目录中没有编码为 %(code)s 的事项。") % {"code": code[:64]},
        }
    label = {"matter": matter.name, "code": code}
    if not matter.active:
        return {"ok": False, "reason": N_("事项「%(matter)s」（%(code)s）已停止办理。") % label}
    if not matter.notify_commit:
        return {
            "ok": False,
            "reason": N_("事项「%(matter)s」（%(code)s）不在告知承诺事项清单内，请按一般程序办理。")
            % label,
        }
    if not (matter.notice_text or "").strip():
        return {
            "ok": False,
            "reason": N_(
                "事项「%(matter)s」（%(code)s）尚未公布告知内容，暂不能以告知承诺方式办理。"
            )
            % label,
        }
    return {
        "ok": True,
        "reason": "",
        "code": matter.code,
        "name": matter.name,
        "department": matter.department.code,
        "department_name": matter.department.name,
        "verification_days": matter.verification_days or DEFAULT_VERIFICATION_DAYS,
        "notice_text": matter.notice_text,
        "commitment_text": commitment_text(matter, subject),
    }


# --- signing ----------------------------------------------------------------------------------


def instance_commitments(session: Session, instance_id: int) -> list[Commitment]:
    return list(
        session.scalars(
            select(Commitment)
            .where(
                Commitment.instance_id == instance_id,
                Commitment.kind == CommitmentKind.NOTIFY_COMMIT.value,
            )
            .order_by(Commitment.id)
        )
    )


def current_commitment(session: Session, instance_id: int) -> Commitment | None:
    """The commitment of the latest signing round of this instance."""
    found = instance_commitments(session, instance_id)
    return found[-1] if found else None


def signer_user(session: Session, instance: ProcessInstance) -> User | None:
    """Best knowledge of the account that is signing (handlers get no actor yet).

    The holder of the open signing task, else the enterprise account that started the
    instance when it belongs to the same subject.
    """
    task = session.scalar(
        select(HumanTask).where(
            HumanTask.instance_id == instance.id,
            HumanTask.bpmn_id == SIGN_TASK,
            HumanTask.state == "ready",
        )
    )
    if task is not None and task.assignee_id is not None:
        return session.get(User, task.assignee_id)
    starter = session.get(User, instance.started_by_id) if instance.started_by_id else None
    if (
        starter is not None
        and starter.role == Role.ENTERPRISE
        and starter.subject_id == instance.subject_id
    ):
        return starter
    return None


def sign(
    session: Session,
    instance: ProcessInstance,
    *,
    matter_code: str,
    text: str,
    signer_name: str,
    sign_round: int,
    verification_days: int,
    signed_by: User | None = None,
) -> Commitment:
    """Sign round `sign_round` of the instance (idempotent); an earlier round is superseded."""
    existing = instance_commitments(session, instance.id)
    for commitment in existing:
        if commitment.details.get("round") == sign_round:
            return commitment
    subject = session.get(Subject, instance.subject_id)
    matter = session.scalar(select(Matter).where(Matter.code == matter_code))
    if subject is None or matter is None:
        raise ValueError("signing needs the instance's subject and an existing matter")
    today = local_today()
    for earlier in existing:
        if earlier.status == CommitmentStatus.OPEN:
            commitments.set_status(
                session,
                earlier.id,
                CommitmentStatus.WITHDRAWN.value,
                today,
                note=N_("申请被退回后于第 %(round)s 轮重新签署，本承诺由新承诺替代。")
                % {"round": sign_round},
            )
    return commitments.sign(
        session,
        kind=CommitmentKind.NOTIFY_COMMIT.value,
        subject=subject,
        text=text,
        signer_name=signer_name,
        signed_by=signed_by,
        instance_id=instance.id,
        matter_id=matter.id,
        department_id=matter.department_id,
        # Expected verification deadline; reset from the decision date on approval.
        due_on=add_working_days(session, today, verification_days),
        details={
            "round": sign_round,
            "matter_code": matter.code,
            "signed_by_username": signed_by.username if signed_by else None,
        },
    )


def _merge_details(commitment: Commitment, **values: Any) -> None:
    commitment.details = {**(commitment.details or {}), **values}  # reassign: JSON column


def _merge_summary(instance: ProcessInstance, **values: Any) -> None:
    instance.summary = {**(instance.summary or {}), **values}


# --- decision, sampling, closing ------------------------------------------------------------


def record_decision(
    session: Session,
    instance: ProcessInstance,
    *,
    decision: str,
    opinion: str,
    escalated: bool = False,
    verification_due: Any = None,
) -> dict[str, Any]:
    """Record the window's (or, after the deadline, the leader's) decision."""
    if decision not in ("approve", "reject"):
        raise ValueError(f"unknown decision {decision!r}")
    commitment = current_commitment(session, instance.id)
    record = {
        "decision": decision,
        "opinion": opinion or "",
        "decided_on": local_today().isoformat(),
        "by": "leader" if escalated else "window",
    }
    if commitment is not None:
        if commitment.details.get("decision") == record["decision"]:
            return {"commitment_id": commitment.id, **commitment.details["decision_record"]}
        _merge_details(commitment, decision=decision, decision_record=record)
        due = _as_date(verification_due)
        if decision == "approve" and due is not None:
            commitment.due_on = due
    _merge_summary(instance, decision=record)
    audit.record(
        session,
        "notify_commit.decided",
        object_type="process_instance",
        object_id=str(instance.id),
        details={**record, "commitment_id": commitment.id if commitment else None},
    )
    return {"commitment_id": commitment.id if commitment else None, **record}


def sampling_draw(instance_id: int) -> float:
    """The instance's deterministic draw in [0, 1) (see the module docstring)."""
    digest = hashlib.sha256(f"{PROCESS_KEY}:{instance_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_sampled(rate: float, draw: float) -> bool:
    """Rate 1.0 always samples, 0 never; otherwise draw < rate."""
    return draw < rate


def sample_verification(
    session: Session, instance: ProcessInstance, *, rate: Any, rule: str
) -> dict[str, Any]:
    """Decide (once) whether this approval is verified; stored on the commitment."""
    commitment = current_commitment(session, instance.id)
    if commitment is not None and "sampling" in commitment.details:
        return dict(commitment.details["sampling"])
    try:
        value = min(max(float(rate), 0.0), 1.0)
    except (TypeError, ValueError):
        value = 1.0  # no usable rate: verify (the safe side)
    draw = sampling_draw(instance.id)
    result = {
        "rate": value,
        "rule": str(rule or ""),
        "draw": round(draw, 6),
        "sampled": is_sampled(value, draw),
        "on": local_today().isoformat(),
    }
    if commitment is not None:
        _merge_details(commitment, sampling=result)
    _merge_summary(instance, sampling=result)
    audit.record(
        session,
        "notify_commit.sampled",
        object_type="process_instance",
        object_id=str(instance.id),
        details=result,
    )
    return result


def close(
    session: Session, instance: ProcessInstance, *, status: str, note: str, late: bool = False
) -> dict[str, Any]:
    """Close the instance's current commitment: fulfilled (late after the deadline) or withdrawn.

    A missing commitment (withdrawn before signing) is a no-op.
    """
    commitment = current_commitment(session, instance.id)
    if commitment is None:
        return {"commitment_id": None, "status": None}
    today = local_today()
    if status == CommitmentStatus.FULFILLED and (
        late or (commitment.due_on is not None and today > commitment.due_on)
    ):
        status = CommitmentStatus.FULFILLED_LATE.value
    if commitment.status == CommitmentStatus.OPEN:
        commitments.set_status(session, commitment.id, status, today, note=note)
        _merge_details(commitment, closing_note=note)
    return {"commitment_id": commitment.id, "status": commitment.status}


def revoke_approval(
    session: Session, instance: ProcessInstance, *, opinion: str, method: str, escalated: bool
) -> dict[str, Any]:
    """A breached commitment: the approval is revoked (撤销行政决定) and the breach recorded."""
    commitment = current_commitment(session, instance.id)
    if commitment is None:
        raise ValueError("no commitment to revoke on this instance")
    if "revocation" in commitment.details:
        return {"commitment_id": commitment.id, **commitment.details["revocation"]}
    matter = session.get(Matter, commitment.matter_id) if commitment.matter_id else None
    method_label = VERIFICATION_METHODS.get(method, method or N_("核查"))
    name = matter.name if matter else commitment.details.get("matter_code", "")
    reason = N_("告知承诺事项「%(matter)s」经%(method)s，承诺内容不实：%(opinion)s") % {
        "matter": name,
        "method": method_label,
        "opinion": opinion or N_("未说明"),
    }
    today = local_today()
    revocation = {
        "revoked_on": today.isoformat(),
        "reason": reason,
        "method": method,
        "opinion": opinion or "",
        "by": "leader" if escalated else "inspector",
    }
    commitments.set_status(
        session, commitment.id, CommitmentStatus.BREACHED.value, today, note=reason
    )
    _merge_details(commitment, revocation=revocation)
    _merge_summary(instance, revocation=revocation, approval_revoked=True)
    audit.record(
        session,
        "notify_commit.approval_revoked",
        object_type="process_instance",
        object_id=str(instance.id),
        details={"commitment_id": commitment.id, **revocation},
    )
    from app.services import documents  # the decision document shows as revoked when verified

    documents.revoke_for_instance(session, instance.id, "notify_commit_decision", reason)
    return {"commitment_id": commitment.id, **revocation}


def flag_false_commitment(session: Session, instance: ProcessInstance) -> dict[str, Any]:
    """The subject made a false commitment: no notify-and-commit until repaired (DOMAIN §2.2)."""
    subject = session.get(Subject, instance.subject_id) if instance.subject_id else None
    if subject is None:
        raise ValueError("no subject to flag")
    if not subject.false_commitment:
        subject.false_commitment = True
        audit.record(
            session,
            "subject.false_commitment",
            object_type="subject",
            object_id=subject.uscc,
            details={"instance_id": instance.id, "process_key": PROCESS_KEY, "value": True},
        )
    return {"subject_uscc": subject.uscc, "false_commitment": True}


def notify_staff(
    session: Session,
    instance: ProcessInstance,
    *,
    event: str,
    lane: str,
    department: str,
    due: Any = None,
) -> dict[str, Any]:
    """A reminder or escalation notice for staff: an audit entry and a `notification` outbox row.

    The outbox row is for the notification channel (mail / SMS / 政务 app) of a later issue; it
    is not a BPMN message and is never routed by `deliver_outbox_messages`.
    """
    payload = {
        "event": event,
        "lane": lane,
        "department": department,
        "due": str(due) if due else None,
        "process_key": PROCESS_KEY,
        "instance_id": instance.id,
    }
    session.add(
        OutboxEvent(instance_id=instance.id, kind="notification", name=event, payload=payload)
    )
    audit.record(
        session,
        f"notify_commit.{event}",
        object_type="process_instance",
        object_id=str(instance.id),
        details=payload,
    )
    return {"event": event, "lane": lane, "department": department}


def record_outcome(
    session: Session, instance: ProcessInstance, *, outcome: str, reason: str
) -> dict[str, Any]:
    """The result the applicant sees: on the instance summary and in its history."""
    if (instance.summary or {}).get("outcome") == outcome:
        return {"outcome": outcome, "reason": instance.summary.get("outcome_reason", "")}
    _merge_summary(instance, outcome=outcome, outcome_reason=reason)
    audit.record(
        session,
        "notify_commit.outcome",
        object_type="process_instance",
        object_id=str(instance.id),
        details={"outcome": outcome, "reason": reason},
    )
    return {"outcome": outcome, "reason": reason}
