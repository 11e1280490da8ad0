"""Read models and start helpers of the enterprise portal (企业端) and in-app notifications.

Views call these and render what they return; every function is scoped to the actor's subject.
Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.i18n import translate_stored
from app.models import (
    Comment,
    CreditRecord,
    HumanTask,
    MaterialKind,
    Matter,
    Notification,
    ProcessInstance,
    RecordStatus,
    Subject,
    User,
)
from app.services import audit, instances, model_texts, repair, rongque
from app.services import documents as issued_documents
from app.services.calendar import get_calendar
from app.services.errors import InvalidInputError, NotFoundError
from app.services.objections import GROUND_LABELS, OBJECTABLE, STATUS_LABELS

PROCESS_LABELS = {
    "credit_repair": _l('信用修复"一件事"'),
    "notify_commit_approval": _l("告知承诺制审批"),
    "rongque_acceptance": _l("容缺受理"),
    "objection_handling": _l("信用信息异议"),
    "commitment_breach": _l("违诺处理"),
}
INSTANCE_STATUS_LABELS = {
    "running": _l("办理中"),
    "completed": _l("已办结"),
    "suspended": _l("已暂停"),
    "terminated": _l("已终止"),
    "error": _l("处理受阻（工作人员正在处理）"),
}
TASK_STATE_LABELS = {"ready": _l("进行中"), "completed": _l("已完成"), "cancelled": _l("已取消")}
ACTION_LABELS = {
    "instance.started": _l("提交申请"),
    "instance.incident": _l("处理出现异常，已通知工作人员"),
    "instance.retried": _l("工作人员重新处理"),
    "instance.resumed": _l("恢复办理"),
    "instance.suspended": _l("暂停办理"),
    "instance.terminated": _l("终止办理"),
    "instance.migrated": _l("流程版本升级"),
    "instance.timer_fired": _l("期限届满，自动处理"),
    "message.delivered": _l("收到外部消息"),
    "task.claimed": _l("工作人员领取了任务"),
    "task.unclaimed": _l("工作人员退回了任务"),
    "task.completed": _l("完成了一个环节"),
    "attachment.uploaded": _l("上传了材料"),
    "commitment.signed": _l("签署了承诺书"),
    "commitment.accepted": _l("承诺书已接收"),
    "commitment.status": _l("承诺履行状态变化"),
    "repair.eligibility": _l("审查修复条件"),
    "repair.submitted": _l("提交了修复申请材料"),
    "repair.decided": _l("作出修复决定"),
    "record.repaired": _l("信用记录已修复"),
    "objection.accepted": _l("异议已受理，记录标注为异议处理中"),
    "objection.refused": _l("异议不予受理"),
    "objection.forwarded": _l("异议已转交认定单位核实"),
    "objection.extended": _l("异议处理期限延长"),
    "objection.escalated": _l("异议升级由分管领导处理"),
    "objection.decided": _l("作出异议处理决定"),
    "notify_commit.decided": _l("作出审批决定"),
    "notify_commit.sampled": _l("核查抽取"),
    "notify_commit.outcome": _l("办理结果"),
    "notify_commit.approval_revoked": _l("撤销审批决定"),
    "rongque.outcome": _l("办理结果"),
    "rongque.supplement_invalid": _l("补正材料不符合要求"),
    "rongque.material_accepted": _l("容缺材料审核通过"),
    "rongque.material_returned": _l("容缺材料被退回补正"),
    "task.reassigned": _l("分管领导改派了任务"),
    "comment.added": _l("添加了意见"),
    "breach.case_opened": _l("违诺处理立案"),
    "breach.recorded": _l("违诺信息已记录"),
    "breach.dismissed": _l("不认定违诺"),
    "breach.loop_closed": _l("违诺处理结束"),
}
OUTCOME_LABELS = {
    "refused": _l("不予受理"),
    "rejected": _l("不予受理"),
    "approved": _l("准予"),
    "approve": _l("准予"),
    "partially_approved": _l("部分准予"),
    "repaired": _l("已修复"),
    "fulfilled": _l("已按期补齐，办结"),
    "breached": _l("逾期未补齐（违诺）"),
    "withdrawn": _l("已撤回"),
    "correct": _l("更正"),
    "delete": _l("删除（停止公示）"),
    "uphold": _l("维持"),
    "unconfirmable": _l("无法确认"),
    "completed": _l("已办结"),
    "terminated_overdue": _l("容缺材料逾期未补齐，终止办理"),
    "ordinary_route": _l("不适用简化程序，请按一般程序办理"),
    "verification_waived": _l("准予（免予核查）"),
    "invalid": _l("申请信息有误，未予受理"),
    "duplicate": _l("重复申请，未予受理"),
    "dismissed": _l("不认定违诺"),
    "recorded": _l("已认定违诺并记录"),
    "partly_repaired": _l("部分准予修复"),
    "not_repaired": _l("不予修复"),
}
DOCUMENT_LABELS = {
    "repair_decision": _l("信用修复决定书"),
    "objection_notice": _l("异议处理结果告知书"),
    "approval_decision": _l("审批决定书"),
    "acceptance_notice": _l("受理通知书"),
    "notify_commit_decision": _l("告知承诺审批决定书"),
    "rongque_notice": _l("容缺受理通知书"),
    "objection_result": _l("异议处理结果告知书"),
    "breach_notice": _l("违诺认定告知书"),
}
SYSTEM_NAMES = {"system", "SYSTEM", "engine"}


def _tz() -> ZoneInfo:
    from app.services.host import SETTINGS

    return ZoneInfo(SETTINGS.timezone)


def local_today() -> date:
    """Today in the deployment's time zone on the engine clock (tests move it)."""
    return clock.now().astimezone(_tz()).date()


