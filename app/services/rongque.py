"""容缺受理 (DOMAIN §3): eligibility, the deferral commitment and each deferred material's fate.

The process `rongque_acceptance` calls these through its service-task handlers
(`app.services.process_handlers.rongque_acceptance`); they are plain functions of the session so
they can be tested and reused without the engine.

Decisions this module encodes (documented for process owners in the BPMN and here):

- A material's deadline is min(material.deferral_days, matter.promised_days) working days
  (deferral_days unset → the promised time): never beyond the promised processing time.
- Counting starts on the working day after *acceptance* (受理日, DOMAIN §0.3). The commitment is
  signed with provisional due dates counted from the signing day; the window's acceptance
  re-counts them from the acceptance day and the deferral notice states the final dates. The
  signed text lists working days, not dates, so it stays exact.
- Timeliness is judged on when the accepted supplement reached the agency (DOMAIN §3:
  "count from the date they reach the agency"), not on when the reviewer decided.
- A material returned for correction must still be corrected by its deadline; a return that
  leaves less than one working day (or comes after the deadline) lets the applicant correct
  until the end of the next working day. A correction accepted after the committed deadline
  makes the commitment `fulfilled_late` (reported alongside 践诺率, not on time); otherwise all
  materials accepted → `fulfilled`.
- Any material still missing at its (round) deadline terminates processing: the commitment is
  `breached`, the other materials are cancelled and the process throws `commitment_breached`.
- The window's refusal withdraws the commitment (`withdrawn`, excluded from 践诺率).

Model notes (bpmn/rongque_acceptance.bpmn): the materials run as a parallel multi-instance
subprocess; inside each, the rounds (supplement → review, again after a return) are an embedded
subprocess with standardLoopCharacteristics (loop while the round ended in "return"), never a
gateway loop. The interrupting deadline timer and the non-interrupting reminder sit on the
enterprise's `supplement_material` task, so time spent in review never counts against the
applicant. An overdue round ends its material with status "overdue", and the multi-instance
completionCondition then cancels the other materials' open tasks. (An error event thrown to a
boundary on the multi-instance subprocess crashes SpiffWorkflow 3.2.0 when the cancelled
subprocess still holds live nested subprocesses, so the model does not use one.)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.i18n import N_
from app.models import (
    Attachment,
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    MaterialKind,
    Matter,
    MatterMaterial,
    OutboxEvent,
    ProcessInstance,
    Subject,
    User,
)
from app.services import audit, commitments
from app.services.calendar import get_calendar
from app.services.errors import ConflictError, InvalidInputError, NotFoundError

PROCESS_KEY = "rongque_acceptance"
CONSEQUENCES = (
    "一、本单位提交的主要材料齐全、真实，符合法定形式；补交的容缺材料真实、合法、有效。",
    "二、是否按期以补交材料到达受理机关的时间为准；材料经审核退回补正的，仍须在上述期限内补正。",
    "三、任一容缺材料逾期未补齐的，受理机关终止办理，由此产生的后果由本单位承担。",
    "四、逾期未履行本承诺的，作为违诺信息记入本单位信用记录并推送公共信用信息平台；"
    "在信用修复前，本单位不再适用容缺受理和告知承诺。",
    "五、本承诺书及其履行情况记入本单位信用档案，作为事中事后监管的依据。",
)


def _tz() -> ZoneInfo:
    from app.services.host import SETTINGS

    return ZoneInfo(SETTINGS.timezone)


def now() -> datetime:
    """The engine clock's instant in the deployment time zone (tests and timers move it)."""
    return clock.now().astimezone(_tz())


def today() -> date:
    return now().date()


def deadline_of(day: date) -> datetime:
    """End of a working day: the instant a deadline on `day` passes."""
    return datetime.combine(day, time(23, 59, 59), _tz())


def deferral_days(matter: Matter, material: MatterMaterial) -> int:
    """Working days allowed for a deferred material, never beyond the matter's promised time."""
    promised = max(int(matter.promised_days or 1), 1)
    own = material.deferral_days if material.deferral_days else promised
    return max(min(int(own), promised), 1)


# --- eligibility ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    ok: bool
    reason: str
    matter: Matter | None = None
    materials: tuple[MatterMaterial, ...] = ()


def find_matter(session: Session, matter_code: object) -> Matter | None:
    if not isinstance(matter_code, str) or not matter_code.strip():
        return None
    return session.scalar(select(Matter).where(Matter.code == matter_code.strip()))


