"""One-stop credit repair (信用修复"一件事", DOMAIN §1): eligibility, commitment, results.

Plain service functions used by the `credit_repair` process handlers
(`app/services/process_handlers/credit_repair.py`); every refusal reason is Chinese and cites
the record (决定书文号) and the rule set that decided it.

Rules that change by effective date are not constants here: publication periods come from the
versioned `publication_rule` rows (via `app.rules.periods`), the re-application policy switches
(DOMAIN §1.6) from the DMN table `credit_repair__reapplication_policy` and the department time
limits from `credit_repair__review_limit`; the process passes their evaluated values in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import N_
from app.models import (
    Attachment,
    AuditEvent,
    Commitment,
    CommitmentKind,
    CreditRecord,
    InstanceStatus,
    OutboxEvent,
    ProcessInstance,
    RecordStatus,
    Subject,
    User,
)
from app.rules.periods import SEVERITY_LABELS, PeriodRule, add_months, scheme_for, select_rule
from app.services import audit, breaches, commitments
from app.services.records import load_rules

MAX_RECORDS = 20
PROOF_KIND = "履行义务证明"
AUTHORIZATION_KIND = "授权委托书"
REPAIR_TARGETS = ("creditchina", "gsxt", "local_platform", "credit_agencies")
TARGET_LABELS = {
    "creditchina": N_("信用中国"),
    "gsxt": N_("国家企业信用信息公示系统"),
    "local_platform": N_("地方公共信用信息平台"),
    "credit_agencies": N_("第三方信用服务机构"),
}
STATUS_LABELS = {
    RecordStatus.PUBLISHED.value: N_("公示中"),
    RecordStatus.UNDER_OBJECTION.value: N_("异议处理中"),
    RecordStatus.REPAIRED.value: N_("已修复"),
    RecordStatus.CORRECTED.value: N_("已更正"),
    RecordStatus.DELETED.value: N_("已删除"),
    RecordStatus.EXPIRED.value: N_("公示期满已停止公示"),
}
OUTCOME_LABELS = {
    "approved": N_("准予信用修复"),
    "partly_approved": N_("部分准予信用修复"),
    "rejected": N_("不予信用修复"),
    "refused": N_("不予受理"),
}
# The four named re-application switches of DOMAIN §1.6 (values come from the policy DMN).
POLICY_SWITCHES = {
    "serious_or_frequent_1y": N_("近1年内有严重失信行为或3次及以上较重失信行为的，不予修复"),
    "last_repair_1y": N_("距上次信用修复不足1年的，不予修复"),
    "two_repairs_5y": N_("5年内已修复2次的，不予修复"),
    "same_type_5y": N_("同一类失信行为5年内已修复过1次的，不予修复"),
}
_OPEN_INSTANCE_STATES = (
    InstanceStatus.RUNNING.value,
    InstanceStatus.SUSPENDED.value,
    InstanceStatus.ERROR.value,
)
_REPEAT_STATUSES = (
    RecordStatus.PUBLISHED.value,
    RecordStatus.UNDER_OBJECTION.value,
    RecordStatus.REPAIRED.value,
    RecordStatus.EXPIRED.value,
)


# --- eligibility (DOMAIN §1.1, §1.6) ---------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """The re-application switches in force on the application date (off by default)."""

    version: str
    switches: frozenset[str]

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> Policy:
        params = params or {}
        on = frozenset(name for name in POLICY_SWITCHES if params.get(name) is True)
        return cls(str(params.get("version") or "未配置"), on)


def parse_record_ids(value: Any) -> list[int] | None:
    """The requested ids (ints or digit strings, duplicates dropped), or None when malformed."""
    if not isinstance(value, list) or not value or len(value) > MAX_RECORDS:
        return None
    ids: list[int] = []
    for item in value:
        if isinstance(item, bool):
            return None
        if isinstance(item, str) and item.strip().isdigit():
            item = int(item.strip())
        if not isinstance(item, int) or item <= 0:
            return None
        if item not in ids:
            ids.append(item)
    return ids


def _refusal(reasons: list[str]) -> dict[str, Any]:
    return {
        "valid": False,
        "eligible": [],
        "eligible_ids": [],
        "eligible_count": 0,
        "refused": [],
        "refusal_reasons": reasons,
    }


def check_eligibility(
    session: Session,
    subject: Subject | None,
    record_ids: Any,
    on: date,
    policy: Policy,
    instance_id: int | None = None,
) -> dict[str, Any]:
    """Check every requested record; never raises for bad input (the process ends cleanly)."""
    if subject is None:
        return _refusal([N_("信用修复须由信用主体本身（企业账号）发起，本申请不予受理。")])
    ids = parse_record_ids(record_ids)
    if ids is None:
        return _refusal(
            [
                N_("申请数据不正确：record_ids 应为 1 至 %(max)s 个本主体信用记录编号的列表。")
                % {"max": MAX_RECORDS}
            ]
        )
    found = {
        r.id: r
        for r in session.scalars(
            select(CreditRecord).where(
                CreditRecord.id.in_(ids), CreditRecord.subject_id == subject.id
            )
        )
    }
    foreign = [i for i in ids if i not in found]
    if foreign:  # never say whether the record exists or whose it is
        listed = "、".join(str(i) for i in foreign)
        return _refusal(
            [
                N_(
                    "申请所列编号为 %(ids)s 的记录不存在或不属于本主体，整件申请不予受理。"
                    "请只选择本主体名下的信用记录后重新申请。"
                )
                % {"ids": listed}
            ]
        )
    rules = load_rules(session)
    pending = pending_applications(session, subject, instance_id)
    eligible, refused = [], []
    for record_id in ids:
        record = found[record_id]
        checks, reasons = _check_record(session, record, on, policy, rules)
        if record_id in pending and checks["published"]:
            reasons.append(
                N_("该记录已有正在办理的信用修复申请（办件 %(id)s），请勿重复申请。")
                % {"id": pending[record_id]}
            )
        if reasons:
            refused.append({**_record_brief(record), "checks": checks, "reasons": reasons})
        else:
            eligible.append({**_record_brief(record), "checks": checks})
    return {
        "valid": True,
        "application_date": on.isoformat(),
        "policy_version": policy.version,
        "eligible": eligible,
        "eligible_ids": [r["id"] for r in eligible],
        "eligible_count": len(eligible),
        "refused": refused,
        "refusal_reasons": [
            N_("记录 %(no)s：%(reason)s") % {"no": r["decision_no"], "reason": reason}
            for r in refused
            for reason in r["reasons"]
        ],
    }


def pending_applications(
    session: Session, subject: Subject, instance_id: int | None
) -> dict[int, int]:
    """Record id → the other open credit_repair application of this subject that holds it."""
    open_ids = [
        str(i)
        for i in session.scalars(
            select(ProcessInstance.id).where(
                ProcessInstance.process_key == "credit_repair",
                ProcessInstance.subject_id == subject.id,
                ProcessInstance.status.in_(_OPEN_INSTANCE_STATES),
                ProcessInstance.id != (instance_id or 0),
            )
        )
    ]
    if not open_ids:
        return {}
    held: dict[int, int] = {}
    for event in session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "repair.eligibility",
            AuditEvent.object_type == "process_instance",
            AuditEvent.object_id.in_(open_ids),
        )
    ):
        for record_id in (event.details or {}).get("eligible_ids") or []:
            held.setdefault(int(record_id), int(event.object_id))
    return held


def repair_targets(record: CreditRecord) -> list[str]:
    """The systems that must stop publishing and sharing the record (DOMAIN §1.5)."""
    gsxt = record.department.code == "samr" or "gsxt" in (record.platforms or [])
    return [t for t in REPAIR_TARGETS if t != "gsxt" or gsxt]


def _record_brief(record: CreditRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "decision_no": record.decision_no,
        "record_type": record.record_type,
        "severity": record.severity,
        "violation": record.violation,
        "department": record.department.code,
        "department_name": record.department.name,
        "authority": record.authority,
        "rule_set": record.rule_set or N_("未知"),
        "decided_on": _iso(record.decided_on),
        "repairable_from": _iso(record.repairable_from),
        "public_until": _iso(record.public_until),
        "targets": repair_targets(record),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def governing_rule(rules: Sequence[PeriodRule], record: CreditRecord) -> PeriodRule | None:
    """The publication rule in force on the decision date (as `records` applied it)."""
    scheme = scheme_for(record.department.code, record.record_type)
    for candidate in dict.fromkeys((scheme, "creditchina")):
        rule = select_rule(
            rules,
            scheme=candidate,
            record_type=record.record_type,
            severity=record.severity,
            sector=record.sector,
            procedure=record.procedure,
            on=record.decided_on,
        )
        if rule is not None:
            return rule
    return None


def _check_record(
    session: Session,
    record: CreditRecord,
    on: date,
    policy: Policy,
    rules: Sequence[PeriodRule],
) -> tuple[dict[str, Any], list[str]]:
    checks: dict[str, Any] = {
        "published": record.status == RecordStatus.PUBLISHED,
        "repairable": bool(record.repairable),
        "min_period_met": False,
        "obligations_discharged": None,  # confirmed with proof in the application form
        "reapplication_policy_ok": True,
    }
    if not checks["published"]:
        return checks, [_status_reason(record)]
    rule = governing_rule(rules, record)
    if not record.repairable or record.repairable_from is None:
        checks["repairable"] = False
        return checks, [_not_repairable_reason(record, rule)]
    reasons = []
    checks["min_period_met"] = record.repairable_from <= on
    if not checks["min_period_met"]:
        reasons.append(_period_reason(record, rule, on))
    policy_reasons = reapplication_refusals(session, record, on, policy)
    checks["reapplication_policy_ok"] = not policy_reasons
    return checks, reasons + policy_reasons


def _status_reason(record: CreditRecord) -> str:
    if record.status == RecordStatus.UNDER_OBJECTION:
        return N_("该记录正在异议处理中，异议办结后方可申请信用修复。")
    if record.status == RecordStatus.REPAIRED:
        repaired_on = (record.extra or {}).get("repaired_on") or N_("此前")
        return N_("该记录已于 %(day)s 完成信用修复并停止公示，无需重复申请。") % {
            "day": repaired_on
        }
    label = STATUS_LABELS.get(record.status, record.status)
    return N_("该记录当前状态为“%(label)s”，不在公示中，无需申请信用修复。") % {"label": label}


def _rule_citation(record: CreditRecord, rule: PeriodRule | None) -> str:
    if rule is None:
        return N_("规则集 %(rule_set)s") % {"rule_set": record.rule_set or N_("未知")}
    return N_("规则集 %(rule_set)s（%(source)s）") % {
        "rule_set": rule.rule_set,
        "source": rule.source,
    }


def _not_repairable_reason(record: CreditRecord, rule: PeriodRule | None) -> str:
    values = {"citation": _rule_citation(record, rule)}
    if rule is not None and rule.note:
        values["note"] = rule.note
        if not rule.published:
            return N_("依据%(citation)s：%(note)s，该类信息不予公示，无需申请信用修复。") % values
        return (
            N_("依据%(citation)s：%(note)s，该记录不属于可通过本平台申请信用修复的信息。") % values
        )
    if rule is not None and not rule.published:
        return N_("依据%(citation)s，该类信息不予公示，无需申请信用修复。") % values
    return N_("依据%(citation)s，该记录不属于可通过本平台申请信用修复的信息。") % values


def _period_reason(record: CreditRecord, rule: PeriodRule | None, on: date) -> str:
    severity = SEVERITY_LABELS.get(record.severity or "", "")
    months = (
        N_("最短公示期为 %(months)s 个月，") % {"months": rule.min_months}
        if rule and rule.min_months
        else ""
    )
    return N_(
        "依据%(citation)s，该%(severity)s失信记录%(months)s自处罚决定日 %(decided)s 起算，"
        "%(from)s 起方可申请信用修复；申请日 %(on)s 尚未届满。"
    ) % {
        "citation": _rule_citation(record, rule),
        "severity": severity,
        "months": months,
        "decided": record.decided_on.isoformat(),
        "from": record.repairable_from.isoformat() if record.repairable_from else N_("（未知）"),
        "on": on.isoformat(),
    }


def _subject_records(session: Session, record: CreditRecord) -> list[CreditRecord]:
    return list(
        session.scalars(
            select(CreditRecord).where(
                CreditRecord.subject_id == record.subject_id,
                CreditRecord.id != record.id,
                CreditRecord.status.in_(_REPEAT_STATUSES),
            )
        )
    )


def _repaired_on(record: CreditRecord) -> date | None:
    if record.status != RecordStatus.REPAIRED:
        return None
    value = (record.extra or {}).get("repaired_on")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def reapplication_refusals(
    session: Session, record: CreditRecord, on: date, policy: Policy
) -> list[str]:
    """Reasons from the re-application switches that are on (DOMAIN §1.6); [] when all off."""
    if not policy.switches:
        return []
    others = _subject_records(session, record)
    year_ago, five_years_ago = add_months(on, -12), add_months(on, -60)
    repaired = [(r, d) for r in others if (d := _repaired_on(r)) is not None]
    found: dict[str, str] = {}
    recent = [r for r in others if year_ago < r.decided_on <= on]
    serious = [r for r in recent if r.severity == "serious"]
    weighty = [r for r in recent if r.severity in ("general", "serious")]
    if serious or len(weighty) >= 3:
        cited = "、".join(r.decision_no for r in (serious or weighty)[:3])
        found["serious_or_frequent_1y"] = N_("近1年内另有严重或多次较重失信记录（%(cited)s）") % {
            "cited": cited
        }
    last = max((d for _, d in repaired), default=None)
    if last is not None and last > year_ago:
        found["last_repair_1y"] = N_("上次信用修复于 %(day)s，距今不足1年") % {
            "day": last.isoformat()
        }
    repairs_5y = {
        (r.extra or {}).get("repair_instance_id") or d.isoformat()
        for r, d in repaired
        if d > five_years_ago
    }
    if len(repairs_5y) >= 2:
        found["two_repairs_5y"] = N_("5年内已完成 %(n)s 次信用修复") % {"n": len(repairs_5y)}
    same = [r for r, d in repaired if d > five_years_ago and _act_type(r) == _act_type(record)]
    if same:
        found["same_type_5y"] = N_("同类失信行为（%(no)s）5年内已修复过") % {
            "no": same[0].decision_no
        }
    return [
        N_("依据再次申请修复限制政策（%(version)s）“%(switch)s”：%(found)s。")
        % {"version": policy.version, "switch": POLICY_SWITCHES[name], "found": found[name]}
        for name in POLICY_SWITCHES
        if name in policy.switches and name in found
    ]


def _act_type(record: CreditRecord) -> tuple[str, str]:
    """ "Same type of act": the record type and the violation it names."""
    return record.record_type, (record.violation or "").strip()


# --- application and commitment (DOMAIN §1.3) ------------------------------------------------


def records_of(session: Session, subject: Subject, ids: Iterable[Any]) -> list[CreditRecord]:
    """The subject's records with these ids, in the order given (others are skipped)."""
    wanted = [int(i) for i in ids if str(i).isdigit()]
    rows = {
        r.id: r
        for r in session.scalars(
            select(CreditRecord).where(
                CreditRecord.id.in_(wanted), CreditRecord.subject_id == subject.id
            )
        )
    }
    return [rows[i] for i in wanted if i in rows]


