"""Test runs of a draft: the engine in a sandbox with sample data, nothing real touched.

A test run parses the draft with the deploy checks (`definitions.check_bundle`), starts the
process with the sample data and runs it to its first wait state. Service tasks never run
their handlers (see `app.engine.dry_run`): each call is logged with its evaluated parameters
and answers with the sample result given for that handler. Messages the process throws are
logged, never queued. Timers use the run's own clock, which moves only when the user fires
the next timer. No ProcessInstance, HumanTask, OutboxEvent, Document or record row is read
for writing or created; the only rows written are the `DraftTestRun` and audit entries.

`DraftTestRun.state` holds a JSON wrapper (STATE_FORMAT) around the serialized workflow
(spec embedded), plus the form schemas and diagram of the draft as it was at the start, the
run's clock and the user tasks seen so far; `steps` is the log of what happened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.engine import clock, dry_run, runner
from app.engine.errors import EngineError, MessageNotWaitedError, ProcessRuntimeError
from app.engine.scripts import HELPER_NAMES, script_helpers
from app.i18n import N_, translate_stored
from app.models import Role, User
from app.models.base import utcnow
from app.models.studio import DraftTestRun, ProcessDraft
from app.services import audit, definitions, host
from app.services.calendar import get_calendar
from app.services.errors import (
    ConflictError,
    InvalidInputError,
    NotAllowedError,
    NotFoundError,
)
from app.services.forms import validate_form
from app.services.task_views import render_instructions

STATE_FORMAT = "cf-testrun-1"
MAX_JSON_CHARS = 200_000
_HIDDEN_PREFIXES = ("spiff__", "_")
_JUST_AFTER = timedelta(microseconds=1)


class DraftInvalidError(InvalidInputError):
    """The draft does not pass the deploy checks; `problems` lists them (file, line, element)."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(_("草稿未通过校验，不能测试运行。请按问题列表修改草稿后再试。"))
        self.problems = problems
        self.details = {"problems": problems}


# --- input ---------------------------------------------------------------------------------


def parse_json_object(text: str | None, field_name: str, label: str) -> dict[str, Any]:
    """A JSON object typed into a form field (blank means {}); InvalidInputError otherwise."""
    text = (text or "").strip()
    if not text:
        return {}
    if len(text) > MAX_JSON_CHARS:
        raise InvalidInputError(
            _("%(label)s过长。", label=label),
            {field_name: [_("%(label)s最多 %(max)s 个字符。", label=label, max=MAX_JSON_CHARS)]},
        )
    try:
        value = json.loads(text)
    except ValueError as exc:
        message = _(
            "%(label)s不是有效的 JSON（第 %(line)s 行）：%(error)s",
            label=label,
            line=getattr(exc, "lineno", 1),
            error=exc,
        )
        raise InvalidInputError(
            _("%(label)s不是有效的 JSON。", label=label), {field_name: [message]}
        ) from exc
    if not isinstance(value, dict):
        message = _('%(label)s必须是 JSON 对象，例如 {"record_ids": [1]}。', label=label)
        raise InvalidInputError(message, {field_name: [message]})
    return value


def _check_sample_data(data: dict[str, Any]) -> None:
    bad = sorted(
        str(k)
        for k in data
        if not isinstance(k, str) or not k.isidentifier() or k.startswith("_") or k in HELPER_NAMES
    )
    if bad:
        names = "、".join(bad)
        raise InvalidInputError(
            _("样例数据含有无效的字段名。"),
            {
                "sample_data": [
                    _(
                        "字段名 %(names)s 无效：须为英文标识符，不以 _ 开头，不与脚本函数同名。",
                        names=names,
                    )
                ]
            },
        )


def _check_service_results(results: dict[str, Any], used: set[str]) -> None:
    unknown = sorted(set(results) - used)
    if unknown:
        listed = "、".join(sorted(used)) or _("（无）")
        raise InvalidInputError(
            _("服务任务样例结果中有草稿未使用的处理器。"),
            {
                "service_results": [
                    _(
                        "草稿中没有服务任务使用 %(unknown)s；可用的处理器：%(listed)s。",
                        unknown="、".join(unknown),
                        listed=listed,
                    )
                ]
            },
        )