def check_request(session: Session, matter_code: object, deferred: object) -> Check:
    """The matter and the chosen materials (start data, CONTRACT §4), with a Chinese reason."""
    if not isinstance(matter_code, str) or not matter_code.strip():
        return Check(False, N_("请选择办理事项（matter_code）。"))
    matter = find_matter(session, matter_code)
    if matter is None:
        return Check(
            False,
            N_("事项 %(code)s 不在事项目录中，请从事项目录中选择。") % {"code": matter_code},
        )
    label = {"matter": matter.name, "code": matter.code}
    if not matter.active:
        return Check(False, N_("事项「%(matter)s」（%(code)s）已停用，暂不受理。") % label, matter)
    if not matter.rongque:
        return Check(
            False,
            N_("事项「%(matter)s」（%(code)s）不在容缺受理事项清单中，请按一般程序提交全部材料。")
            % label,
            matter,
        )
    if not isinstance(deferred, list) or not deferred:
        return Check(False, N_("请至少选择一项容缺材料；材料齐全的请按一般程序申请。"), matter)
    if any(not isinstance(code, str) for code in deferred) or len(set(deferred)) != len(deferred):
        return Check(False, N_("容缺材料须为不重复的材料代码列表。"), matter)
    by_code = {m.code: m for m in matter.materials}
    unknown = [code for code in deferred if code not in by_code]
    if unknown:
        return Check(
            False,
            N_("材料 %(codes)s 不是事项「%(matter)s」（%(code)s）的申报材料。")
            % {"codes": "、".join(unknown), **label},
            matter,
        )
    core = [by_code[code] for code in deferred if by_code[code].kind != MaterialKind.DEFERRABLE]
    if core:
        deferrable = "、".join(m.name for m in matter.deferrable_materials()) or N_("无")
        return Check(
            False,
            N_(
                "%(names)s是事项「%(matter)s」（%(code)s）的主要材料，须在受理时齐全并符合法定"
                "形式，不能容缺；可容缺的材料：%(deferrable)s。"
            )
            % {
                "names": "、".join(f"「{m.name}」" for m in core),
                "deferrable": deferrable,
                **label,
            },
            matter,
        )
    return Check(True, "", matter, tuple(by_code[code] for code in deferred))


def commitment_text(subject: Subject, matter: Matter, materials: list[MatterMaterial]) -> str:
    """The exact 《申请容缺受理承诺书》 shown before signing and stored when signed."""
    authority = matter.department.authority_name or matter.department.name
    lines = [
        "申请容缺受理承诺书",
        "",
        f"承诺人：{subject.name}（统一社会信用代码 {subject.uscc}）",
        f"申请事项：{matter.name}（{matter.code}），承诺办结时限 {matter.promised_days} 个工作日",
        f"受理机关：{authority}",
        "",
        "本单位申请对上述事项适用容缺受理，并承诺在受理之日起下列期限内"
        "（工作日，自受理次日起算）补齐以下容缺材料：",
    ]
    for i, m in enumerate(materials, 1):
        lines.append(f"{i}. {m.name}：{deferral_days(matter, m)} 个工作日内补齐")
    lines += ["", "本单位知悉并承诺：", *CONSEQUENCES]
    return "\n".join(lines)


def check_application(
    session: Session,
    subject: Subject | None,
    route: dict[str, Any] | None,
    matter_code: object,
    deferred: object,
) -> dict[str, Any]:
    """Eligibility for 容缺: matter, materials, then the subject's credit route (DOMAIN §5)."""
    if subject is None:
        return {
            "ok": False,
            "reason": N_("容缺受理须由申请企业本身提出（流程未关联信用主体）。"),
        }
    found = check_request(session, matter_code, deferred)
    if not found.ok:
        return {"ok": False, "reason": found.reason}
    route = route or {}
    if not route.get("rongque"):
        why = route.get("reason") or N_("信用分级不满足容缺受理条件。")
        return {"ok": False, "reason": N_("不予容缺受理：%(reason)s") % {"reason": why}}
    matter = found.matter
    assert matter is not None
    materials = list(found.materials)
    listed = "、".join(
        N_("%(name)s（%(days)s 个工作日）") % {"name": m.name, "days": deferral_days(matter, m)}
        for m in materials
    )
    return {
        "ok": True,
        "reason": "",
        "matter_code": matter.code,
        "matter_name": matter.name,
        "department": matter.department.code,
        "materials": [
            {"code": m.code, "name": m.name, "days": deferral_days(matter, m)} for m in materials
        ],
        "commitment_text": commitment_text(subject, matter, materials),
        "summary": N_(
            "%(subject)s 申请「%(matter)s」容缺受理，容缺材料：%(listed)s。信用情况：%(credit)s"
        )
        % {
            "subject": subject.name,
            "matter": matter.name,
            "listed": listed,
            "credit": route.get("reason", ""),
        },
    }