def commitment_text(subject: Subject, records: Sequence[CreditRecord]) -> str:
    """The public 信用承诺书 (36号令 / 国办发〔2025〕22号), with the records it covers."""
    lines = [
        "信用修复承诺书",
        "",
        f"本单位{subject.name}（统一社会信用代码：{subject.uscc}）就下列公共信用信息申请信用修复：",
    ]
    for n, r in enumerate(records, start=1):
        authority, act = r.authority or r.department.name, r.violation or r.record_type
        lines.append(f"{n}. {r.decision_no}（{authority}，{act}）")
    lines += [
        "",
        "本单位郑重承诺：",
        "一、已纠正上述失信行为，已全面履行相关法定责任和义务；",
        "二、所提交的申请材料真实、准确、完整，如有虚假，愿意承担相应法律责任，"
        "认定单位可撤销修复决定、恢复公示并将虚假承诺记入信用记录；",
        "三、修复后严格遵守法律法规，诚信经营，自觉接受政府部门和社会监督；",
        "四、同意将本承诺书在“信用中国”网站及相关公共信用信息平台公开。",
    ]
    return "\n".join(lines)


def sign_commitment(
    session: Session,
    *,
    subject: Subject,
    records: Sequence[CreditRecord],
    signer_name: str,
    signed_by: User | None,
    instance_id: int,
    details: dict[str, Any],
) -> tuple[Commitment, bool]:
    """Sign the repair commitment once per application; a resubmission keeps the first one."""
    text = commitment_text(subject, records)
    existing = session.scalar(
        select(Commitment)
        .where(Commitment.instance_id == instance_id, Commitment.kind == CommitmentKind.REPAIR)
        .order_by(Commitment.id)
        .limit(1)
    )
    if existing is not None:
        if existing.text_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest():
            return existing, False
    commitment = commitments.sign(
        session,
        kind=CommitmentKind.REPAIR.value,
        subject=subject,
        text=text,
        signer_name=signer_name,
        signed_by=signed_by,
        instance_id=instance_id,
        details={"public": True, "record_ids": [r.id for r in records], **details},
    )
    return commitment, True