# --- access --------------------------------------------------------------------------------


def _require_studio(actor: User) -> None:
    if actor.role not in (Role.PROCESS_OWNER, Role.ADMIN):
        raise NotAllowedError(_("只有流程管理员和系统管理员可以测试运行草稿。"))


def get_run(session: Session, run_id: int, actor: User, *, lock: bool = False) -> DraftTestRun:
    _require_studio(actor)
    query = select(DraftTestRun).where(DraftTestRun.id == run_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    run = session.scalar(query)
    if run is None:
        raise NotFoundError(_("测试运行不存在（可能已被删除）。"))
    return run


def list_runs(session: Session, draft_id: int, actor: User) -> list[DraftTestRun]:
    """The test runs of a draft, newest first."""
    _require_studio(actor)
    return list(
        session.scalars(
            select(DraftTestRun)
            .where(DraftTestRun.draft_id == draft_id)
            .order_by(DraftTestRun.id.desc())
        )
    )


def get_draft(session: Session, draft_id: int, actor: User) -> ProcessDraft:
    _require_studio(actor)
    draft = session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFoundError(_("草稿不存在。"))
    return draft


def files_sha256(files: dict[str, str]) -> str:
    text = json.dumps(files, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the state wrapper ---------------------------------------------------------------------


@dataclass
class _Run:
    """A test run loaded for one action."""

    row: DraftTestRun
    state: dict[str, Any]
    engine: dry_run.DryRunScriptEngine
    workflow: BpmnWorkflow
    at: datetime
    received: dict[str, Any] | None = None  # the message delivered by this action


def _timezone() -> ZoneInfo:
    return ZoneInfo(host.SETTINGS.timezone)


def _engine(session: Session, service_results: dict[str, Any]) -> dry_run.DryRunScriptEngine:
    helpers = script_helpers(get_calendar(session), host.SETTINGS.timezone)
    return dry_run.make_engine(helpers, service_results)


def _read_state(row: DraftTestRun) -> dict[str, Any]:
    try:
        state = json.loads(row.state)
    except ValueError as exc:
        raise ConflictError(_("测试运行的状态无法读取，请删除后重新开始。")) from exc
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise ConflictError(_("测试运行的状态格式已过期，请删除后重新开始。"))
    return state


def _load(session: Session, row: DraftTestRun) -> _Run:
    state = _read_state(row)
    engine = _engine(session, row.service_results or {})
    try:
        workflow = dry_run.loads(state["workflow"], engine)
    except EngineError as exc:
        raise ConflictError(
            _("%(error)s 请删除该测试运行后重新开始。", error=translate_stored(str(exc)))
        ) from exc
    return _Run(row, state, engine, workflow, datetime.fromisoformat(state["clock"]))


def _used_handlers(spec: Any, subprocess_specs: dict[str, Any]) -> set[str]:
    return {
        ts.operation_name
        for one in [spec, *subprocess_specs.values()]
        for ts in one.task_specs.values()
        if getattr(ts, "operation_name", None)
    }


# --- start ---------------------------------------------------------------------------------


def check_draft(draft: ProcessDraft) -> tuple[Any, dict[str, Any]]:
    """Parse and validate the draft like deploy does: (spec, subprocess specs)."""
    files = {name: text.encode("utf-8") for name, text in (draft.files or {}).items()}
    check = definitions.check_bundle(files)
    problems = [p.as_dict() for p in check.problems if p.severity == "error"]
    if not problems and (check.parser is None or draft.key not in check.process_ids):
        problems = [
            {
                "file": "",
                "line": None,
                "element_id": draft.key,
                "severity": "error",
                "message": f'草稿中没有可执行的流程 {draft.key}（isExecutable="true"）。',
                "message_en": f"The draft has no executable process {draft.key}.",
            }
        ]
    if problems:
        raise DraftInvalidError(problems)
    assert check.parser is not None
    return check.parser.get_spec(draft.key), check.parser.get_subprocess_specs(draft.key)


def start_run(
    session: Session,
    draft_id: int,
    sample_data: dict[str, Any],
    service_results: dict[str, Any],
    actor: User,
) -> DraftTestRun:
    """Validate the draft, start it with the sample data and run to the first wait state.

    A runtime error (script, condition, missing sample result …) still creates the run, in
    status `error` with the message and element, so the user sees where it stopped.
    """
    draft = get_draft(session, draft_id, actor)
    if draft.status != "open":
        raise ConflictError(_("该草稿已发布或已放弃，不能再测试运行。请新建草稿。"))
    if not isinstance(sample_data, dict):
        raise InvalidInputError(
            _("样例数据必须是 JSON 对象。"), {"sample_data": [_("须为 JSON 对象。")]}
        )
    if not isinstance(service_results, dict):
        raise InvalidInputError(
            _("服务任务样例结果必须是 JSON 对象。"), {"service_results": [_("须为 JSON 对象。")]}
        )
    _check_sample_data(sample_data)
    spec, subprocess_specs = check_draft(draft)
    _check_service_results(service_results, _used_handlers(spec, subprocess_specs))
    sample_data = runner.jsonable(sample_data)
    service_results = runner.jsonable(service_results)

    start_data = {
        "instance_id": 0,
        "subject_uscc": None,
        "started_by": actor.username,
        **sample_data,
    }
    engine = _engine(session, service_results)
    at = clock.now()
    workflow = dry_run.new(spec, subprocess_specs, start_data, engine)
    texts = draft.files or {}
    state = {
        "format": STATE_FORMAT,
        "key": draft.key,
        "main_file": spec.file,
        "diagram": texts.get(spec.file, ""),
        "forms": {name: json.loads(text) for name, text in texts.items() if name.endswith(".json")},
        "clock": at.isoformat(),
        "seen_tasks": [],
        "error_element": None,
        "workflow": "",
    }
    row = DraftTestRun(
        draft_id=draft.id,
        files_sha256=files_sha256(texts),
        status="running",
        state="",
        sample_data=sample_data,
        service_results=service_results,
        steps=[],
        created_by_id=actor.id,
    )
    run = _Run(row, state, engine, workflow, at)
    messages = dry_run.start_messages(spec)

    def act(wf: BpmnWorkflow) -> None:
        runner.run(wf)
        for name in messages:  # like a real start: the start data arrives as the message
            if any(waiting == name for waiting, _ in runner.snapshot(wf).waiting_messages):
                run.received = {"name": name, "payload": sample_data}
                runner.deliver_message(wf, name, start_data, {})
                break

    _perform(run, act, _no_details)
    session.add(row)
    session.flush()
    audit.record(
        session,
        "studio.testrun.started",
        actor=actor,
        object_type="draft_test_run",
        object_id=str(row.id),
        details={"draft_id": draft.id, "key": draft.key, "status": row.status},
    )
    return row


# --- one action: run, log, save ------------------------------------------------------------


def _local(at: datetime) -> str:
    return at.astimezone(_timezone()).isoformat(timespec="seconds")


Details = Callable[[dry_run.TaskEvent], dict[str, Any]]


def _perform(run: _Run, act: Callable[[BpmnWorkflow], None], details_for: Details) -> None:
    """Run `act` at the run's clock, then append the steps and save the state.

    `details_for` gives the details of a completion step (the submitted form, the due time of
    a fired timer). A runtime error becomes the `error` status with its step, never a 500.
    """
    workflow = run.workflow
    before = dry_run.completed_ids(workflow)
    error: ProcessRuntimeError | None = None
    with clock.frozen_at(run.at):
        try:
            act(workflow)
        except ProcessRuntimeError as exc:
            error = exc
    at = _local(run.at)
    sent = list(runner.drain_messages(workflow))
    steps: list[tuple[float, dict[str, Any]]] = []
    called = [call.element_id for call in run.engine.calls]
    for event in dry_run.newly_completed(workflow, before):
        if event.element_id in called:  # a service task: its service_call step says it all
            called.remove(event.element_id)
            continue
        details = details_for(event)
        if event.event == "message" and event.throwing:
            message = next((m for m in sent if m.name == event.message), None)
            if message is not None:
                sent.remove(message)
            details = {**details, **_sent_details(event.message, message)}
        elif event.event == "message" and run.received is not None:
            details = {**details, "direction": "received", **run.received}
        step = _step(at, event.element_id, event.name, event.type, event.event, details)
        steps.append((event.stamp, step))
    for call in run.engine.calls:
        details = {"handler": call.handler, "params": call.params, "result": call.result}
        step = _step(at, call.element_id, call.name, "serviceTask", "service_call", details)
        steps.append((call.stamp, step))
    for message in sent:  # thrown by an element not logged above
        step = _step(
            at, None, message.name, "message", "message", _sent_details(message.name, message)
        )
        steps.append((float("inf"), step))
    steps.sort(key=lambda pair: pair[0])
    new_steps = [step for _, step in steps]
    if error is not None:
        new_steps.append(_error_step(at, workflow, error))
    _save(run, new_steps, error)


def _no_details(event: dry_run.TaskEvent) -> dict[str, Any]:
    return {}


def _sent_details(name: str | None, message: runner.OutgoingMessage | None) -> dict[str, Any]:
    return {
        "direction": "sent",
        "name": name,
        "payload": runner.jsonable(message.payload) if message else {},
        "note": N_("测试运行不会真正发送消息。"),
    }


def _step(
    at: str,
    element_id: str | None,
    name: str | None,
    kind: str,
    event: str,
    details: dict[str, Any],
) -> dict[str, Any]:
    return {
        "at": at,
        "element_id": element_id,
        "name": name or element_id,
        "type": kind,
        "event": event,
        "details": runner.jsonable(details),
    }


def _error_step(at: str, workflow: BpmnWorkflow, error: ProcessRuntimeError) -> dict[str, Any]:
    task = dry_run.errored_task(workflow, error.element_id)
    spec = task.task_spec if task is not None else None
    return _step(
        at,
        error.element_id,
        (spec.bpmn_name or spec.bpmn_id) if spec is not None else error.element_id,
        dry_run.element_type(spec) if spec is not None else "",
        "error",
        {"message": error.message, "line": error.line, "error_line": error.error_line},
    )


def _save(run: _Run, new_steps: list[dict[str, Any]], error: ProcessRuntimeError | None) -> None:
    row, state, workflow = run.row, run.state, run.workflow
    snap = runner.snapshot(workflow)
    seen = set(state.get("seen_tasks") or [])
    seen |= snap.known_task_ids
    state["seen_tasks"] = sorted(seen)
    state["clock"] = run.at.isoformat()
    try:
        state["workflow"] = dry_run.dumps(workflow)
    except (TypeError, ValueError):  # an errored workflow that cannot be saved keeps the last one
        if error is None:
            raise
    if error is not None:
        row.status = "error"
        row.error = error.message[:4000]
        state["error_element"] = error.element_id
    elif workflow.is_completed():
        row.status = "completed"
    else:
        row.status = "running"
    row.state = json.dumps(state, ensure_ascii=False)
    row.steps = [*(row.steps or []), *new_steps]
    row.updated_at = utcnow()


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(_("该测试运行刚被另一个操作更新，请刷新页面查看最新状态。")) from exc


_STOPPED = {
    "completed": _l("测试运行已结束，不能继续操作。可以删除后重新开始。"),
    "error": _l("测试运行已出错停止，请修改草稿或样例数据后重新开始测试运行。"),
}


def _require_running(row: DraftTestRun) -> None:
    if row.status != "running":
        raise ConflictError(str(_STOPPED.get(row.status, _l("测试运行已停止，不能继续操作。"))))


def _running(session: Session, run_id: int, actor: User) -> _Run:
    row = get_run(session, run_id, actor, lock=True)
    _require_running(row)
    return _load(session, row)


def _audit(session: Session, action: str, row: DraftTestRun, actor: User, **details: Any) -> None:
    audit.record(
        session,
        f"studio.testrun.{action}",
        actor=actor,
        object_type="draft_test_run",
        object_id=str(row.id),
        details={"draft_id": row.draft_id, "status": row.status, **details},
    )


# --- actions -------------------------------------------------------------------------------


def complete_task(
    session: Session, run_id: int, task_id: str, form_data: dict[str, Any], actor: User
) -> DraftTestRun:
    """Complete a ready user task of the run with the form data (validated like real tasks)."""
    row = get_run(session, run_id, actor, lock=True)
    run = _load(session, row)
    task = dry_run.find_task(run.workflow, task_id)
    if task is None and task_id not in (run.state.get("seen_tasks") or []):
        raise NotFoundError(_("测试运行中没有这个任务。"))
    _require_running(row)
    if task is None or not dry_run.is_ready_user_task(task):
        raise ConflictError(_("该任务已办理或已取消（可能是重复提交），请刷新页面查看最新状态。"))
    data = validate_form(_schema(run.state, task), form_data)
    by = actor.display_name or actor.username
    lane = task.task_spec.lane

    def details(event: dry_run.TaskEvent) -> dict[str, Any]:
        return {"form": data, "by": by, "lane": lane} if event.task_id == task_id else {}

    _perform(run, lambda wf: runner.complete(wf, task_id, data), details)
    _flush(session)
    _audit(session, "completed_task", row, actor, task=task.task_spec.bpmn_id)
    return row


def _schema(state: dict[str, Any], task: Any) -> dict[str, Any] | None:
    form_file = _form_file(task.task_spec)
    return (state.get("forms") or {}).get(form_file or "")


def _form_file(spec: Any) -> str | None:
    properties = (getattr(spec, "extensions", {}) or {}).get("properties", {}) or {}
    value = properties.get("formJsonSchemaFilename")
    return value if isinstance(value, str) else None


def fire_timer(session: Session, run_id: int, actor: User) -> DraftTestRun:
    """Move the run's own clock to the next timer's due time and fire what is due then."""
    run = _running(session, run_id, actor)
    due = runner.next_timer_due(run.workflow)
    if due is None:
        raise ConflictError(_("该测试运行当前没有等待中的定时器。"))
    previous = run.at
    run.at = max(run.at, due + _JUST_AFTER)  # the library fires a timer once now > due

    def details(event: dry_run.TaskEvent) -> dict[str, Any]:
        if event.event != "timer_fired":
            return {}
        return {"due": _local(due), "clock_before": _local(previous)}

    _perform(run, runner.fire_timers, details)
    _flush(session)
    _audit(session, "fired_timer", run.row, actor, due=due.isoformat())
    return run.row


def send_message(
    session: Session, run_id: int, name: str, payload: dict[str, Any], actor: User
) -> DraftTestRun:
    """Deliver a message to the run (correlation values are taken from the payload)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInputError(_("请填写消息名称。"), {"name": [_("请填写消息名称。")]})
    if not isinstance(payload, dict):
        raise InvalidInputError(
            _("消息内容必须是 JSON 对象。"), {"payload": [_("须为 JSON 对象。")]}
        )
    run = _running(session, run_id, actor)
    waiting = sorted({w for w, _ in runner.snapshot(run.workflow).waiting_messages})
    if name not in waiting:
        listed = "、".join(waiting) or _("无")
        message = _(
            "测试运行当前不在等待消息 %(name)s（正在等待的消息：%(listed)s）。",
            name=name,
            listed=listed,
        )
        raise InvalidInputError(message, {"name": [message]})
    payload = runner.jsonable(payload)
    run.received = {"name": name, "payload": payload}

    def act(wf: BpmnWorkflow) -> None:
        try:
            runner.deliver_message(wf, name, payload, payload)
        except MessageNotWaitedError as exc:
            raise InvalidInputError(str(exc), {"payload": [str(exc)]}) from exc

    _perform(run, act, _no_details)
    _flush(session)
    _audit(session, "sent_message", run.row, actor, message=name)
    return run.row


def delete_run(session: Session, run_id: int, actor: User) -> int:
    """Delete a test run; returns its draft id."""
    row = get_run(session, run_id, actor, lock=True)
    draft_id = row.draft_id
    _audit(session, "deleted", row, actor)
    session.delete(row)
    _flush(session)
    return draft_id


# --- what the page shows -------------------------------------------------------------------


@dataclass(frozen=True)
class ReadyTask:
    id: str
    element_id: str
    name: str
    lane: str | None
    form_file: str | None
    schema: dict[str, Any] | None
    data: dict[str, Any]
    instructions: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class RunView:
    run: DraftTestRun
    key: str
    diagram: str
    main_file: str
    completed: list[str]
    active: list[str]
    errored: list[str]
    ready: list[ReadyTask]
    data: dict[str, Any]
    clock: datetime
    next_timer: datetime | None
    waiting_messages: list[str]
    draft_changed: bool

    @property
    def stuck(self) -> bool:
        """Running, but nothing can move it on (no task, timer or message)."""
        return (
            self.run.status == "running"
            and not self.ready
            and self.next_timer is None
            and not self.waiting_messages
        )


def _visible(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith(_HIDDEN_PREFIXES)}


def describe(session: Session, row: DraftTestRun) -> RunView:
    """Everything the test-run page shows, read from the stored state (nothing is saved)."""
    run = _load(session, row)
    workflow, state, tz = run.workflow, run.state, _timezone()
    snap = runner.snapshot(workflow)
    ready: list[ReadyTask] = []
    if row.status == "running":
        for view in snap.ready_tasks:
            data = runner.jsonable(view.data)
            ready.append(
                ReadyTask(
                    id=view.id,
                    element_id=view.bpmn_id,
                    name=view.name,
                    lane=view.lane,
                    form_file=view.form_file,
                    schema=(state.get("forms") or {}).get(view.form_file or ""),
                    data=_visible(data),
                    instructions=render_instructions(view.instructions, data),
                    due_at=view.due_at.astimezone(tz) if view.due_at else None,
                )
            )
    draft = session.get(ProcessDraft, row.draft_id)
    changed = draft is None or files_sha256(draft.files or {}) != row.files_sha256
    error_element = state.get("error_element")
    next_timer = snap.next_timer_due if row.status == "running" else None
    return RunView(
        run=row,
        key=state.get("key", ""),
        diagram=state.get("diagram", ""),
        main_file=state.get("main_file", ""),
        completed=dry_run.path_ids(workflow),
        active=sorted({t.element_id for t in ready}),
        errored=[error_element] if error_element else [],
        ready=ready,
        data=_visible(runner.jsonable(dry_run.current_data(workflow))),
        clock=run.at.astimezone(tz),
        next_timer=next_timer.astimezone(tz) if next_timer else None,
        waiting_messages=sorted({w for w, _ in snap.waiting_messages})
        if row.status == "running"
        else [],
        draft_changed=changed,
    )


def ready_task(view: RunView, task_id: str) -> ReadyTask | None:
    return next((t for t in view.ready if t.id == task_id), None)


def start_form_defaults(session: Session, draft: ProcessDraft, actor: User) -> dict[str, Any]:
    """What the start form is prefilled with: the last run's input, or a skeleton.

    The skeleton of `service_results` names every handler the draft's service tasks call.
    Raises DraftInvalidError when the draft does not validate.
    """
    spec, subprocess_specs = check_draft(draft)
    handlers = sorted(_used_handlers(spec, subprocess_specs))
    last = next(iter(list_runs(session, draft.id, actor)), None)
    if last is not None:
        return {
            "handlers": handlers,
            "sample_data": last.sample_data or {},
            "service_results": last.service_results or {},
        }
    return {
        "handlers": handlers,
        "sample_data": {},
        "service_results": {name: {} for name in handlers},
    }