# --- the commitment -------------------------------------------------------------------------


def _schedule(matter: Matter, codes: list[str], start: date, session: Session) -> list[dict]:
    calendar = get_calendar(session)
    by_code = {m.code: m for m in matter.materials}
    rows = []
    for code in codes:
        material = by_code[code]
        days = deferral_days(matter, material)
        due = calendar.add_working_days(start, days)
        remind = calendar.add_working_days(start, days - 1)
        rows.append(
            {
                "code": code,
                "name": material.name,
                "days": days,
                "due_on": due.isoformat(),
                "deadline": deadline_of(due).isoformat(),
                "remind_at": deadline_of(remind).isoformat(),
            }
        )
    return rows


def rongque_commitment(session: Session, instance: ProcessInstance) -> Commitment | None:
    return session.scalar(
        select(Commitment).where(
            Commitment.instance_id == instance.id, Commitment.kind == CommitmentKind.RONGQUE.value
        )
    )


def sign(
    session: Session,
    instance: ProcessInstance,
    *,
    agree: bool,
    signer_name: str,
    text: str,
    matter_code: str,
    codes: list[str],
    signed_by: User | None = None,
) -> Commitment:
    """Record the signed commitment (idempotent per instance) with provisional due dates."""
    existing = rongque_commitment(session, instance)
    if existing is not None:
        return existing
    if agree is not True:
        raise InvalidInputError(_("须同意承诺内容后方可签署。"), {"agree": [_("请勾选同意。")]})
    subject = session.get(Subject, instance.subject_id) if instance.subject_id else None
    matter = find_matter(session, matter_code)
    if subject is None or matter is None:
        raise NotFoundError(_("承诺对应的企业或事项不存在。"))
    schedule = _schedule(matter, codes, today(), session)
    signer = signed_by or (
        session.get(User, instance.started_by_id) if instance.started_by_id else None
    )
    return commitments.sign(
        session,
        kind=CommitmentKind.RONGQUE.value,
        subject=subject,
        text=text,
        signer_name=signer_name,
        signed_by=signer,
        instance_id=instance.id,
        matter_id=matter.id,
        department_id=matter.department_id,
        due_on=max(date.fromisoformat(m["due_on"]) for m in schedule),
        details={
            "matter_code": matter.code,
            "accepted_on": None,
            "materials": [{**m, "status": "pending", "provisional": True} for m in schedule],
        },
    )


def _commitment(session: Session, commitment_id: int) -> Commitment:
    commitment = session.get(Commitment, commitment_id)
    if commitment is None or commitment.kind != CommitmentKind.RONGQUE.value:
        raise NotFoundError(_("容缺承诺 %(id)s 不存在。", id=commitment_id))
    return commitment


def _materials(commitment: Commitment) -> list[dict[str, Any]]:
    """A deep copy of the per-material state (JSON columns need a new value to be saved)."""
    return copy.deepcopy(list((commitment.details or {}).get("materials") or []))


def _save(commitment: Commitment, materials: list[dict[str, Any]], **extra: Any) -> None:
    commitment.details = {
        **copy.deepcopy(commitment.details or {}),
        **extra,
        "materials": materials,
    }


def _material(materials: list[dict[str, Any]], code: str) -> dict[str, Any]:
    for material in materials:
        if material["code"] == code:
            return material
    raise NotFoundError(_("承诺中没有容缺材料 %(code)s。", code=code))