def proof_problems(
    session: Session,
    instance_id: int,
    records: Sequence[CreditRecord],
    proofs: Any,
    authorization: Any,
) -> list[str]:
    """What the window should tell the applicant in one go (一次性告知), [] when complete."""
    by_record: dict[int, dict[str, Any]] = {}
    for item in proofs if isinstance(proofs, list) else []:
        if isinstance(item, dict) and str(item.get("record_id", "")).isdigit():
            by_record.setdefault(int(item["record_id"]), item)
    attachment_ids = [str(i.get("proof")) for i in by_record.values()]
    if authorization:
        attachment_ids.append(str(authorization))
    known = _attachments(session, instance_id, attachment_ids)
    problems = []
    for record in records:
        item = by_record.get(record.id)
        values = {"no": record.decision_no}
        if item is None:
            problems.append(N_("记录 %(no)s：未提交履行义务证明材料。") % values)
        elif item.get("discharged") is not True:
            problems.append(N_("记录 %(no)s：未确认已纠正失信行为并履行法定义务。") % values)
        elif str(item.get("proof")) not in known:
            problems.append(N_("记录 %(no)s：履行义务证明材料未上传到本办件。") % values)
    if authorization and str(authorization) not in known:
        problems.append(N_("授权委托书未上传到本办件。"))
    return problems