def subject_of(session: Session, actor: User) -> Subject:
    subject = session.get(Subject, actor.subject_id) if actor.subject_id else None
    if subject is None:
        raise NotFoundError(_("当前账号未关联信用主体。"))
    return subject


# --- records -----------------------------------------------------------------------------------


@dataclass
class Action:
    allowed: bool
    reason: str = ""
    application_id: int | None = None


@dataclass
class RecordRow:
    record: CreditRecord
    repair: Action
    object: Action
    notes: list[str] = field(default_factory=list)


def _status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))  # type: ignore[call-overload]


def repair_action(record: CreditRecord, on: date, held: dict[int, int]) -> Action:
    """May the subject apply to repair `record` on `on`? With the reason (rule and date) if not."""
    rule = _("（依据 %(rule)s）", rule=record.rule_set) if record.rule_set else ""
    if record.id in held:
        return Action(
            False,
            _("已在申请 #%(id)s 中申请修复，请等待处理结果。", id=held[record.id]),
            held[record.id],
        )
    if record.status != RecordStatus.PUBLISHED:
        label = _status_label(record.status)
        return Action(False, _("记录当前状态为“%(label)s”，不能申请信用修复。", label=label))
    if not record.repairable:
        return Action(
            False, _("该类记录不适用信用修复%(rule)s，公示期满后自动停止公示。", rule=rule)
        )
    if record.repairable_from is None:
        return Action(False, _("尚未确定可申请修复的日期%(rule)s，请联系认定单位。", rule=rule))
    if not record.is_repairable_on(on):
        return Action(
            False,
            _(
                "最短公示期尚未届满%(rule)s：自 %(from)s 起可申请修复（今天是 %(today)s）。",
                rule=rule,
                **{"from": record.repairable_from.isoformat()},
                today=on.isoformat(),
            ),
        )
    return Action(True)


def object_action(record: CreditRecord) -> Action:
    if record.status == RecordStatus.UNDER_OBJECTION:
        return Action(False, _("该记录已有异议正在处理（异议处理中），请等待处理结果。"))
    if record.status not in OBJECTABLE:
        return Action(
            False,
            _(
                "记录当前状态为“%(label)s”，已不再公示，无需提出异议。",
                label=_status_label(record.status),
            ),
        )
    return Action(True)


def record_rows(session: Session, actor: User, on: date | None = None) -> list[RecordRow]:
    """The subject's records, newest first, with the actions allowed now."""
    subject = subject_of(session, actor)
    on = on or local_today()
    held = repair.pending_applications(session, subject, None)
    records = session.scalars(
        select(CreditRecord)
        .where(CreditRecord.subject_id == subject.id)
        .order_by(CreditRecord.decided_on.desc(), CreditRecord.id.desc())
    ).all()
    return [RecordRow(r, repair_action(r, on, held), object_action(r)) for r in records]


def own_record(session: Session, actor: User, record_id: int) -> CreditRecord:
    record = session.get(CreditRecord, record_id)
    if record is None or record.subject_id is None or record.subject_id != actor.subject_id:
        raise NotFoundError(_("未找到该信用记录。"))
    return record


