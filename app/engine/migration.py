"""Move a running instance onto another deployed version of its process (ENGINE §11).

`plan_migration` compares the instance's specs with the target version's (the library's
`SpecDiff`) and says whether moving is safe: it is not when a task that already ran (COMPLETED,
STARTED, ERROR) has a changed or removed spec, or when a task that stays in the tree after
migration would point at a spec the new version no longer has (the state could not be restored).
`apply_migration` runs the library's `migrate_workflow` on the top workflow and every live
subprocess; READY and WAITING branches are reset and re-predicted from the new spec.

Differences from the plain library calls, each for a reason found on 3.2.0:
- the workflow diff covers every task in `workflow.tasks`; the library walks `get_tasks()`,
  which stops at depth 1000 (long loops);
- the spec alignment falls back to the spec name for specs the library's traversal from the
  start event never reaches, instead of raising `KeyError`;
- `migrate_workflow` sets only `workflow.spec`; the top workflow's `subprocess_specs` (used for
  call activities started later) is replaced here;
- resetting a WAITING timer clears its due time, so a duration timer would restart from now;
  the due time of timers whose spec did not change is put back;
- waiting-event bookkeeping is pruned of tasks that are gone or no longer wait.

The new spec objects must be the cached ones of the target version (`specs.ensure`): they carry
the `spec_key` the lean serializer writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from app.engine import clock, runner
from app.engine.errors import EngineError
from app.engine.serializer import SPEC_SERIALIZER
from app.i18n import N_

RESET_MASK = TaskState.READY | TaskState.WAITING  # what migrate_workflow resets by default
RAN_MASK = TaskState.COMPLETED | TaskState.STARTED | TaskState.ERROR

# Reasons are Chinese messages (`N_`), shown in the reader's language by `translate_stored`.
_STATE_LABELS = (
    (TaskState.COMPLETED, N_("已完成的环节")),
    (TaskState.STARTED, N_("进行中的环节")),
    (TaskState.ERROR, N_("出错的环节")),
    (RESET_MASK, N_("当前等待的环节")),
    (TaskState.CANCELLED, N_("已取消的环节")),
)


class MigrationRefusedError(EngineError):
    """The plan does not allow the migration; `blocking` says why."""

    def __init__(self, blocking: list[str]) -> None:
        super().__init__("；".join(blocking) or N_("不允许迁移。"))
        self.blocking = blocking


@dataclass
class MigrationPlan:
    """What moving one loaded instance to a new spec would change, and whether it is allowed.

    Names are task spec names (BPMN ids, plus the library's helper specs such as
    `x.BoundaryEventSplit`); those of called processes are prefixed `process_id/`, and a called
    process that appears or disappears as a whole is `process_id/*`. The diffs are bound to the
    workflow object the plan was made from: plan and apply on the same loaded instance.
    """

    allowed: bool
    added: list[str]
    removed: list[str]
    changed: dict[str, list[str]]
    blocking: list[str]
    workflow: BpmnWorkflow | None = field(default=None, repr=False, compare=False)
    workflow_diff: WorkflowDiff | None = field(default=None, repr=False, compare=False)
    subprocess_diffs: dict[UUID, WorkflowDiff | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": {k: list(v) for k, v in self.changed.items()},
            "blocking": list(self.blocking),
        }


class _TreeWorkflowDiff(WorkflowDiff):  # type: ignore[misc]
    """The library's WorkflowDiff over every task of the workflow, not only those within reach."""

    def _align(self, workflow: Any, spec_diff: SpecDiff) -> None:
        changed = spec_diff.changed
        removed = set(spec_diff.removed)
        for task in workflow.tasks.values():
            if task.task_spec in changed:
                self.changed.append(task)
            if task.task_spec in removed:
                self.removed.append(task)
            else:
                self.alignment[task] = spec_diff.alignment.get(task.task_spec)


