"""违诺处置与反馈闭环 (DOMAIN §2.5): open a case, record the breach, feed back, close the loop.

The loop of `commitment_breach`:

1. a breach is reported (message `commitment_breached` from verification or a 容缺 deadline,
   or an approver starts a case) → :func:`open_case` checks it and refuses duplicates;
2. the originating department confirms or dismisses it (:func:`dismiss_case`);
3. a confirmed breach becomes a 失信信息 record in the subject's credit file, with its
   publication periods from the rule table (:func:`record_breach`); the subject loses
   notify-and-commit and 容缺 until repair (flag ``open_breach``, DOMAIN §2.2, §5);
4. the originating department is told (:func:`department_feedback`);
5. the loop closes when the record is repaired, deleted or expires
   (:func:`close_loop_for_record`, called by credit_repair and objection_handling).

:func:`loop_metrics` measures the loop: commitments made, fulfilled on time, fulfilled late,
breached and repaired in a period.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
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
    CreditRecord,
    Department,
    InstanceStatus,
    Matter,
    OutboxEvent,
    ProcessInstance,
    RecordStatus,
    RecordType,
    Role,
    Subject,
    User,
)
from app.rules.routing import Route
from app.services import audit, commitments
from app.services.records import apply_publication_rules
from app.services.values import as_int

PROCESS_KEY = "commitment_breach"
TIMEZONE = ZoneInfo("Asia/Shanghai")
BREACH_PLATFORMS = ["creditchina", "local_platform"]
# A breach record in these states still excludes the subject (DOMAIN §2.2: "until repair").
OPEN_RECORD_STATUSES = (
    RecordStatus.PUBLISHED.value,
    RecordStatus.UNDER_OBJECTION.value,
    RecordStatus.CORRECTED.value,
)
# These end the exclusion: repaired (credit_repair), deleted (objection), expired (max period).
CLOSING_RECORD_STATUSES = (
    RecordStatus.REPAIRED.value,
    RecordStatus.DELETED.value,
    RecordStatus.EXPIRED.value,
)
# Commitments a breach case may be opened on (the source may already have marked it breached).
BREACHABLE = (CommitmentStatus.OPEN.value, CommitmentStatus.BREACHED.value)
LOOP_KINDS = (CommitmentKind.NOTIFY_COMMIT.value, CommitmentKind.RONGQUE.value)
_FINISHED_CASE = (InstanceStatus.COMPLETED.value, InstanceStatus.TERMINATED.value)

KIND_LABELS = {
    CommitmentKind.NOTIFY_COMMIT.value: N_("告知承诺"),
    CommitmentKind.RONGQUE.value: N_("容缺受理承诺"),
    CommitmentKind.REPAIR.value: N_("信用修复承诺"),
}
STATUS_LABELS = {
    CommitmentStatus.OPEN.value: N_("待履行"),
    CommitmentStatus.FULFILLED.value: N_("已按期履行"),
    CommitmentStatus.FULFILLED_LATE.value: N_("逾期履行"),
    CommitmentStatus.BREACHED.value: N_("违诺"),
    CommitmentStatus.WITHDRAWN.value: N_("已撤回"),
    CommitmentStatus.REPAIRED.value: N_("违诺已修复"),
}
LEGAL_BASIS = {
    CommitmentKind.NOTIFY_COMMIT.value: (
        "《国务院办公厅关于全面推行证明事项和涉企经营许可事项告知承诺制的指导意见》"
        "（国办发〔2020〕42号）；沪府办规〔2020〕9号"
    ),
    CommitmentKind.RONGQUE.value: (
        "《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》"
        "（国办发〔2019〕35号）"
    ),
}
DECISION_NO_PREFIX = "违诺认定"
_DECISION_NO = re.compile(r"^违诺认定〔(\d{4})〕(\d+)号$")


# --- 1. opening a case --------------------------------------------------------------------


def _refused(status: str, reason: str, report: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": status,
        "reason": reason,
        "commitment_id": report["commitment_id"],
        "breach_reason": report["reason"],
        "source_process": report.get("source_process"),
        "source_instance_id": report.get("source_instance_id"),
    }


def read_report(message: Any, fallback: dict[str, Any]) -> dict[str, Any]:
    """The breach report: the message payload, falling back to the instance's start data."""
    message = message if isinstance(message, dict) else {}
    fields = ("commitment_id", "reason", "subject_uscc", "source_process", "source_instance_id")
    report = {name: message.get(name, fallback.get(name)) for name in fields}
    report["commitment_id"] = as_int(report["commitment_id"])
    report["source_instance_id"] = as_int(report["source_instance_id"])
    report["reason"] = str(report["reason"] or "").strip()[:1000]
    return report


