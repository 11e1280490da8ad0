"""Operating a process in the studio: its instances, one instance in detail, batch migration.

Read-only queries for process owners and administrators. The actions themselves (suspend,
resume, terminate, retry, migrate) live in `app.services.operations` and
`app.services.migration`, which lock the instance and audit each change; `run_migration` adds
one `studio.instances_migrated` entry for the batch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.engine import runner
from app.engine.errors import EngineError
from app.i18n import translate_stored
from app.models import (
    AuditEvent,
    HumanTask,
    Incident,
    InstanceStatus,
    ProcessInstance,
    ProcessVersion,
    Subject,
    User,
)
from app.rules.uscc import normalize_uscc
from app.services import audit, host, migration
from app.services.definitions import load_specs
from app.services.errors import InvalidInputError, NotAllowedError, NotFoundError, ServiceError
from app.services.permissions import can_manage_processes

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
PER_PAGE = 25
MAX_ID = 2_147_483_647  # the id column's range: larger numbers cannot name an instance
MAX_PATH = 500  # path entries shown (a long loop repeats its elements)
STATUSES = tuple(s.value for s in InstanceStatus)  # running, completed, suspended, …
STATUS_ORDER = ("running", "suspended", "error", "completed", "terminated")
ACTIVE_STATES = (TaskState.READY, TaskState.STARTED, TaskState.WAITING)

# SpiffWorkflow spec classes → BPMN element kinds as the studio names them.
ELEMENT_KINDS = {
    "StartEvent": _l("开始事件"),
    "EndEvent": _l("结束事件"),
    "IntermediateCatchEvent": _l("中间捕获事件"),
    "IntermediateThrowEvent": _l("中间抛出事件"),
    "BoundaryEvent": _l("边界事件"),
    "SendTask": _l("发送任务"),
    "ReceiveTask": _l("接收任务"),
    "UserTask": _l("用户任务"),
    "ManualTask": _l("人工任务"),
    "ScriptTask": _l("脚本任务"),
    "ServiceTask": _l("服务任务"),
    "BusinessRuleTask": _l("业务规则任务"),
    "NoneTask": _l("任务"),
    "ExclusiveGateway": _l("排他网关"),
    "ParallelGateway": _l("并行网关"),
    "InclusiveGateway": _l("包容网关"),
    "EventBasedGateway": _l("事件网关"),
    "SubWorkflowTask": _l("子流程"),
    "TransactionSubprocess": _l("事务子流程"),
    "CallActivity": _l("调用活动"),
}


def _authorize(actor: User) -> None:
    if not can_manage_processes(actor):
        raise NotAllowedError(_("只有流程管理员或系统管理员可以查看和操作流程实例。"))


def _versions(session: Session, key: str) -> list[ProcessVersion]:
    versions = list(
        session.scalars(
            select(ProcessVersion).where(ProcessVersion.key == key).order_by(ProcessVersion.version)
        )
    )
    if not versions:
        raise NotFoundError(_("流程 %(key)s 不存在（尚未发布任何版本）。", key=key))
    return versions


# --- the instance list -----------------------------------------------------------------------


def _int_field(raw: str, name: str, errors: dict[str, list[str]], label: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        errors[name] = [_("%(label)s必须是正整数，例如 1。", label=label)]
        return None
    return int(raw)


def _date_field(raw: str, name: str, errors: dict[str, list[str]]) -> date | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors[name] = [_("日期格式应为 年-月-日，例如 2026-11-20。")]
        return None
    if not 1900 <= day.year <= 9000:
        errors[name] = [_("日期超出范围，请填写 1900 年到 9000 年之间的日期。")]
        return None
    return day


@dataclass
class InstanceFilters:
    """What the instances page filters by; `parse` refuses bad values with field messages."""

    status: str = ""
    version: int | None = None
    subject: str = ""  # USCC or name, partial
    started_from: date | None = None  # local (Asia/Shanghai) dates, both inclusive
    started_to: date | None = None

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> InstanceFilters:
        errors: dict[str, list[str]] = {}
        status = (args.get("status") or "").strip()
        if status and status not in STATUSES:
            errors["status"] = [_("状态只能是：%(values)s。", values="、".join(STATUS_ORDER))]
        version = _int_field((args.get("version") or "").strip(), "version", errors, _("版本号"))
        started_from = _date_field((args.get("started_from") or "").strip(), "started_from", errors)
        started_to = _date_field((args.get("started_to") or "").strip(), "started_to", errors)
        if started_from and started_to and started_from > started_to:
            errors["started_to"] = [_("结束日期不能早于开始日期。")]
        subject = (args.get("subject") or "").strip()
        if len(subject) > 200:
            errors["subject"] = [_("主体名称或统一社会信用代码最多 200 个字符。")]
        if errors:
            raise InvalidInputError(_("筛选条件有误，请按提示修改。"), errors)
        return cls(status, version, subject, started_from, started_to)

    def as_args(self) -> dict[str, str]:
        args = {
            "status": self.status,
            "version": str(self.version) if self.version else "",
            "subject": self.subject,
            "started_from": self.started_from.isoformat() if self.started_from else "",
            "started_to": self.started_to.isoformat() if self.started_to else "",
        }
        return {k: v for k, v in args.items() if v}


def parse_page(raw: str | None) -> int:
    text = (raw or "").strip()
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise InvalidInputError(_("页码有误。"), {"page": [_("页码必须是正整数。")]})
    return min(int(text), MAX_ID)


@dataclass
class InstanceRow:
    instance: ProcessInstance
    version: int
    subject: Subject | None
    current_tasks: list[str]


@dataclass
class InstancePage:
    key: str
    name: str
    versions: list[int]
    rows: list[InstanceRow]
    counts: dict[str, int]  # per status, under the other filters
    total: int  # rows matching all filters
    page: int
    pages: int
    filters: InstanceFilters = field(default_factory=InstanceFilters)


def _local_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0, 0), tz).astimezone(UTC)


def _filtered(
    key: str, filters: InstanceFilters, tz: tzinfo, *, with_status: bool
) -> Select[tuple[ProcessInstance]]:
    query = select(ProcessInstance).where(ProcessInstance.process_key == key)
    if with_status and filters.status:
        query = query.where(ProcessInstance.status == filters.status)
    if filters.version:
        query = query.join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id).where(
            ProcessVersion.version == filters.version
        )
    if filters.subject:
        text = filters.subject.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        code = normalize_uscc(text)
        matching = select(Subject.id).where(
            or_(
                Subject.uscc.like(f"%{code}%", escape="\\"),
                Subject.name.ilike(f"%{text}%", escape="\\"),
            )
        )
        query = query.where(ProcessInstance.subject_id.in_(matching))
    if filters.started_from:
        query = query.where(ProcessInstance.created_at >= _local_start(filters.started_from, tz))
    if filters.started_to:
        end = _local_start(filters.started_to + timedelta(days=1), tz)
        query = query.where(ProcessInstance.created_at < end)
    return query


def list_instances(
    session: Session,
    key: str,
    filters: InstanceFilters,
    actor: User,
    page: int = 1,
    *,
    per_page: int = PER_PAGE,
    tz: tzinfo = DEFAULT_TZ,
) -> InstancePage:
    """One page of the process's instances (newest first) with counts per status."""
    _authorize(actor)
    versions = _versions(session, key)
    base = _filtered(key, filters, tz, with_status=False).subquery()
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for status, count in session.execute(
        select(base.c.status, func.count()).group_by(base.c.status)
    ):
        counts[status] = count
    query = _filtered(key, filters, tz, with_status=True)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    instances = list(
        session.scalars(
            query.order_by(ProcessInstance.id.desc()).offset((page - 1) * per_page).limit(per_page)
        ).unique()
    )
    return InstancePage(
        key=key,
        name=versions[-1].name,
        versions=[v.version for v in versions],
        rows=_rows(session, instances),
        counts=counts,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
    )


