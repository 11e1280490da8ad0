"""Objections to credit records (信用信息异议, DOMAIN §4): accept, flag, forward, decide, close.

The process `objection_handling` calls these through its service-task handlers
(`app/services/process_handlers/objection_handling.py`); they are plain functions so they
can be tested and reused without the engine. Each works inside the caller's transaction and
never commits.

The objection in progress lives on the record: `record.extra["objection"]` holds the
instance, ground, claim, the status to restore, the acceptance time and, as the case moves
on, the forwarding, the extension, the escalation and the outcome. Earlier objections move to
`record.extra["objection_history"]` when a new one is accepted. An `unconfirmable` outcome
also leaves `record.extra["objection_annotation"]`: the objection and the check result shown
with the record (征信业管理条例 §25; DOMAIN §4.2).

Time limits are not here: they come from the DMN table `objection_handling__time_limits`
(by locality and receipt date). `LOCALITY` names the deployment's locality for that table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import N_
from app.models import CreditRecord, ProcessInstance, RecordStatus, RecordType, Severity
from app.services import audit, breaches
from app.services.errors import InvalidInputError
from app.services.records import apply_publication_rules
from app.services.values import as_int

LOCALITY = "shanghai"  # our default (DOMAIN §4.1); the DMN table holds the limits per locality
TIMEZONE = ZoneInfo("Asia/Shanghai")

GROUND_LABELS = {
    "wrong_info": N_("信息错误或不完整、公示期限错误"),
    "expired": N_("公示期限届满后仍在公示"),
    "not_listable": N_("不符合列入严重失信主体名单的条件，或应移出而未移出"),
    "privacy": N_("信息的归集或使用侵犯商业秘密、个人隐私"),
    "repair_result": N_("对信用修复结果有异议"),
}
OUTCOME_LABELS = {
    "correct": N_("更正"),
    "delete": N_("删除（停止公示）"),
    "uphold": N_("维持"),
    "unconfirmable": N_("无法确认"),
    "rejected": N_("不予受理（不属于异议受理范围）"),
}
STATUS_LABELS = {
    RecordStatus.PUBLISHED: N_("公示中"),
    RecordStatus.UNDER_OBJECTION: N_("异议处理中"),
    RecordStatus.REPAIRED: N_("已修复"),
    RecordStatus.CORRECTED: N_("已更正"),
    RecordStatus.DELETED: N_("已删除"),
    RecordStatus.EXPIRED: N_("已届满"),
}
OBJECTABLE = (RecordStatus.PUBLISHED, RecordStatus.REPAIRED, RecordStatus.CORRECTED)
CORRECTABLE = ("violation", "facts", "legal_basis", "penalty_content", "decided_on", "severity")
REPAIR_SYNC_TARGETS = ["creditchina", "gsxt", "local_platform", "credit_agencies"]
# Outcomes that refuse what the applicant asked for: the notice must carry written reasons.
REFUSALS = ("uphold", "unconfirmable", "rejected")


def objection_no(instance_id: int, accepted_at: datetime) -> str:
    """The objection's number as shown to the applicant, e.g. YY-2026-000321."""
    return f"YY-{accepted_at.astimezone(TIMEZONE).year}-{instance_id:06d}"


def _refuse(session: Session, instance: ProcessInstance, reason: str) -> dict[str, Any]:
    audit.record(
        session,
        "objection.refused",
        object_type="process_instance",
        object_id=str(instance.id),
        details={"reason": reason},
    )
    return {"ok": False, "reason": reason}


def _locked_record(session: Session, record_id: int) -> CreditRecord | None:
    return session.scalar(
        select(CreditRecord)
        .where(CreditRecord.id == record_id)
        .with_for_update(of=CreditRecord)
        .execution_options(populate_existing=True)
    )


def _input_problem(ground: Any, claim: Any, record_id: int | None) -> str | None:
    if ground not in GROUND_LABELS:
        allowed = "、".join(f"{k}（{v}）" for k, v in GROUND_LABELS.items())
        return N_("异议理由 %(ground)s 无效。请选择：%(allowed)s。") % {
            "ground": repr(ground),
            "allowed": allowed,
        }
    if not isinstance(claim, str) or len(claim.strip()) < 2:
        return N_("请填写异议内容：说明记录哪里有误以及理由。")
    if len(claim) > 2000:
        return N_("异议内容过长（最多 2000 字），请精简后重新提出。")
    if record_id is None:
        return N_("请指定要提出异议的信用记录（record_id）。")
    return None