def _attachments(session: Session, instance_id: int, ids: list[str]) -> set[str]:
    numeric = [int(i) for i in ids if i.isdigit()]
    if not numeric:
        return set()
    rows = session.scalars(
        select(Attachment.id).where(
            Attachment.id.in_(numeric), Attachment.instance_id == instance_id
        )
    )
    return {str(i) for i in rows}


# --- department decisions and their effect (DOMAIN §1.4, §1.5) -------------------------------


def merge_results(records: Sequence[CreditRecord], department_results: Any) -> list[dict[str, Any]]:
    """One result per record from its finding department's decision (谁认定、谁修复).

    A per-record decision in `record_decisions` wins; otherwise the department's overall
    decision applies (`approve` / `reject`; under `partial` an unlisted record is not approved).
    """
    by_department = {
        r.get("department"): r
        for r in (department_results if isinstance(department_results, list) else [])
        if isinstance(r, dict)
    }
    return [_record_result(record, by_department.get(record.department.code)) for record in records]


def _record_result(record: CreditRecord, result: dict[str, Any] | None) -> dict[str, Any]:
    base = {
        "record_id": record.id,
        "decision_no": record.decision_no,
        "department": record.department.code,
        "department_name": record.department.name,
    }
    if result is None:
        return {**base, "decision": "rejected", "reason": N_("认定单位未作出决定。"), "by": None}
    items = [i for i in result.get("record_decisions") or [] if isinstance(i, dict)]
    item = next((i for i in items if str(i.get("record_id")) == str(record.id)), None)
    overall = result.get("decision")
    choice = item.get("decision") if item else ("approve" if overall == "approve" else "reject")
    opinion = str((item or {}).get("opinion") or result.get("opinion") or "").strip()
    if choice == "approve":
        reason = opinion or N_("经认定单位审查，已纠正失信行为、履行法定义务，准予信用修复。")
        decision = "approved"
    else:
        decision = "rejected"
        reason = opinion or (
            N_("认定单位未逐条作出准予决定，本条不予修复。")
            if overall == "partial" and item is None
            else N_("经认定单位审查，不予信用修复。")
        )
    return {**base, "decision": decision, "reason": reason, "by": result.get("decided_by")}