# --- applying --------------------------------------------------------------------------------


def start_repair(session: Session, actor: User, record_ids: list[str]) -> ProcessInstance:
    """Start 信用修复"一件事" for the chosen records (each repairable now)."""
    rows = {row.record.id: row for row in record_rows(session, actor)}
    ids: list[int] = []
    for raw in record_ids:
        if not str(raw).isdigit() or int(raw) not in rows:
            raise InvalidInputError(
                _("所选记录无效。"), {"record_ids": [_("所选记录无效，请重新选择。")]}
            )
        if int(raw) not in ids:
            ids.append(int(raw))
    if not ids:
        message = _("请至少选择一条可修复的信用记录。")
        raise InvalidInputError(message, {"record_ids": [message]})
    problems = [
        _("%(no)s：%(reason)s", no=rows[i].record.decision_no, reason=rows[i].repair.reason)
        for i in ids
        if not rows[i].repair.allowed
    ]
    if problems:
        raise InvalidInputError(_("部分记录现在不能申请修复。"), {"record_ids": problems})
    return instances.start_instance(session, "credit_repair", {"record_ids": ids}, actor)


def active_matters(session: Session) -> list[Matter]:
    return list(
        session.scalars(
            select(Matter)
            .where(Matter.active.is_(True), Matter.notify_commit | Matter.rongque)
            .order_by(Matter.code)
        )
    )


def get_matter(session: Session, code: str) -> Matter:
    matter = session.scalar(select(Matter).where(Matter.code == code))
    if matter is None or not matter.active:
        raise NotFoundError(_("事项目录中没有该事项或该事项已停用。"))
    return matter


def material_rows(matter: Matter) -> list[dict[str, Any]]:
    """Materials with their kind and, for deferrable ones, the deadline in working days."""
    return [
        {
            "code": m.code,
            "name": m.name,
            "deferrable": m.kind == MaterialKind.DEFERRABLE,
            "days": rongque.deferral_days(matter, m) if m.kind == MaterialKind.DEFERRABLE else None,
        }
        for m in matter.materials
    ]


def start_matter(
    session: Session, actor: User, code: str, mode: str, deferred: list[str]
) -> ProcessInstance:
    """Start notify-and-commit (`notify_commit`) or 容缺 (`rongque`) for a catalogue matter."""
    matter = get_matter(session, code)
    if mode == "notify_commit":
        if not matter.notify_commit:
            message = _("该事项不在告知承诺事项清单内，请按一般程序办理。")
            raise InvalidInputError(message, {"mode": [message]})
        data: dict[str, Any] = {"matter_code": matter.code}
        return instances.start_instance(session, "notify_commit_approval", data, actor)
    if mode == "rongque":
        if not matter.rongque:
            message = _("该事项不在容缺受理事项清单内，请按一般程序提交全部材料。")
            raise InvalidInputError(message, {"mode": [message]})
        check = rongque.check_request(session, matter.code, list(deferred))
        if not check.ok:
            reason = translate_stored(check.reason)
            raise InvalidInputError(reason, {"deferred_materials": [reason]})
        data = {"matter_code": matter.code, "deferred_materials": list(deferred)}
        return instances.start_instance(session, "rongque_acceptance", data, actor)
    message = _("请选择办理方式：告知承诺或容缺受理。")
    raise InvalidInputError(message, {"mode": [message]})


def start_objection(
    session: Session, actor: User, record_id: int, ground: str, claim: str
) -> ProcessInstance:
    """Start `objection_handling` for one of the subject's records."""
    record = own_record(session, actor, record_id)
    fields: dict[str, list[str]] = {}
    if ground not in GROUND_LABELS:
        fields["ground"] = [_("请选择异议理由。")]
    elif ground == "repair_result" and record.status != RecordStatus.REPAIRED:
        fields["ground"] = [_("该记录没有信用修复结果，不能以“对信用修复结果有异议”为由提出。")]
    claim = (claim or "").strip()
    if len(claim) < 2:
        fields["claim"] = [_("请填写异议内容：说明记录哪里有误以及理由。")]
    elif len(claim) > 2000:
        fields["claim"] = [_("异议内容过长（最多 2000 字），请精简。")]
    allowed = object_action(record)
    if not allowed.allowed:
        fields.setdefault("ground", []).append(allowed.reason)
    if fields:
        raise InvalidInputError(_("异议申请未通过校验。"), fields)
    data = {"record_id": record.id, "ground": ground, "claim": claim}
    return instances.start_instance(session, "objection_handling", data, actor)