def _spec_diff(original: Any, new: Any) -> SpecDiff:
    diff = SpecDiff(SPEC_SERIALIZER.registry, original, new)
    for spec in original.task_specs.values():
        if spec not in diff.alignment:  # never reached from the start event
            candidate = new.task_specs.get(spec.name)
            diff.alignment[spec] = candidate
            if candidate is not None:
                diff.comparisons[spec] = diff._compare_task_specs(spec, candidate)
    return diff


def _label(task: Any) -> str:
    for mask, label in _STATE_LABELS:
        if task.has_state(mask):
            return label
    return N_("已预测的后续环节")


def _surviving(workflow: Any) -> list[Any]:
    """Tasks still in the tree after migrate_workflow (descendants of reset tasks are dropped)."""
    dropped: set[UUID] = set()
    for task in workflow.get_tasks(state=RESET_MASK, skip_subprocesses=True):
        stack = list(task.children)
        while stack:
            child = stack.pop()
            dropped.add(child.id)
            stack.extend(child.children)
    return [t for t in workflow.tasks.values() if t.id not in dropped]


def _blocking(workflow: Any, spec_diff: SpecDiff, prefix: str) -> list[str]:
    changed = spec_diff.changed
    removed = set(spec_diff.removed)
    reasons = []
    for task in _surviving(workflow):
        name = prefix + task.task_spec.name
        if task.task_spec in removed:
            reasons.append(
                N_("%(state)s %(name)s 在新版本中已删除") % {"state": _label(task), "name": name}
            )
        elif task.task_spec in changed and task.has_state(RAN_MASK):
            attributes = "、".join(changed[task.task_spec])
            reasons.append(
                N_("%(state)s %(name)s 在新版本中被修改（%(attributes)s）")
                % {"state": _label(task), "name": name, "attributes": attributes}
            )
    return reasons


def _summarize(diff: SpecDiff, prefix: str, plan: MigrationPlan) -> None:
    plan.added.extend(prefix + spec.name for spec in diff.added)
    plan.removed.extend(prefix + spec.name for spec in diff.removed)
    plan.changed.update({prefix + s.name: list(attrs) for s, attrs in diff.changed.items()})


def plan_migration(
    workflow: BpmnWorkflow,
    new_spec: Any,
    new_subprocess_specs: dict[str, Any],
    *,
    now: datetime | None = None,
) -> MigrationPlan:
    """Compare a loaded instance with the new specs; nothing is changed."""
    plan = MigrationPlan(True, [], [], {}, [], workflow=workflow)
    top = _spec_diff(workflow.spec, new_spec)
    _summarize(top, "", plan)
    plan.workflow_diff = _TreeWorkflowDiff(workflow, top)
    blocking = _blocking(workflow, top, "")

    dependency_diffs: dict[int, SpecDiff] = {}
    for name, spec in workflow.subprocess_specs.items():
        if name in new_subprocess_specs:
            dependency_diffs[id(spec)] = _spec_diff(spec, new_subprocess_specs[name])
            _summarize(dependency_diffs[id(spec)], f"{name}/", plan)
        else:
            plan.removed.append(f"{name}/*")
    plan.added.extend(f"{n}/*" for n in new_subprocess_specs if n not in workflow.subprocess_specs)

    for sp_id, subprocess in workflow.subprocesses.items():
        name = subprocess.spec.name
        if name not in new_subprocess_specs:
            plan.subprocess_diffs[sp_id] = None
            blocking.append(N_("进行中的子流程 %(name)s 在新版本中已不存在") % {"name": name})
            continue
        diff = dependency_diffs.get(id(subprocess.spec)) or _spec_diff(
            subprocess.spec, new_subprocess_specs[name]
        )
        plan.subprocess_diffs[sp_id] = _TreeWorkflowDiff(subprocess, diff)
        blocking.extend(_blocking(subprocess, diff, f"{name}/"))

    due = runner.next_timer_due(workflow)
    if due is not None and due <= (now or clock.now()):
        blocking.append(N_("实例有已到期但尚未触发的定时器，请等定时任务处理后再迁移"))
    plan.blocking = list(dict.fromkeys(blocking))
    plan.allowed = not plan.blocking
    return plan