def apply_results(
    session: Session,
    *,
    instance_id: int,
    subject: Subject,
    results: list[dict[str, Any]],
    on: date,
) -> tuple[list[dict[str, Any]], list[CreditRecord]]:
    """Repair the approved records (status `repaired`, publication ends; public_until kept).

    Idempotent per instance: a record this instance already repaired is not touched again.
    Returns the final results and the records newly repaired (whose platforms must be told).
    """
    records = {r.id: r for r in records_of(session, subject, [x["record_id"] for x in results])}
    final, newly = [], []
    for result in results:
        record = records.get(result["record_id"])
        if record is None:
            continue
        done_here = (record.extra or {}).get("repair_instance_id") == instance_id
        if result["decision"] == "approved" and not done_here:
            if record.status != RecordStatus.PUBLISHED:
                label = STATUS_LABELS.get(record.status, record.status)
                result = {
                    **result,
                    "decision": "rejected",
                    "reason": N_("认定单位同意修复，但该记录当前为“%(label)s”状态，未执行修复。")
                    % {"label": label},
                }
            else:
                _repair(session, record, instance_id, on)
                newly.append(record)
        elif result["decision"] == "rejected":
            _note_refusal(record, instance_id, on, result["reason"])
        final.append({**result, "status": record.status})
    for record in newly:  # a repaired breach record closes its loop (DOMAIN §2.5 step 5)
        breaches.close_loop_for_record(session, record, on=on)
    return final, newly