# --- applications ----------------------------------------------------------------------------


def _open_my_tasks(session: Session, actor: User, instance_id: int) -> list[HumanTask]:
    return list(
        session.scalars(
            select(HumanTask)
            .where(
                HumanTask.instance_id == instance_id,
                HumanTask.state == "ready",
                HumanTask.lane == "enterprise",
                HumanTask.subject_id == actor.subject_id,
            )
            .order_by(HumanTask.created_at)
        )
    )


def outcome_of(session: Session, instance: ProcessInstance) -> dict[str, str] | None:
    """The process's own result (refusal or decision) with its reason, if it has one yet.

    Label and reason are in the request's language (stored reasons via `translate_stored`).
    """
    summary = instance.summary or {}
    if summary.get("outcome"):
        outcome = str(summary["outcome"])
        reason = str(summary.get("reason") or summary.get("outcome_reason") or "")
        return {
            "outcome": outcome,
            "label": str(OUTCOME_LABELS.get(outcome, outcome)),
            "reason": translate_stored(reason),
        }
    history = audit.history_for(session, "process_instance", str(instance.id))
    for entry in reversed(history):
        details = entry.get("details") or {}
        if entry["action"] == "objection.refused":
            reason = translate_stored(str(details.get("reason") or ""))
            return {"outcome": "refused", "label": _("不予受理"), "reason": reason}
        if entry["action"] == "repair.decided" and details.get("outcome"):
            outcome = str(details["outcome"])
            label = str(OUTCOME_LABELS.get(outcome, outcome))
            return {"outcome": outcome, "label": label, "reason": ""}
        if entry["action"] == "repair.eligibility" and not details.get("eligible_ids"):
            reasons = _joined(details.get("refusal_reasons") or [])
            return {"outcome": "refused", "label": _("不予受理"), "reason": reasons}
    return None


def _joined(reasons: list[Any]) -> str:
    """Stored reasons, each in the request's language, as one text."""
    return _("；").join(translate_stored(str(r)) for r in reasons)


def expected_now(
    instance: ProcessInstance, my_tasks: list[HumanTask], outcome: dict[str, str] | None
) -> str:
    if my_tasks:
        names = (model_texts.model_text(instance.version, t.name) for t in my_tasks)
        return _("请办理：") + _("、").join(names)
    if instance.status == "running":
        return _("无需操作，等待工作人员处理。")
    if instance.status == "error":
        return _("无需操作，工作人员正在排查处理中的问题。")
    if outcome and outcome["reason"]:
        return _(
            "已办结（%(label)s）：%(reason)s", label=outcome["label"], reason=outcome["reason"]
        )
    return _("无需操作。")


def applications(session: Session, actor: User) -> list[dict[str, Any]]:
    """The subject's applications, newest first, with status and what is expected now."""
    rows = session.scalars(
        instances.scoped_instances(actor).order_by(ProcessInstance.id.desc())
    ).all()
    result = []
    for instance in rows:
        mine = _open_my_tasks(session, actor, instance.id)
        outcome = outcome_of(session, instance)
        result.append(
            {
                "instance": instance,
                "process_label": PROCESS_LABELS.get(instance.process_key, instance.process_key),
                "status_label": INSTANCE_STATUS_LABELS.get(instance.status, instance.status),
                "outcome": outcome,
                "expected": expected_now(instance, mine, outcome),
                "my_tasks": mine,
            }
        )
    return result