def _status_problem(record: CreditRecord, ground: str) -> str | None:
    values = {"no": record.decision_no, "label": STATUS_LABELS.get(record.status, record.status)}
    if record.status == RecordStatus.UNDER_OBJECTION:
        return (
            N_("信用记录 %(no)s 已有异议正在处理（异议处理中），不能重复提出；请等待处理结果。")
            % values
        )
    if record.status not in OBJECTABLE:
        return N_("信用记录 %(no)s 当前状态为“%(label)s”，已不再公示，无需提出异议。") % values
    if ground == "repair_result" and record.status != RecordStatus.REPAIRED:
        return (
            N_(
                "信用记录 %(no)s 没有信用修复结果（当前状态：%(label)s），"
                "不能以“对信用修复结果有异议”为由提出异议；请选择其他异议理由。"
            )
            % values
        )
    return None


def flag_targets(record: CreditRecord) -> list[str]:
    """Where the record is shown: its platforms plus the local platform."""
    return list(dict.fromkeys([*(record.platforms or []), "local_platform"]))


def accept(
    session: Session,
    instance: ProcessInstance,
    *,
    record_id: Any,
    ground: Any,
    claim: Any,
    at: datetime,
) -> dict[str, Any]:
    """Check the objection and flag the record `under_objection` at once (DOMAIN §4).

    Refusals end with `{"ok": False, "reason": ...}`. A record that does not exist and a
    record of another subject get the same answer, so nothing about other subjects leaks.
    Repeating the call for the same instance returns the same acceptance.
    """
    if instance.subject_id is None:
        return _refuse(
            session,
            instance,
            N_("异议须由信用主体就本企业的信用记录提出，本申请未关联信用主体。"),
        )
    rid = as_int(record_id)
    problem = _input_problem(ground, claim, rid)
    if problem:
        return _refuse(session, instance, problem)
    assert rid is not None
    record = _locked_record(session, rid)
    if record is None or record.subject_id != instance.subject_id:
        return _refuse(
            session,
            instance,
            N_("未找到编号为 %(id)s 的本企业信用记录，请核对后重新提出。") % {"id": rid},
        )
    current = dict(record.extra or {}).get("objection") or {}
    if current.get("instance_id") == instance.id and current.get("acceptance"):
        return dict(current["acceptance"])  # a retry of this very step
    problem = _status_problem(record, str(ground))
    if problem:
        return _refuse(session, instance, problem)
    return _flag(session, instance, record, str(ground), str(claim).strip(), at)


def _flag(
    session: Session,
    instance: ProcessInstance,
    record: CreditRecord,
    ground: str,
    claim: str,
    at: datetime,
) -> dict[str, Any]:
    local = at.astimezone(TIMEZONE)
    number = objection_no(instance.id, at)
    acceptance = {
        "ok": True,
        "reason": (
            N_("已受理对信用记录 %(no)s 的异议（%(number)s），该记录已标注“异议处理中”。")
            % {"no": record.decision_no, "number": number}
        ),
        "objection_no": number,
        "record_id": record.id,
        "decision_no": record.decision_no,
        "record_type": record.record_type,
        "department": record.department.code,
        "authority": record.authority or record.department.authority_name,
        "previous_status": record.status,
        "ground": ground,
        "ground_label": GROUND_LABELS[ground],
        "accepted_at": local.isoformat(),
        "received_on": local.date().isoformat(),
        "locality": LOCALITY,
        "sync_targets": flag_targets(record),
        "sync_payload": {
            "record_id": record.id,
            "decision_no": record.decision_no,
            "status": RecordStatus.UNDER_OBJECTION.value,
            "objection_no": number,
        },
    }
    extra = dict(record.extra or {})
    previous = extra.get("objection")
    if previous:
        extra["objection_history"] = [*extra.get("objection_history", []), previous]
    extra["objection"] = {
        "instance_id": instance.id,
        "objection_no": number,
        "ground": ground,
        "claim": claim,
        "previous_status": record.status,
        "accepted_at": local.isoformat(),
        "state": "pending",
        "acceptance": acceptance,
    }
    record.extra = extra
    record.status = RecordStatus.UNDER_OBJECTION.value
    audit.record(
        session,
        "objection.accepted",
        object_type="credit_record",
        object_id=str(record.id),
        details={"instance_id": instance.id, "objection_no": number, "ground": ground},
    )
    return acceptance