def apply_migration(
    workflow: BpmnWorkflow,
    plan: MigrationPlan | tuple[WorkflowDiff, dict[UUID, WorkflowDiff | None]],
    new_spec: Any,
    new_subprocess_specs: dict[str, Any],
) -> list[Any]:
    """Move the workflow onto the new specs; returns the (predicted) tasks dropped.

    `plan` is a plan from `plan_migration` for this very workflow object (refused unless
    allowed), or the `(workflow_diff, subprocess_diffs)` pair of the library's `diff_workflow`.
    Raises MigrationRefusedError when refused or when a task would be left on an old spec; in
    the latter case the object is half-migrated: discard it (never save it).
    """
    if isinstance(plan, MigrationPlan):
        if not plan.allowed:
            raise MigrationRefusedError(plan.blocking)
        if plan.workflow is not workflow or plan.workflow_diff is None:
            raise MigrationRefusedError([N_("迁移计划不属于该流程实例，请重新生成")])
        top_diff, sp_diffs = plan.workflow_diff, plan.subprocess_diffs
    else:
        top_diff, sp_diffs = plan
    workflows = [workflow, *workflow.subprocesses.values()]
    due_times = _kept_due_times(workflows, [top_diff, *sp_diffs.values()])

    removed = list(migrate_workflow(top_diff, workflow, new_spec))
    workflow.subprocess_specs = dict(new_subprocess_specs)
    for sp_id, subprocess in list(workflow.subprocesses.items()):
        diff = sp_diffs.get(sp_id)
        if diff is None or subprocess.spec.name not in new_subprocess_specs:
            raise MigrationRefusedError(
                [N_("进行中的子流程 %(name)s 无法迁移") % {"name": subprocess.spec.name}]
            )
        new_sub = new_subprocess_specs[subprocess.spec.name]
        removed.extend(migrate_workflow(diff, subprocess, new_sub))

    workflows = [workflow, *workflow.subprocesses.values()]
    _restore_due_times(workflows, due_times)
    _prune_waiting(workflow, workflows)
    _check_specs(workflows)
    return removed


def _kept_due_times(workflows: list[Any], diffs: list[WorkflowDiff | None]) -> dict[UUID, Any]:
    changed = {t.id for d in diffs if d is not None for t in d.changed}
    return {
        task.id: task.internal_data["event_value"]
        for wf in workflows
        for task in wf.tasks.values()
        if task.has_state(TaskState.WAITING)
        and task.id not in changed
        and "event_value" in task.internal_data
    }


def _restore_due_times(workflows: list[Any], due_times: dict[UUID, Any]) -> None:
    for wf in workflows:
        for task_id, value in due_times.items():
            task = wf.tasks.get(task_id)
            if task is not None and task.has_state(TaskState.WAITING):
                task.internal_data["event_value"] = value


def _prune_waiting(workflow: Any, workflows: list[Any]) -> None:
    live = {t.id: t for wf in workflows for t in wf.tasks.values()}
    manager = workflow.event_manager
    for task_id, task in list(manager.tasks.items()):
        current = live.get(task_id)
        if (
            current is not task
            or not isinstance(task.task_spec, CatchingEvent)
            or not task.has_state(TaskState.WAITING)
        ):
            manager.tasks.pop(task_id, None)


def _check_specs(workflows: list[Any]) -> None:
    stale = sorted(
        {
            task.task_spec.name
            for wf in workflows
            for task in wf.tasks.values()
            if wf.spec.task_specs.get(task.task_spec.name) is not task.task_spec
        }
    )
    if stale:
        raise MigrationRefusedError(
            [N_("环节 %(name)s 迁移后仍指向旧版本定义") % {"name": name} for name in stale]
        )