def _repair(session: Session, record: CreditRecord, instance_id: int, on: date) -> None:
    record.status = RecordStatus.REPAIRED.value
    record.extra = {
        **(record.extra or {}),
        "repaired_on": on.isoformat(),
        "repair_instance_id": instance_id,
        "repair_sync": {target: "pending" for target in repair_targets(record)},
    }
    audit.record(
        session,
        "record.repaired",
        object_type="credit_record",
        object_id=str(record.id),
        details={"decision_no": record.decision_no, "instance_id": instance_id, "on": on},
    )


def _note_refusal(record: CreditRecord, instance_id: int, on: date, reason: str) -> None:
    record.extra = {
        **(record.extra or {}),
        "last_repair_refusal": {"instance_id": instance_id, "on": on.isoformat(), "reason": reason},
    }


def outcome_of(results: Sequence[Mapping[str, Any]]) -> str:
    approved = sum(1 for r in results if r["decision"] == "approved")
    if results and approved == len(results):
        return "approved"
    return "partly_approved" if approved else "rejected"


def push_payload(record: CreditRecord, instance_id: int) -> dict[str, Any]:
    """What each platform needs to end publication and sharing of a repaired record."""
    return {
        "record_id": record.id,
        "decision_no": record.decision_no,
        "record_type": record.record_type,
        "department": record.department.code,
        "authority": record.authority,
        "repaired_on": (record.extra or {}).get("repaired_on"),
        "public_until": _iso(record.public_until),
        "repair_instance_id": instance_id,
        "sync_state": "pending",
    }


def decision_context(
    subject: Subject, results: Sequence[Mapping[str, Any]], outcome: str, on: date
) -> dict[str, Any]:
    """The context of the 信用修复决定书 (documents.request kind `repair_decision`)."""
    return {
        "outcome": outcome,
        "outcome_label": OUTCOME_LABELS[outcome],
        "subject_uscc": subject.uscc,
        "subject_name": subject.name,
        "decided_on": on.isoformat(),
        "records": [
            {
                "record_id": r["record_id"],
                "decision_no": r["decision_no"],
                "department_name": r["department_name"],
                "result_label": N_("准予修复") if r["decision"] == "approved" else N_("不予修复"),
                "reason": r["reason"],
            }
            for r in results
        ],
    }


def notify_applicant(
    session: Session, *, instance_id: int, subject: Subject, outcome: str, results: Any
) -> OutboxEvent:
    """Queue the `repair_decided` notice to the applicant (delivered by the worker)."""
    existing = session.scalar(
        select(OutboxEvent).where(
            OutboxEvent.instance_id == instance_id,
            OutboxEvent.kind == "notification",
            OutboxEvent.name == "repair_decided",
        )
    )
    if existing is not None:
        return existing
    rows = results if isinstance(results, list) else []
    event = OutboxEvent(
        instance_id=instance_id,
        kind="notification",
        name="repair_decided",
        payload={
            "recipient": "applicant",
            "subject_uscc": subject.uscc,
            "instance_id": instance_id,
            "outcome": outcome,
            "outcome_label": OUTCOME_LABELS.get(outcome, outcome),
            "records": [
                {k: r.get(k) for k in ("record_id", "decision_no", "decision", "reason")}
                for r in rows
                if isinstance(r, dict)
            ],
        },
    )
    session.add(event)
    session.flush()
    return event