def _rows(session: Session, instances: list[ProcessInstance]) -> list[InstanceRow]:
    ids = [i.id for i in instances]
    subject_ids = {i.subject_id for i in instances if i.subject_id}
    subjects = (
        {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(subject_ids)))}
        if subject_ids
        else {}
    )
    current: dict[int, list[str]] = {}
    if ids:
        for task in session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id.in_(ids), HumanTask.state == "ready")
            .order_by(HumanTask.created_at)
        ):
            current.setdefault(task.instance_id, []).append(task.name)
    return [
        InstanceRow(
            instance=i,
            version=i.version.version,
            subject=subjects.get(i.subject_id) if i.subject_id else None,
            current_tasks=current.get(i.id, []),
        )
        for i in instances
    ]


def status_counts(session: Session, key: str) -> dict[str, int]:
    """Instances of `key` per status (all of them, no filter)."""
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for status, count in session.execute(
        select(ProcessInstance.status, func.count())
        .where(ProcessInstance.process_key == key)
        .group_by(ProcessInstance.status)
    ):
        counts[status] = count
    return counts


# --- one instance ------------------------------------------------------------------------------


def get_instance(session: Session, instance_id: int, actor: User) -> ProcessInstance:
    _authorize(actor)
    instance = session.get(ProcessInstance, instance_id) if 0 < instance_id <= MAX_ID else None
    if instance is None:
        raise NotFoundError(_("流程实例不存在。"))
    return instance