def _pending(session: Session, instance_id: int, record_id: Any) -> tuple[CreditRecord, dict]:
    """The record and its objection of this instance (an inconsistency is an incident)."""
    record = _locked_record(session, int(record_id))
    objection = dict((record.extra or {}).get("objection") or {}) if record else {}
    if record is None or objection.get("instance_id") != instance_id:
        raise ValueError(f"信用记录 {record_id} 上没有本流程实例（{instance_id}）的异议")
    return record, objection


def _update(record: CreditRecord, objection: dict[str, Any]) -> None:
    record.extra = {**(record.extra or {}), "objection": objection}


def forward(
    session: Session, instance_id: int, record_id: Any, *, at: datetime, auto: bool = False
) -> dict[str, Any]:
    """Forward the objection to the department that provided the record (谁认定、谁核实)."""
    record, objection = _pending(session, instance_id, record_id)
    if not objection.get("forwarded_at"):
        objection["forwarded_at"] = at.astimezone(TIMEZONE).isoformat()
        objection["forwarded_to"] = record.department.code
        objection["forwarded_automatically"] = bool(auto)
        _update(record, objection)
        audit.record(
            session,
            "objection.forwarded",
            object_type="credit_record",
            object_id=str(record.id),
            details={"instance_id": instance_id, "to": record.department.code, "auto": auto},
        )
    return {
        "department": objection["forwarded_to"],
        "authority": record.authority or record.department.authority_name,
        "forwarded_at": objection["forwarded_at"],
        "automatically": objection["forwarded_automatically"],
    }


def extend(
    session: Session, instance_id: int, record_id: Any, *, reason: str, due: str
) -> dict[str, Any]:
    """Record the one extension the provider may take, with its reason and new deadline."""
    record, objection = _pending(session, instance_id, record_id)
    if not (reason or "").strip():
        raise ValueError(N_("延期须说明理由"))
    if not objection.get("extension"):
        objection["extension"] = {"reason": reason.strip(), "due": due}
        _update(record, objection)
        audit.record(
            session,
            "objection.extended",
            object_type="credit_record",
            object_id=str(record.id),
            details={"instance_id": instance_id, "reason": reason.strip(), "due": due},
        )
    return dict(objection["extension"])


def escalate(session: Session, instance_id: int, record_id: Any, *, at: datetime) -> dict:
    """Note that the provider missed its deadline and the leader now decides."""
    record, objection = _pending(session, instance_id, record_id)
    if not objection.get("escalated_at"):
        objection["escalated_at"] = at.astimezone(TIMEZONE).isoformat()
        _update(record, objection)
        audit.record(
            session,
            "objection.escalated",
            object_type="credit_record",
            object_id=str(record.id),
            details={"instance_id": instance_id, "department": record.department.code},
        )
    return {"escalated_at": objection["escalated_at"], "department": record.department.code}


def close(
    session: Session,
    instance_id: int,
    record_id: Any,
    *,
    outcome: str,
    opinion: str,
    corrected: dict[str, Any] | None,
    check: dict[str, Any],
    limits: dict[str, Any],
    at: datetime,
) -> dict[str, Any]:
    """Apply the outcome to the record (DOMAIN §4.2), clear the flag, return what to publish."""
    if outcome not in OUTCOME_LABELS:
        raise ValueError(f"未知的异议处理结果 {outcome!r}")
    record, objection = _pending(session, instance_id, record_id)
    if objection.get("result"):
        return dict(objection["result"])  # a retry of this very step
    if outcome in REFUSALS and not (opinion or "").strip():
        raise ValueError(N_("不予支持异议时必须写明理由"))
    changes = _apply(session, record, objection, outcome, corrected or {}, opinion, check)
    local = at.astimezone(TIMEZONE)
    objection.update(
        state="closed",
        outcome=outcome,
        opinion=opinion,
        check=check,
        decided_at=local.isoformat(),
        changes=changes,
    )
    result = _result(record, objection, changes, limits, local)
    objection["result"] = result
    _update(record, objection)
    audit.record(
        session,
        "objection.decided",
        object_type="credit_record",
        object_id=str(record.id),
        details={"instance_id": instance_id, "outcome": outcome, "status": record.status},
    )
    return result