def originating_department(session: Session, commitment: Commitment) -> Department | None:
    """The department that took the commitment: its own, or the matter's (谁认定)."""
    if commitment.department_id is not None:
        return session.get(Department, commitment.department_id)
    if commitment.matter_id is not None:
        matter = session.get(Matter, commitment.matter_id)
        return matter.department if matter else None
    return None


def _lock_commitment(session: Session, commitment_id: int) -> Commitment | None:
    return session.scalar(
        select(Commitment)
        .where(Commitment.id == commitment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _duplicate_of(
    session: Session, commitment: Commitment, instance: ProcessInstance
) -> str | None:
    """Why a new case on this commitment would duplicate another one, if it would."""
    details = commitment.details or {}
    record_id = details.get("breach_record_id")
    record = session.get(CreditRecord, record_id) if record_id else None
    if record is not None and record.status in OPEN_RECORD_STATUSES:
        if (record.extra or {}).get("instance_id") != instance.id:
            return N_("承诺 #%(id)s 已认定违诺（%(no)s），不重复处置。") % {
                "id": commitment.id,
                "no": record.decision_no,
            }
    case = details.get("breach_case") or {}
    other_id = case.get("instance_id")
    if other_id and other_id != instance.id and case.get("state") == "open":
        other = session.get(ProcessInstance, other_id)
        if other is not None and other.status not in _FINISHED_CASE:
            return N_(
                "承诺 #%(id)s 已有正在办理的违诺处置（流程实例 #%(other)s），不重复处置。"
            ) % {"id": commitment.id, "other": other_id}
    return None


def _check_report(
    session: Session, instance: ProcessInstance, report: dict[str, Any]
) -> tuple[Commitment | None, str | None]:
    """The commitment the report names, or the reason the report is invalid."""
    starter = session.get(User, instance.started_by_id) if instance.started_by_id else None
    if starter is not None and starter.role == Role.ENTERPRISE:
        return None, N_("违诺处置由系统或审批部门发起，信用主体不能自行发起。")
    if report["commitment_id"] is None:
        return None, N_("缺少或无效的承诺编号（commitment_id）。")
    if not report["reason"]:
        return None, N_("请说明违诺事由（reason）。")
    commitment = _lock_commitment(session, report["commitment_id"])
    if commitment is None:
        return None, N_("承诺 #%(id)s 不存在。") % {"id": report["commitment_id"]}
    subject = session.get(Subject, commitment.subject_id)
    named = report.get("subject_uscc")
    if (named and named != subject.uscc) or (
        instance.subject_id is not None and instance.subject_id != subject.id
    ):
        return None, (
            N_("承诺 #%(id)s 属于%(name)s（%(uscc)s），与发起时指定的信用主体不一致。")
            % {"id": commitment.id, "name": subject.name, "uscc": subject.uscc}
        )
    if commitment.status not in BREACHABLE:
        label = STATUS_LABELS.get(commitment.status, commitment.status)
        return None, N_("承诺 #%(id)s 当前状态为「%(label)s」，不能认定违诺。") % {
            "id": commitment.id,
            "label": label,
        }
    return commitment, None


def open_case(
    session: Session, instance: ProcessInstance, message: Any, fallback: dict[str, Any]
) -> dict[str, Any]:
    """Check a breach report and open the case; status `ok`, `invalid` or `duplicate`."""
    report = read_report(message, fallback)
    commitment, problem = _check_report(session, instance, report)
    if commitment is None:
        return _log_refusal(session, instance, _refused("invalid", problem or "", report))
    subject = session.get(Subject, commitment.subject_id)
    instance.subject_id = subject.id  # the subject may follow its case (CONTRACT §5 scoping)
    department = originating_department(session, commitment) or _starter_department(
        session, instance
    )
    if department is None:
        reason = N_("无法确定承诺 #%(id)s 的认定部门（承诺和事项均未登记部门）。") % {
            "id": commitment.id
        }
        return _log_refusal(session, instance, _refused("invalid", reason, report))
    if instance.department_id is None:
        instance.department_id = department.id
    duplicate = _duplicate_of(session, commitment, instance)
    if duplicate:
        return _log_refusal(session, instance, _refused("duplicate", duplicate, report))
    case = _case_summary(session, commitment, subject, department, report)
    _remember_case(commitment, instance, report)
    audit.record(
        session,
        "breach.case_opened",
        object_type="process_instance",
        object_id=str(instance.id),
        details={"commitment_id": commitment.id, "reason": report["reason"]},
    )
    return case


def _starter_department(session: Session, instance: ProcessInstance) -> Department | None:
    starter = session.get(User, instance.started_by_id) if instance.started_by_id else None
    return starter.department if starter is not None else None


def _case_summary(
    session: Session,
    commitment: Commitment,
    subject: Subject,
    department: Department,
    report: dict[str, Any],
) -> dict[str, Any]:
    matter = session.get(Matter, commitment.matter_id) if commitment.matter_id else None
    return {
        "status": "ok",
        "reason": "",
        "commitment_id": commitment.id,
        "kind": commitment.kind,
        "kind_label": KIND_LABELS.get(commitment.kind, commitment.kind),
        "commitment_status": commitment.status,
        "due_on": commitment.due_on.isoformat() if commitment.due_on else None,
        "signed_at": commitment.signed_at.isoformat() if commitment.signed_at else None,
        "subject_uscc": subject.uscc,
        "subject_name": subject.name,
        "department": department.code,
        "department_name": department.name,
        "matter_code": matter.code if matter else None,
        "matter_name": matter.name if matter else None,
        "breach_reason": report["reason"],
        "source_process": report.get("source_process"),
        "source_instance_id": report.get("source_instance_id"),
    }


def _remember_case(commitment: Commitment, instance: ProcessInstance, report: dict) -> None:
    commitment.details = {
        **(commitment.details or {}),
        "breach_case": {
            "instance_id": instance.id,
            "state": "open",
            "reason": report["reason"],
            "source_process": report.get("source_process"),
            "source_instance_id": report.get("source_instance_id"),
        },
    }


def _set_case_state(commitment: Commitment, state: str, **extra: Any) -> None:
    details = dict(commitment.details or {})
    details["breach_case"] = {**(details.get("breach_case") or {}), "state": state}
    details.update(extra)
    commitment.details = details  # a new dict, so the JSON column is written


def _log_refusal(
    session: Session, instance: ProcessInstance, result: dict[str, Any]
) -> dict[str, Any]:
    audit.record(
        session,
        f"breach.case_{result['status']}",
        object_type="process_instance",
        object_id=str(instance.id),
        details={"commitment_id": result.get("commitment_id"), "reason": result["reason"]},
    )
    return result


# --- 2. dismissal -------------------------------------------------------------------------


def dismiss_case(
    session: Session, instance: ProcessInstance, commitment_id: int, opinion: str, on: date
) -> dict[str, Any]:
    """The department found no breach: the commitment goes back to `open` if it was marked."""
    commitment = _lock_commitment(session, commitment_id)
    if commitment is None:
        raise ValueError(f"commitment {commitment_id} not found")
    if commitment.status == CommitmentStatus.BREACHED:
        commitments.set_status(
            session,
            commitment.id,
            CommitmentStatus.OPEN.value,
            on,
            None,
            (N_("违诺不予认定：%(opinion)s") % {"opinion": opinion})[:500],
        )
    _set_case_state(commitment, "dismissed")
    _lift_unfounded_false_commitment(session, commitment)
    audit.record(
        session,
        "breach.dismissed",
        object_type="process_instance",
        object_id=str(instance.id),
        details={"commitment_id": commitment.id, "opinion": opinion},
    )
    return {"commitment_id": commitment.id, "commitment_status": commitment.status}


def _lift_unfounded_false_commitment(session: Session, commitment: Commitment) -> None:
    """notify_commit_approval flags a false commitment when it throws the breach; a dismissal
    finds no breach, so the flag goes unless a recorded false commitment still stands."""
    subject = session.get(Subject, commitment.subject_id)
    if commitment.kind != CommitmentKind.NOTIFY_COMMIT or not subject.false_commitment:
        return
    if any((r.extra or {}).get("false_commitment") for r in open_breach_records(session, subject)):
        return
    subject.false_commitment = False
    audit.record(
        session,
        "subject.false_commitment",
        object_type="subject",
        object_id=subject.uscc,
        details={"commitment_id": commitment.id, "value": False, "reason": N_("违诺不予认定")},
    )


# --- 3. the breach record -----------------------------------------------------------------


def next_decision_no(session: Session, year: int) -> str:
    """The next 文号 of the year: 违诺认定〔2026〕N号."""
    pattern = f"{DECISION_NO_PREFIX}〔{year}〕%号"
    numbers = [
        int(m.group(2))
        for no in session.scalars(
            select(CreditRecord.decision_no).where(CreditRecord.decision_no.like(pattern))
        )
        if (m := _DECISION_NO.match(no))
    ]
    return f"{DECISION_NO_PREFIX}〔{year}〕{max(numbers, default=0) + 1}号"


def breach_links(record: CreditRecord) -> dict[str, Any]:
    """The subject's rights on a breach record: object now, repair once the period has run."""
    return {
        "objection": {
            "label": N_("对违诺记录提出异议"),
            "method": "POST",
            "href": "/api/v1/process-instances",
            "body": {"process_key": "objection_handling", "data": {"record_id": record.id}},
            "available_from": record.decided_on.isoformat(),
            "note": N_("请选择异议理由（ground）并说明诉求（claim）。"),
        },
        "repair": {
            "label": N_("申请信用修复"),
            "method": "POST",
            "href": "/api/v1/process-instances",
            "body": {"process_key": "credit_repair", "data": {"record_ids": [record.id]}},
            "available_from": (
                record.repairable_from.isoformat() if record.repairable_from else None
            ),
            "note": N_("最短公示期届满后可申请信用修复。"),
        },
    }


@dataclass(frozen=True)
class Finding:
    """What the department decided, and the severity the rule table gave."""

    commitment_id: int
    department_code: str
    decided_on: date
    severity: str
    severity_rule: str
    severity_basis: str
    opinion: str = ""
    false_commitment: bool = False


def record_breach(session: Session, instance: ProcessInstance, finding: Finding) -> CreditRecord:
    """Write the breach record (idempotent per case), mark the commitment and the subject."""
    commitment = _lock_commitment(session, finding.commitment_id)
    if commitment is None:
        raise ValueError(f"commitment {finding.commitment_id} not found")
    existing = _record_of_case(session, commitment, instance)
    if existing is not None:
        return existing
    department = session.scalar(
        select(Department).where(Department.code == finding.department_code)
    )
    if department is None:
        raise ValueError(f"unknown department {finding.department_code!r}")
    subject = session.get(Subject, commitment.subject_id)
    if commitment.kind == CommitmentKind.NOTIFY_COMMIT and subject.false_commitment:
        # notify_commit_approval flags the false commitment itself before it throws the breach;
        # remember it on the record so that repairing this record lifts that flag too.
        finding = dataclasses.replace(finding, false_commitment=True)
    record = _new_record(session, instance, commitment, department, finding)
    commitments.set_status(
        session,
        commitment.id,
        CommitmentStatus.BREACHED.value,
        finding.decided_on,
        None,
        N_("违诺认定：%(no)s") % {"no": record.decision_no},
    )
    _set_case_state(
        commitment,
        "recorded",
        breach_record_id=record.id,
        breach_recorded_on=finding.decided_on.isoformat(),
    )
    subject.open_breach = True  # no notify-and-commit or 容缺 until repaired (DOMAIN §2.2, §5)
    if finding.false_commitment:
        subject.false_commitment = True
    _audit_record(session, instance, record, commitment)
    return record


def _record_of_case(
    session: Session, commitment: Commitment, instance: ProcessInstance
) -> CreditRecord | None:
    record_id = (commitment.details or {}).get("breach_record_id")
    record = session.get(CreditRecord, record_id) if record_id else None
    if record is not None and (record.extra or {}).get("instance_id") == instance.id:
        return record
    return None


def _new_record(
    session: Session,
    instance: ProcessInstance,
    commitment: Commitment,
    department: Department,
    finding: Finding,
) -> CreditRecord:
    case = (commitment.details or {}).get("breach_case") or {}
    matter = session.get(Matter, commitment.matter_id) if commitment.matter_id else None
    kind_label = KIND_LABELS.get(commitment.kind, commitment.kind)
    reason = case.get("reason") or ""
    record = CreditRecord(
        subject_id=commitment.subject_id,
        record_type=RecordType.BREACH_OF_COMMITMENT.value,
        severity=finding.severity,
        decision_no=next_decision_no(session, finding.decided_on.year),
        violation=f"违反{kind_label}：{matter.name if matter else '承诺事项'}"[:255],
        facts=f"{reason}\n认定意见：{finding.opinion}".strip(),
        legal_basis=LEGAL_BASIS.get(commitment.kind, LEGAL_BASIS["notify_commit"])[:255],
        penalty_types=["违诺记录"],
        department=department,
        authority=department.authority_name or department.name,
        decided_on=finding.decided_on,
        published_on=finding.decided_on,
        platforms=list(BREACH_PLATFORMS),
        status=RecordStatus.PUBLISHED.value,
        source=PROCESS_KEY,
    )
    apply_publication_rules(session, record)  # 失信信息: periods from the rule table (§1.1)
    session.add(record)
    session.flush()
    record.extra = {
        "commitment_id": commitment.id,
        "commitment_kind": commitment.kind,
        "instance_id": instance.id,
        "source_process": case.get("source_process"),
        "source_instance_id": case.get("source_instance_id"),
        "severity_rule": finding.severity_rule,
        "severity_basis": finding.severity_basis,
        "false_commitment": finding.false_commitment,
        "links": breach_links(record),
    }
    session.flush()
    return record


def _audit_record(
    session: Session, instance: ProcessInstance, record: CreditRecord, commitment: Commitment
) -> None:
    details = {
        "record_id": record.id,
        "decision_no": record.decision_no,
        "severity": record.severity,
        "rule_set": record.rule_set,
        "commitment_id": commitment.id,
    }
    for object_type, object_id in (("process_instance", instance.id), ("credit_record", record.id)):
        audit.record(
            session,
            "breach.recorded",
            object_type=object_type,
            object_id=str(object_id),
            details=details,
        )


def record_summary(record: CreditRecord) -> dict[str, Any]:
    """The small JSON the process keeps about its breach record."""
    return {
        "record_id": record.id,
        "decision_no": record.decision_no,
        "severity": record.severity,
        "decided_on": record.decided_on.isoformat(),
        "rule_set": record.rule_set,
        "repairable": record.repairable,
        "repairable_from": record.repairable_from.isoformat() if record.repairable_from else None,
        "public_until": record.public_until.isoformat() if record.public_until else None,
        "department": record.department.code,
        "links": (record.extra or {}).get("links") or breach_links(record),
    }


# --- 4. feedback to the originating department -------------------------------------------


def department_feedback(
    session: Session,
    *,
    instance_id: int | None,
    event: str,
    department_code: str,
    payload: dict[str, Any],
) -> OutboxEvent:
    """Tell the originating department (DOMAIN §2.5 step 4): a `notification` outbox row.

    Like the other processes' staff notices, it is for the notification channel of a later
    issue (mail / SMS / 政务 app, or the source system), never routed as a BPMN message.
    """
    row = OutboxEvent(
        instance_id=instance_id,
        kind="notification",
        name=event,
        payload={
            **payload,
            "event": event,
            "department": department_code,
            "process_key": PROCESS_KEY,
            "instance_id": instance_id,
        },
    )
    session.add(row)
    return row


# --- 5. closing the loop ------------------------------------------------------------------


def open_breach_records(
    session: Session, subject: Subject, *, excluding: int | None = None
) -> list[CreditRecord]:
    """The subject's breach records that still exclude it from simplified procedures."""
    query = select(CreditRecord).where(
        CreditRecord.subject_id == subject.id,
        CreditRecord.record_type == RecordType.BREACH_OF_COMMITMENT.value,
        CreditRecord.status.in_(OPEN_RECORD_STATUSES),
    )
    if excluding is not None:
        query = query.where(CreditRecord.id != excluding)
    return list(session.scalars(query.order_by(CreditRecord.decided_on, CreditRecord.id)))


def close_loop_for_record(
    session: Session, record: CreditRecord, on: date | None = None, actor: User | None = None
) -> bool:
    """Close the loop once a breach record is repaired, deleted or expired (idempotent).

    Clears the subject's `open_breach` (and `false_commitment`, when this record set it)
    unless another open breach record remains, moves the commitment to `repaired` (or back
    to `open` when the record was deleted as wrong), and tells the originating department.
    Returns False when there was nothing to do.
    """
    extra = dict(record.extra or {})
    if (
        record.record_type != RecordType.BREACH_OF_COMMITMENT
        or record.status not in CLOSING_RECORD_STATUSES
        or extra.get("loop_closed_on")
    ):
        return False
    on = on or clock.now().astimezone(TIMEZONE).date()
    subject = session.get(Subject, record.subject_id)
    remaining = open_breach_records(session, subject, excluding=record.id)
    subject.open_breach = bool(remaining)
    if extra.get("false_commitment"):
        subject.false_commitment = any((r.extra or {}).get("false_commitment") for r in remaining)
    commitment = session.get(Commitment, extra.get("commitment_id") or 0)
    if commitment is not None:
        _close_commitment(session, commitment, record, on, actor)
    record.extra = {**extra, "loop_closed_on": on.isoformat(), "loop_closed_by": record.status}
    department_feedback(
        session,
        instance_id=extra.get("instance_id"),
        event="breach_loop_closed",
        department_code=record.department.code,
        payload={
            "result": record.status,
            "record_id": record.id,
            "decision_no": record.decision_no,
            "commitment_id": extra.get("commitment_id"),
            "source_process": extra.get("source_process"),
            "source_instance_id": extra.get("source_instance_id"),
            "closed_on": on.isoformat(),
        },
    )
    audit.record(
        session,
        "breach.loop_closed",
        actor=actor,
        object_type="credit_record",
        object_id=str(record.id),
        details={"result": record.status, "open_breach": subject.open_breach},
    )
    return True


def _close_commitment(
    session: Session, commitment: Commitment, record: CreditRecord, on: date, actor: User | None
) -> None:
    note = f"{record.decision_no}：{record.status}"
    if record.status == RecordStatus.REPAIRED and commitment.status == CommitmentStatus.BREACHED:
        commitments.set_status(
            session, commitment.id, CommitmentStatus.REPAIRED.value, on, actor, note
        )
    elif record.status == RecordStatus.DELETED and commitment.status == CommitmentStatus.BREACHED:
        # The finding was wrong (objection → delete): the breach is annulled.
        commitments.set_status(session, commitment.id, CommitmentStatus.OPEN.value, on, actor, note)
    details = dict(commitment.details or {})
    details.update(loop_closed_on=on.isoformat(), loop_closed_by=record.status)
    if record.status == RecordStatus.DELETED:
        details["breach_annulled_on"] = on.isoformat()
    commitment.details = details


# --- routes -------------------------------------------------------------------------------


def route_citing_breaches(session: Session, subject: Subject) -> Route:
    """`route_for_subject`: the routing rules cite open breach records themselves."""
    return commitments.route_for_subject(session, subject)


# --- measuring the loop -------------------------------------------------------------------


@dataclass(frozen=True)
class LoopMetrics:
    """The loop in numbers for a period (DOMAIN §2.5, §3); dates are Asia/Shanghai days."""

    made: int  # commitments signed in the period
    fulfilled_on_time: int  # closed `fulfilled` in the period
    fulfilled_late: int  # closed `fulfilled_late` in the period
    breached: int  # breach found in the period (recorded, or marked by the source process)
    repaired: int  # breach record repaired in the period (loop closed by repair)

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def _in(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


def _iso_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _department_of(commitment: Commitment, matter_departments: dict[int, int]) -> int | None:
    if commitment.department_id is not None:
        return commitment.department_id
    return matter_departments.get(commitment.matter_id) if commitment.matter_id else None


def _loop_commitments(session: Session, department_code: str | None) -> list[Commitment]:
    rows = list(session.scalars(select(Commitment).where(Commitment.kind.in_(LOOP_KINDS))))
    if department_code is None:
        return rows
    department = session.scalar(select(Department).where(Department.code == department_code))
    if department is None:
        return []
    matters = dict(session.execute(select(Matter.id, Matter.department_id)).tuples().all())
    return [c for c in rows if _department_of(c, matters) == department.id]


def loop_metrics(
    session: Session, start: date, end: date, department_code: str | None = None
) -> LoopMetrics:
    """Commitments made, fulfilled on time, fulfilled late, breached and repaired in [start, end].

    A commitment counts for its originating department (its own, or its matter's). Breaches
    are counted on the day they were recorded (or marked by the source process); a breach
    later annulled by an objection is not counted; repairs on the day the loop closed.
    """
    made = on_time = late = breached = repaired = 0
    for commitment in _loop_commitments(session, department_code):
        details = commitment.details or {}
        signed = commitment.signed_at.astimezone(TIMEZONE).date() if commitment.signed_at else None
        made += _in(signed, start, end)
        status = commitment.status
        on_time += status == CommitmentStatus.FULFILLED and _in(commitment.closed_on, start, end)
        late += status == CommitmentStatus.FULFILLED_LATE and _in(commitment.closed_on, start, end)
        if status in (CommitmentStatus.BREACHED, CommitmentStatus.REPAIRED):
            found = _iso_day(details.get("breach_recorded_on")) or commitment.closed_on
            breached += _in(found, start, end)
        if status == CommitmentStatus.REPAIRED:
            closed = _iso_day(details.get("loop_closed_on")) or commitment.closed_on
            repaired += _in(closed, start, end)
    return LoopMetrics(made, on_time, late, breached, repaired)