def diagram_xml(version: ProcessVersion) -> str | None:
    """The BPMN file of the version that holds its process (None if it has none)."""
    files = version.files or {}
    xml = files.get(f"{version.key}.bpmn")
    if xml is None:
        xml = next((body for name, body in sorted(files.items()) if name.endswith(".bpmn")), None)
    return xml


def _kind(spec: Any) -> str:
    name = type(spec).__name__
    return str(ELEMENT_KINDS.get(name, name))


def _when(stamp: float | None, tz: tzinfo) -> datetime | None:
    if not stamp:
        return None
    return datetime.fromtimestamp(stamp, UTC).astimezone(tz)


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(dict(data), ensure_ascii=False, default=str))  # type: ignore[no-any-return]


@dataclass
class EngineView:
    """What the stored workflow state says about where the instance is."""

    completed_ids: list[str] = field(default_factory=list)
    active_ids: list[str] = field(default_factory=list)
    errored_ids: list[str] = field(default_factory=list)
    path: list[dict[str, Any]] = field(default_factory=list)
    path_truncated: int = 0  # entries left off the front of a long path
    data: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # element id -> name
    problem: str | None = None  # the state could not be read


def _engine_view(session: Session, instance: ProcessInstance, tz: tzinfo) -> EngineView:
    view = EngineView()
    if not instance.state:
        view.problem = _("该实例没有保存的流程状态。")
        return view
    try:
        load_specs(instance.version)
        workflow = runner.load(instance.state, host.script_engine_for(session, instance))
    except (EngineError, ServiceError) as exc:
        view.problem = _("无法读取该实例的流程状态：%(error)s", error=translate_stored(str(exc)))
        return view
    every = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        every.extend(subprocess.tasks.values())
    tasks = [t for t in every if getattr(t.task_spec, "bpmn_id", None)]
    for task in tasks:
        spec = task.task_spec
        view.names.setdefault(spec.bpmn_id, spec.bpmn_name or spec.bpmn_id)
    done = sorted(
        (t for t in tasks if t.state == TaskState.COMPLETED), key=lambda t: t.last_state_change
    )
    view.completed_ids = sorted({t.task_spec.bpmn_id for t in done})
    active = sorted(
        (
            t
            for t in tasks
            if t.state in ACTIVE_STATES and type(t.task_spec).__name__ != "BoundaryEvent"
        ),
        key=lambda t: t.last_state_change,
    )
    view.active_ids = sorted({t.task_spec.bpmn_id for t in active})
    view.errored_ids = sorted({t.task_spec.bpmn_id for t in tasks if t.state == TaskState.ERROR})
    view.path_truncated = max(0, len(done) - MAX_PATH)
    view.path = [
        {
            "id": t.task_spec.bpmn_id,
            "name": t.task_spec.bpmn_name or t.task_spec.bpmn_id,
            "kind": _kind(t.task_spec),
            "at": _when(t.last_state_change, tz),
        }
        for t in done[view.path_truncated :]
    ]
    view.data = _current_data(workflow, active, done)
    return view


def _current_data(workflow: Any, active: list[Any], done: list[Any]) -> dict[str, Any]:
    """The data the instance holds now: its waiting steps' data (the last step's when none)."""
    data: dict[str, Any] = dict(getattr(workflow, "data", {}) or {})
    sources = active or done[-1:]
    if workflow.is_completed() and workflow.last_task is not None:
        sources = [workflow.last_task]
    for task in sources:
        data.update(task.data or {})
    try:
        return _jsonable(data)
    except (TypeError, ValueError):  # pragma: no cover - data is JSON-serializable by design
        return {k: str(v) for k, v in data.items()}


