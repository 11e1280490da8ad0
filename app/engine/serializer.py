"""Lean JSON serialization: the spec is stored once per version, not in every instance.

A copy of SPIFF_CONFIG maps BpmnWorkflow to `_LeanWorkflowConverter`, which writes a
`spec_key` (the process-version id) instead of the specs and, on the way in, takes the parsed
specs from the per-worker cache. Everything else is the library's own converter.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from app.engine import specs
from app.engine.errors import EngineError
from app.i18n import N_

SERIALIZER_VERSION = "cf-1"  # our format on top of the library's `serializer_version`


class _LeanWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["spec_key"] = getattr(workflow.spec, "spec_key", None)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct  # type: ignore[no-any-return]

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = specs.cached(dct.pop("spec_key"))
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _MemoTaskConverter(TaskConverter):  # type: ignore[misc]
    """Reuse the dict of a completed task while nothing it is computed from has changed.

    Without this, saving re-converts every task of the tree on every step, so the cost of a
    step grows with the instance's history. A completed task's dict depends on the task itself
    and, through the stored delta, on its parent's data. Under a completed parent that data no
    longer changes; under a parent still running (a loop or multi-instance task whose
    iterations are its children) the key includes a fingerprint of the parent's data, computed
    once per parent per save. The memo lives on the workflow object (and so in the per-worker
    workflow cache) and holds one entry per task.
    """

    def to_dict(self, task: Task) -> dict[str, Any]:
        if task.state != TaskState.COMPLETED:
            return super().to_dict(task)  # type: ignore[no-any-return]
        parent = task.parent
        if parent is None or parent.state == TaskState.COMPLETED:
            parent_key: object = parent.last_state_change if parent is not None else None
        else:
            parent_key = _data_fingerprint(parent)
        key = (
            task.last_state_change,
            len(task._children),
            parent_key,
            self.registry._encoder_mode,
        )
        memo = task.workflow.__dict__.setdefault("_cf_task_memo", {})
        hit = memo.get(task.id)
        if hit is not None and hit[0] == key:
            return hit[1]  # type: ignore[no-any-return]
        found = super().to_dict(task)
        memo[task.id] = (key, found)
        return found  # type: ignore[no-any-return]


_save_generation = 0  # bumped by every dumps(): fingerprints are valid within one save only


def _data_fingerprint(task: Task) -> tuple[str, str]:
    """A digest of a running task's data (repr keeps types apart: Decimal('1') != '1')."""
    cached = task.__dict__.get("_cf_fingerprint")
    if cached is not None and cached[0] == _save_generation:
        return cached[1]  # type: ignore[no-any-return]
    digest = hashlib.blake2b(repr(task.data).encode(), digest_size=16).hexdigest()
    value = (str(task.last_state_change), digest)
    task.__dict__["_cf_fingerprint"] = (_save_generation, value)
    return value


def _registry() -> Any:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _LeanWorkflowConverter
    config[Task] = _MemoTaskConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"])
    )
    return registry


SERIALIZER = BpmnWorkflowSerializer(_registry())
# Specs are serialized with the library's default (spec-embedding) configuration.
SPEC_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def dumps(workflow: BpmnWorkflow) -> str:
    """The instance's lean JSON state."""
    global _save_generation
    _save_generation += 1
    return SERIALIZER.serialize_json(workflow)  # type: ignore[no-any-return]


def loads(state: str) -> BpmnWorkflow:
    """Restore an instance; the caller must set the script engine (see runner.load)."""
    try:
        return SERIALIZER.deserialize_json(state)
    except (KeyError, ValueError, TypeError) as exc:
        raise EngineError(N_("无法恢复流程实例状态：%(error)s") % {"error": exc}) from exc


def spec_to_json(spec: Any, subprocess_specs: dict[str, Any]) -> str:
    registry = SPEC_SERIALIZER.registry
    return json.dumps(
        {
            "spec": registry.convert(spec),
            "subprocess_specs": {k: registry.convert(v) for k, v in subprocess_specs.items()},
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def spec_from_json(text: str) -> tuple[Any, dict[str, Any]]:
    registry = SPEC_SERIALIZER.registry
    dct = json.loads(text)
    return (
        registry.restore(dct["spec"]),
        {k: registry.restore(v) for k, v in dct["subprocess_specs"].items()},
    )