def accept(session: Session, instance: ProcessInstance, commitment_id: int) -> dict[str, Any]:
    """The window accepted: count every deadline from today; return the schedule and notice."""
    commitment = _commitment(session, commitment_id)
    matter = session.get(Matter, commitment.matter_id)
    subject = session.get(Subject, commitment.subject_id)
    assert matter is not None and subject is not None
    accepted_on = today()
    details = commitment.details or {}
    if details.get("accepted_on"):
        accepted_on = date.fromisoformat(details["accepted_on"])  # a retry: keep the dates
    codes = [m["code"] for m in _materials(commitment)]
    schedule = _schedule(matter, codes, accepted_on, session)
    if not details.get("accepted_on"):
        _save(
            commitment,
            [{**m, "status": "pending", "rounds": 0} for m in schedule],
            accepted_on=accepted_on.isoformat(),
        )
        commitment.due_on = max(date.fromisoformat(m["due_on"]) for m in schedule)
        audit.record(
            session,
            "commitment.accepted",
            object_type="commitment",
            object_id=str(commitment.id),
            details={"accepted_on": accepted_on.isoformat(), "due_on": str(commitment.due_on)},
        )
    notice = {
        "title": N_("容缺受理通知书"),
        "copies": 2,
        "commitment_id": commitment.id,
        "subject_name": subject.name,
        "subject_uscc": subject.uscc,
        "matter_code": matter.code,
        "matter_name": matter.name,
        "authority": matter.department.authority_name or matter.department.name,
        "accepted_on": accepted_on.isoformat(),
        "materials": [
            {"name": m["name"], "days": m["days"], "due_on": m["due_on"]} for m in schedule
        ],
        "form_of_supplement": N_(
            "通过本系统在线上传，或到受理窗口现场递交；以材料到达受理机关的时间为准。"
        ),
        "consequences": N_(
            "任一容缺材料逾期未补齐的，终止办理，记录违诺并推送公共信用信息平台；"
            "在信用修复前不再适用容缺受理和告知承诺。"
        ),
    }
    materials = [{"code": m["code"], "name": m["name"], "days": m["days"]} for m in schedule]
    return {"accepted_on": accepted_on.isoformat(), "materials": materials, "notice": notice}


def withdraw(
    session: Session, instance: ProcessInstance, commitment_id: int, opinion: str
) -> dict[str, Any]:
    """The window refused: the commitment is withdrawn (excluded from 践诺率)."""
    commitment = _commitment(session, commitment_id)
    commitments.set_status(
        session, commitment.id, CommitmentStatus.WITHDRAWN.value, today(), note=opinion
    )
    reason = (
        N_("窗口不予受理：%(opinion)s") % {"opinion": opinion} if opinion else N_("窗口不予受理。")
    )
    finish(session, instance, "rejected", reason)
    return {"status": commitment.status, "reason": reason}


# --- supplements ----------------------------------------------------------------------------


def remind(
    session: Session, instance: ProcessInstance, commitment_id: int, code: str
) -> dict[str, Any]:
    """One reminder per material, one working day before its deadline (outbox notification)."""
    commitment = _commitment(session, commitment_id)
    materials = _materials(commitment)
    material = _material(materials, code)
    late = now() > datetime.fromisoformat(material["deadline"])
    if material.get("reminded_at") or material.get("status") == "accepted" or late:
        return {"sent": False}
    material["reminded_at"] = now().isoformat()
    _save(commitment, materials)
    subject = session.get(Subject, commitment.subject_id)
    session.add(
        OutboxEvent(
            instance_id=instance.id,
            kind="notification",
            name="rongque_supplement_reminder",
            payload={
                "subject_uscc": subject.uscc if subject else None,
                "commitment_id": commitment.id,
                "material_code": code,
                "material_name": material["name"],
                "due_on": material["due_on"],
                "text": N_(
                    "您承诺补齐的容缺材料「%(name)s」将于 %(due)s 到期，请及时上传；"
                    "逾期未补齐将终止办理并记录违诺。"
                )
                % {"name": material["name"], "due": material["due_on"]},
            },
        )
    )
    return {"sent": True, "due_on": material["due_on"]}


def record_supplement(
    session: Session, instance: ProcessInstance, commitment_id: int, code: str, attachment: str
) -> dict[str, Any]:
    """Register an upload for a material; an attachment of another case is sent back."""
    commitment = _commitment(session, commitment_id)
    materials = _materials(commitment)
    material = _material(materials, code)
    found = None
    if str(attachment).strip().isdigit():
        found = session.get(Attachment, int(str(attachment).strip()))
    if found is None or found.instance_id != instance.id:
        reason = N_("附件 %(attachment)s 不存在或不属于本办件，请重新上传「%(name)s」。") % {
            "attachment": attachment,
            "name": material["name"],
        }
        audit.record(
            session,
            "rongque.supplement_invalid",
            object_type="process_instance",
            object_id=str(instance.id),
            details={"material": code, "attachment": str(attachment)[:64], "reason": reason},
        )
        return {"valid": False, "reason": reason}
    received = now()
    material.update(
        status="submitted",
        attachment_id=found.id,
        submitted_at=received.isoformat(),
        rounds=int(material.get("rounds") or 0) + 1,
    )
    _save(commitment, materials)
    late = received > datetime.fromisoformat(material["deadline"])
    return {"valid": True, "reason": "", "received_at": received.isoformat(), "late": late}