def _audit_trail(session: Session, instance: ProcessInstance, tz: tzinfo) -> list[dict[str, Any]]:
    rows = list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == "process_instance",
                AuditEvent.object_id == str(instance.id),
            )
            .order_by(AuditEvent.seq)
        )
    )
    names = _display_names(session, {r.actor_id for r in rows if r.actor_id})
    return [
        {
            "seq": r.seq,
            "at": r.occurred_at.astimezone(tz),
            "actor": names.get(r.actor_id, r.actor_name) if r.actor_id else r.actor_name,
            "username": r.actor_name,
            "action": r.action,
            "details": r.details or {},
        }
        for r in rows
    ]


def _display_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(
        session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all()
    )  # type: ignore[arg-type]


def _tasks(session: Session, instance: ProcessInstance) -> list[dict[str, Any]]:
    rows = list(
        session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == instance.id)
            .order_by(HumanTask.created_at, HumanTask.id)
        )
    )
    names = _display_names(
        session, {r.assignee_id for r in rows} | {r.completed_by_id for r in rows}
    )
    return [
        {
            "id": t.id,
            "bpmn_id": t.bpmn_id,
            "name": t.name,
            "lane": t.lane,
            "state": t.state,
            "assignee": names.get(t.assignee_id) if t.assignee_id else None,
            "completed_by": names.get(t.completed_by_id) if t.completed_by_id else None,
            "created_at": t.created_at,
            "due_at": t.due_at,
            "completed_at": t.completed_at,
        }
        for t in rows
    ]


def _incidents(
    session: Session, instance: ProcessInstance, names: Mapping[str, str]
) -> list[dict[str, Any]]:
    return [
        {
            "id": i.id,
            "element_id": i.element_id,
            "element_name": names.get(i.element_id or "", i.element_id),
            "line": i.line,
            "message": i.message,
            "created_at": i.created_at,
            "resolved_at": i.resolved_at,
            "open": i.resolved_at is None,
        }
        for i in session.scalars(
            select(Incident).where(Incident.instance_id == instance.id).order_by(Incident.id)
        )
    ]


def instance_detail(
    session: Session, instance_id: int, actor: User, *, tz: tzinfo = DEFAULT_TZ
) -> dict[str, Any]:
    """Everything the instance page shows (NotFoundError for an unknown id)."""
    instance = get_instance(session, instance_id, actor)
    view = _engine_view(session, instance, tz)
    subject = session.get(Subject, instance.subject_id) if instance.subject_id else None
    incidents = _incidents(session, instance, view.names)
    open_elements = {i["element_id"] for i in incidents if i["open"] and i["element_id"]}
    starter = session.get(User, instance.started_by_id) if instance.started_by_id else None
    newer = session.scalar(
        select(func.max(ProcessVersion.version)).where(ProcessVersion.key == instance.process_key)
    )
    return {
        "instance": instance,
        "version": instance.version.version,
        "latest_version": newer,
        "process_name": instance.version.name,
        "subject": subject,
        "started_by": starter.display_name if starter else None,
        "completed_ids": view.completed_ids,
        "active_ids": view.active_ids,
        "errored_ids": sorted(set(view.errored_ids) | open_elements),
        "path": view.path,
        "path_truncated": view.path_truncated,
        "data": view.data,
        "state_problem": view.problem,
        "tasks": _tasks(session, instance),
        "audit": _audit_trail(session, instance, tz),
        "incidents": incidents,
        "open_incidents": [i for i in incidents if i["open"]],
        "diagram_xml": diagram_xml(instance.version),
        "can_suspend": instance.status == InstanceStatus.RUNNING,
        "can_resume": instance.status == InstanceStatus.SUSPENDED,
        "can_terminate": instance.status
        not in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED),
        "can_retry": instance.status == InstanceStatus.ERROR,
        "can_migrate": instance.status in migration.MIGRATABLE
        and newer is not None
        and newer != instance.version.version,
    }


# --- migration -----------------------------------------------------------------------------------