def _apply(
    session: Session,
    record: CreditRecord,
    objection: dict[str, Any],
    outcome: str,
    corrected: dict[str, Any],
    opinion: str,
    check: dict[str, Any],
) -> dict[str, list[str | None]]:
    changes: dict[str, list[str | None]] = {}
    if outcome == "correct":
        changes = _correct(session, record, corrected)
        record.status = RecordStatus.CORRECTED.value
    elif outcome == "delete":
        record.status = RecordStatus.DELETED.value
        if record.record_type == RecordType.BREACH_OF_COMMITMENT:
            breaches.close_loop_for_record(session, record)
    else:  # uphold, unconfirmable, rejected: the flag goes, the record stays as it was
        record.status = objection.get("previous_status") or RecordStatus.PUBLISHED.value
    if outcome == "unconfirmable":
        record.extra = {
            **(record.extra or {}),
            "objection_annotation": {
                "objection_no": objection["objection_no"],
                "ground": objection["ground"],
                "claim": objection["claim"],
                "check_result": opinion,
                "platform_check": check,
                "note": N_(
                    "经信息提供单位核查，异议内容无法确认；异议申请与核查结果一并记载，"
                    "与该信用记录同时展示。"
                ),
            },
        }
    return changes


def _correct(
    session: Session, record: CreditRecord, corrected: dict[str, Any]
) -> dict[str, list[str | None]]:
    """Apply corrected fields; a new decision date or severity recomputes the periods."""
    changes: dict[str, list[str | None]] = {}
    for name in CORRECTABLE:
        value = corrected.get(name)
        if value in (None, ""):
            continue
        if name == "decided_on":
            value = date.fromisoformat(str(value))
        if name == "severity" and value not in {s.value for s in Severity}:
            raise ValueError(f"严重程度 {value!r} 无效")
        old = getattr(record, name)
        if old != value:
            setattr(record, name, value)
            changes[name] = [_text(old), _text(value)]
    if "decided_on" in changes or "severity" in changes:
        before = {k: _text(getattr(record, k)) for k in ("repairable_from", "public_until")}
        try:
            apply_publication_rules(session, record)
        except InvalidInputError:
            pass  # no rule for the corrected date: keep the periods, the department decides
        for key, old in before.items():
            if _text(getattr(record, key)) != old:
                changes[key] = [old, _text(getattr(record, key))]
    return changes


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _sync(record: CreditRecord, outcome: str, changes: dict) -> tuple[str, list[str], dict]:
    payload: dict[str, Any] = {
        "record_id": record.id,
        "decision_no": record.decision_no,
        "status": record.status,
    }
    if outcome == "correct":
        return "record_corrected", list(REPAIR_SYNC_TARGETS), {**payload, "changes": changes}
    if outcome == "delete":
        return "record_deleted", list(REPAIR_SYNC_TARGETS), payload
    return "record_flag_cleared", flag_targets(record), payload


def _result(
    record: CreditRecord,
    objection: dict[str, Any],
    changes: dict[str, Any],
    limits: dict[str, Any],
    decided: datetime,
) -> dict[str, Any]:
    outcome = objection["outcome"]
    event, targets, payload = _sync(record, outcome, changes)
    reasons = objection.get("opinion") or ""
    common = {
        "objection_no": objection["objection_no"],
        "record_id": record.id,
        "decision_no": record.decision_no,
        "outcome": outcome,
        "outcome_label": OUTCOME_LABELS[outcome],
        "status": record.status,
        "reasons": reasons,
    }
    document = {
        **common,
        "subject_uscc": record.subject.uscc,
        "subject_name": record.subject.name,
        "record_type": record.record_type,
        "violation": record.violation,
        "ground": objection["ground"],
        "ground_label": GROUND_LABELS[objection["ground"]],
        "claim": objection["claim"],
        "department": record.department.code,
        "authority": record.authority or record.department.authority_name,
        "received_at": objection["accepted_at"],
        "forwarded_at": objection.get("forwarded_at"),
        "extension": objection.get("extension"),
        "escalated_at": objection.get("escalated_at"),
        "decided_on": decided.date().isoformat(),
        "changes": changes,
        "refusal": outcome in REFUSALS,
        "platform_check": objection.get("check"),
        "limits": limits,
        "legal_basis": limits.get("source"),
    }
    return {
        **common,
        "sync_event": event,
        "sync_targets": targets,
        "sync_payload": payload,
        "document": document,
        "notice": {**common, "document_kind": "objection_result"},
    }