def record_review(
    session: Session,
    instance: ProcessInstance,
    commitment_id: int,
    code: str,
    decision: str,
    opinion: str,
) -> dict[str, Any]:
    """The reviewer accepted the material or returned it with a reason."""
    if decision not in ("accept", "return"):
        raise InvalidInputError(_("审核结论无效。"), {"decision": [str(decision)]})
    commitment = _commitment(session, commitment_id)
    materials = _materials(commitment)
    material = _material(materials, code)
    submitted = material.get("submitted_at")
    late = bool(submitted) and datetime.fromisoformat(submitted) > datetime.fromisoformat(
        material["deadline"]
    )
    if decision == "accept":
        material.update(status="accepted", accepted_at=now().isoformat(), late=late)
        reason = ""
    else:
        returns = list(material.get("returns") or [])
        returns.append({"at": now().isoformat(), "reason": opinion})
        material.update(status="returned", returns=returns)
        reason = N_("「%(name)s」被退回补正：%(opinion)s") % {
            "name": material["name"],
            "opinion": opinion,
        }
    _save(commitment, materials)
    audit.record(
        session,
        f"rongque.material_{'accepted' if decision == 'accept' else 'returned'}",
        object_type="process_instance",
        object_id=str(instance.id),
        details={"commitment_id": commitment.id, "material": code, "opinion": opinion},
    )
    return {"decision": decision, "late": late, "reason": reason}


# --- outcomes -------------------------------------------------------------------------------


def finish(session: Session, instance: ProcessInstance, outcome: str, reason: str) -> None:
    """Record the outcome on the instance (summary) and in its history."""
    instance.summary = {**dict(instance.summary or {}), "outcome": outcome, "reason": reason}
    audit.record(
        session,
        "rongque.outcome",
        object_type="process_instance",
        object_id=str(instance.id),
        details={"outcome": outcome, "reason": reason},
    )


def refuse(session: Session, instance: ProcessInstance, reason: str) -> dict[str, Any]:
    finish(session, instance, "refused", reason)
    return {"outcome": "refused", "reason": reason}


def fulfil(session: Session, instance: ProcessInstance, commitment_id: int) -> dict[str, Any]:
    """All accepted: `fulfilled`, or `fulfilled_late` if one arrived after its deadline."""
    commitment = _commitment(session, commitment_id)
    materials = _materials(commitment)
    missing = [m["name"] for m in materials if m.get("status") != "accepted"]
    if missing:
        raise ConflictError(
            _("容缺材料尚未全部接收：%(materials)s。", materials="、".join(missing))
        )
    late = [m["name"] for m in materials if m.get("late")]
    status = CommitmentStatus.FULFILLED_LATE if late else CommitmentStatus.FULFILLED
    note = (
        N_("逾期补齐：%(materials)s") % {"materials": "、".join(late)}
        if late
        else N_("容缺材料均已按期补齐")
    )
    commitments.set_status(session, commitment.id, status.value, today(), note=note)
    finish(session, instance, "completed", note)
    return {"status": status.value, "late": late}


def breach(
    session: Session, instance: ProcessInstance, commitment_id: int, overdue_codes: list[str]
) -> dict[str, Any]:
    """A material is overdue: terminate, mark the commitment breached and say which and why.

    `overdue_codes` are the materials whose deadline passed while the applicant still owed
    them; the others not yet accepted (e.g. submitted in time and awaiting review) are
    cancelled, not counted as overdue.
    """
    commitment = _commitment(session, commitment_id)
    materials = _materials(commitment)
    moment = now()
    pending = [m for m in materials if m.get("status") != "accepted"]
    overdue = [m for m in pending if m["code"] in overdue_codes] or pending
    for m in pending:
        m["status"] = "overdue" if m in overdue else "cancelled"
    _save(commitment, materials, terminated_at=moment.isoformat())
    listed = "、".join(
        N_("「%(name)s」（期限 %(due)s）") % {"name": m["name"], "due": m["due_on"]}
        for m in overdue
    )
    matter = session.get(Matter, commitment.matter_id)
    reason = N_(
        "容缺材料%(listed)s逾期未补齐，违反《申请容缺受理承诺书》，「%(matter)s」终止办理。"
    ) % {"listed": listed, "matter": matter.name if matter else ""}
    if commitment.status != CommitmentStatus.BREACHED:
        commitments.set_status(
            session, commitment.id, CommitmentStatus.BREACHED.value, moment.date(), note=reason
        )
    finish(session, instance, "terminated_overdue", reason)
    return {"reason": reason, "overdue": [m["code"] for m in overdue]}