def parse_ids(values: Iterable[str]) -> list[int]:
    """Instance ids from a form (checkboxes or one comma/space separated field)."""
    ids: list[int] = []
    bad: list[str] = []
    for value in values:
        for part in value.replace(",", " ").replace("，", " ").split():
            if part.isdigit() and 1 <= int(part) <= MAX_ID:
                ids.append(int(part))
            else:
                bad.append(part)
    if bad:
        raise InvalidInputError(
            _("实例编号有误。"),
            {"ids": [_("实例编号必须是正整数：%(ids)s", ids="、".join(bad[:10]))]},
        )
    return list(dict.fromkeys(ids))


def parse_target(session: Session, key: str, raw: str | None) -> int:
    """The target version number; InvalidInputError when it is not a version of `key`."""
    text = (raw or "").strip()
    errors: dict[str, list[str]] = {}
    number = _int_field(text, "target", errors, _("目标版本"))
    if errors or number is None:
        raise InvalidInputError(
            _("请选择目标版本。"), errors or {"target": [_("请选择要迁移到的版本。")]}
        )
    if number not in {v.version for v in _versions(session, key)}:
        raise InvalidInputError(
            _("目标版本不存在。"),
            {"target": [_("流程 %(key)s 没有版本 %(version)s。", key=key, version=number)]},
        )
    return number


def migration_candidates(session: Session, key: str, actor: User) -> list[InstanceRow]:
    """Running and suspended instances of `key` (what may be migrated), newest first."""
    _authorize(actor)
    _versions(session, key)
    instances = list(
        session.scalars(
            select(ProcessInstance)
            .where(
                ProcessInstance.process_key == key,
                ProcessInstance.status.in_(migration.MIGRATABLE),
            )
            .order_by(ProcessInstance.id.desc())
            .limit(500)
        ).unique()
    )
    return _rows(session, instances)


def _refused(instance_id: int, reason: str, blocking: list[str] | None = None) -> dict[str, Any]:
    return {
        "instance_id": instance_id,
        "allowed": False,
        "reason": reason,
        "blocking": blocking or [reason],
    }


def dry_run_many(
    session: Session, key: str, instance_ids: list[int], target: int, actor: User
) -> list[dict[str, Any]]:
    """The dry-run report of each instance (nothing is saved); other keys are refused."""
    _authorize(actor)
    _versions(session, key)
    reports = []
    for instance_id in instance_ids:
        instance = session.get(ProcessInstance, instance_id)
        if instance is None:
            reports.append(_refused(instance_id, _("流程实例不存在。")))
            continue
        if instance.process_key != key:
            reports.append(
                _refused(
                    instance_id,
                    _(
                        "该实例属于流程 %(owner)s，不属于 %(key)s。",
                        owner=instance.process_key,
                        key=key,
                    ),
                )
            )
            continue
        try:
            report = migration.dry_run(session, instance_id, actor, target)
        except ServiceError as exc:
            reports.append(_refused(instance_id, exc.message))
            continue
        report["reason"] = "；".join(report["blocking"])
        reports.append(report)
    return reports


def run_migration(
    session: Session, key: str, instance_ids: list[int], target: int, actor: User
) -> list[dict[str, Any]]:
    """Migrate each instance (each in its own savepoint) and audit the batch."""
    _authorize(actor)
    _versions(session, key)
    if not instance_ids:
        raise InvalidInputError(_("请至少选择一个实例。"), {"ids": [_("请至少选择一个实例。")]})
    own: list[int] = []
    results: list[dict[str, Any]] = []
    keys = dict(
        session.execute(
            select(ProcessInstance.id, ProcessInstance.process_key).where(
                ProcessInstance.id.in_(instance_ids)
            )
        ).all()
    )
    for instance_id in instance_ids:
        if instance_id in keys and keys[instance_id] != key:
            results.append(
                {
                    **_refused(
                        instance_id,
                        _(
                            "该实例属于流程 %(owner)s，不属于 %(key)s。",
                            owner=keys[instance_id],
                            key=key,
                        ),
                    ),
                    "outcome": "refused",
                }
            )
        else:
            own.append(instance_id)
    results = migration.migrate_many(session, own, actor, target) + results
    audit.record(
        session,
        "studio.instances_migrated",
        actor=actor,
        object_type="process",
        object_id=key,
        details={
            "to_version": target,
            "migrated": [r["instance_id"] for r in results if r["outcome"] == "migrated"],
            "refused": [r["instance_id"] for r in results if r["outcome"] != "migrated"],
        },
    )
    return results