def _display_names(session: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    users = session.scalars(select(User).where(User.username.in_(usernames)))
    return {u.username: u.display_name for u in users}


def _who(name: str, names: dict[str, str]) -> str:
    if not name or name in SYSTEM_NAMES:
        return _("系统")
    return names.get(name, name)


def _local(value: str | datetime | None) -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(_tz()).strftime("%Y-%m-%d %H:%M")


def _timeline_detail(entry: dict[str, Any], version: Any = None) -> str:
    details = entry.get("details") or {}
    action = entry["action"]
    if action.startswith("task.") and (details.get("name") or details.get("task")):
        return str(model_texts.model_text(version, str(details.get("name") or details.get("task"))))
    if action == "instance.started":
        return str(PROCESS_LABELS.get(details.get("process_key", ""), ""))
    for key in ("reason", "outcome_reason"):
        if details.get(key):
            return translate_stored(str(details[key]))
    if details.get("refusal_reasons"):
        return _joined(details["refusal_reasons"])
    if details.get("outcome"):
        return str(OUTCOME_LABELS.get(str(details["outcome"]), str(details["outcome"])))
    return ""


def countdown(session: Session, due_at: datetime | None, on: date) -> dict[str, Any] | None:
    """Working days left until `due_at` (negative when overdue)."""
    if due_at is None:
        return None
    calendar = get_calendar(session)
    due = due_at.astimezone(_tz()).date()
    if due >= on:
        left = calendar.working_days_between(on, due)
        text = (
            _("今天到期")
            if left == 0
            else ngettext("还剩 %(num)d 个工作日", "还剩 %(num)d 个工作日", left)
        )
    else:
        left = -calendar.working_days_between(due, on)
        text = ngettext("已逾期 %(num)d 个工作日", "已逾期 %(num)d 个工作日", -left)
    return {"due": due, "days": left, "text": text, "overdue": due < on, "soon": 0 <= left <= 1}


def application_detail(session: Session, actor: User, instance_id: int) -> dict[str, Any]:
    """Everything the application page shows; NotFoundError for another subject's instance."""
    instance = instances.get_instance(session, instance_id, actor)
    data = instances.instance_dict(session, instance, actor)
    on = local_today()
    all_tasks = list(
        session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == instance.id)
            .order_by(HumanTask.created_at)
        )
    )
    names = _display_names(session, {e["actor"] for e in data["history"] if e.get("actor")})
    timeline = [
        {
            "at": _local(e["at"]),
            "who": _who(e.get("actor") or "", names),
            "label": ACTION_LABELS.get(e["action"], e["action"]),
            "detail": _timeline_detail(e, instance.version),
        }
        for e in data["history"]
        if not e["action"].startswith("auth.")
    ]
    mine = _open_my_tasks(session, actor, instance.id)
    steps = [
        {
            "name": t.name,
            "bpmn_id": t.bpmn_id,
            "state": t.state,
            "state_label": TASK_STATE_LABELS.get(t.state, t.state),
            "mine": t.lane == "enterprise",
            "completed_at": _local(t.completed_at),
            "countdown": countdown(session, t.due_at, on) if t.state == "ready" else None,
        }
        for t in all_tasks
    ]
    documents = [
        {
            **d,
            "name": translate_stored(d.get("title"))
            or str(DOCUMENT_LABELS.get(d["kind"], d["kind"])),
        }
        for d in issued_documents.for_instance(session, instance.id)
    ]
    comments = [
        {"body": c.body, "at": _local(c.created_at)}
        for c in session.scalars(
            select(Comment)
            .where(Comment.instance_id == instance.id, Comment.visible_to_applicant.is_(True))
            .order_by(Comment.created_at)
        )
    ]
    outcome = outcome_of(session, instance)
    return {
        "instance": instance,
        "process_label": PROCESS_LABELS.get(instance.process_key, instance.process_key),
        "status_label": INSTANCE_STATUS_LABELS.get(instance.status, instance.status),
        "outcome": outcome,
        "expected": expected_now(instance, mine, outcome),
        "timeline": timeline,
        "my_tasks": [{"task": t, "countdown": countdown(session, t.due_at, on)} for t in mine],
        "steps": steps,
        "completed_ids": sorted({t.bpmn_id for t in all_tasks if t.state == "completed"}),
        "active_ids": sorted({t.bpmn_id for t in all_tasks if t.state == "ready"}),
        "errored_ids": sorted({i["element_id"] for i in data["incidents"] if i["element_id"]}),
        "documents": documents,
        "comments": comments,
        "incidents": bool(data["incidents"]),
    }


def diagram_xml(session: Session, actor: User, instance_id: int) -> str:
    """The BPMN XML of the instance's version (owner only; NotFoundError otherwise)."""
    instance = instances.get_instance(session, instance_id, actor)
    files = instance.version.files or {}
    xml = files.get(f"{instance.process_key}.bpmn")
    if xml is None:
        xml = next((body for name, body in files.items() if name.endswith(".bpmn")), None)
    if xml is None:
        raise NotFoundError(_("该流程版本没有流程图。"))
    return xml


# --- notifications ---------------------------------------------------------------------------


def notifications_for(session: Session, user: User, limit: int = 200) -> list[Notification]:
    """The user's notifications, unread first, newest first within each group."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(
                Notification.read_at.is_not(None),
                Notification.created_at.desc(),
                Notification.id.desc(),
            )
            .limit(limit)
        )
    )
