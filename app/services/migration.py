"""Move running instances onto another deployed version of their process (process owners).

A dry run reports what would change and why a move is refused; `migrate` moves one instance
under its row lock, proves the new state restores on the target version, rewrites the
projections and records `instance.migrated`; `migrate_many` moves each instance of a batch in
its own savepoint and reports per instance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.engine import runner
from app.engine.errors import EngineError
from app.engine.migration import MigrationPlan, MigrationRefusedError, apply_migration
from app.engine.migration import plan_migration as engine_plan
from app.i18n import translate_stored
from app.models import HumanTask, InstanceStatus, ProcessInstance, ProcessVersion, User
from app.services import audit, host
from app.services.definitions import get_version, load_specs
from app.services.errors import ConflictError, NotAllowedError, NotFoundError, ServiceError
from app.services.permissions import can_manage_processes

logger = logging.getLogger(__name__)

MIGRATABLE = (InstanceStatus.RUNNING.value, InstanceStatus.SUSPENDED.value)


def _authorize(actor: User) -> None:
    if not can_manage_processes(actor):
        raise NotAllowedError(_("只有流程管理员或系统管理员可以迁移流程实例。"))


@dataclass(frozen=True)
class _Loaded:
    """A loaded instance with the target version's specs and the plan made between them."""

    workflow: Any
    spec: Any
    subprocess_specs: dict[str, Any]
    plan: MigrationPlan


def _target(session: Session, instance: ProcessInstance, target: int | None) -> ProcessVersion:
    return get_version(session, instance.process_key, target)


def _shown(reasons: list[str]) -> list[str]:
    """The engine's (Chinese) reasons in the request's language."""
    return [translate_stored(r) for r in reasons]


def _status_reasons(instance: ProcessInstance, target: ProcessVersion) -> list[str]:
    reasons = []
    if instance.status not in MIGRATABLE:
        reasons.append(
            _("只有运行中或已挂起的实例可以迁移（当前：%(status)s）", status=instance.status)
        )
    if instance.version_id == target.id:
        reasons.append(_("实例已在版本 %(version)s 上，无需迁移", version=target.version))
    return reasons


def _plan(session: Session, instance: ProcessInstance, target: ProcessVersion) -> _Loaded:
    try:
        workflow = host.load(session, instance)
        spec, subprocess_specs = load_specs(target)
        plan = engine_plan(workflow, spec, subprocess_specs)
        return _Loaded(workflow, spec, subprocess_specs, plan)
    except EngineError as exc:
        raise ConflictError(
            _("无法读取该实例的流程状态：%(error)s", error=translate_stored(str(exc)))
        ) from exc


def _report(
    instance: ProcessInstance, from_version: int, target: ProcessVersion, plan: MigrationPlan
) -> dict[str, Any]:
    blocking = _status_reasons(instance, target) + _shown(plan.blocking)
    return {
        "instance_id": instance.id,
        "process_key": instance.process_key,
        "from_version": from_version,
        "to_version": target.version,
        **plan.as_dict(),
        "allowed": not blocking,
        "blocking": blocking,
    }


def dry_run(
    session: Session, instance_id: int, actor: User, target_version: int | None = None
) -> dict[str, Any]:
    """What migrating to `target_version` (default: the latest) would change; nothing is saved."""
    _authorize(actor)
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFoundError(_("流程实例不存在。"))
    target = _target(session, instance, target_version)
    if instance.status in MIGRATABLE:
        plan = _plan(session, instance, target).plan
    else:  # finished or failed: nothing to compare, the status reason says why
        plan = MigrationPlan(False, [], [], {}, [])
    return _report(instance, instance.version.version, target, plan)


def migrate(
    session: Session, instance_id: int, actor: User, target_version: int | None = None
) -> dict[str, Any]:
    """Move one running or suspended instance to `target_version` (default: the latest).

    ConflictError (with the reasons in `details["blocking"]`) when the move is not safe;
    nothing is changed then.
    """
    _authorize(actor)
    instance = host.lock_instance(session, instance_id)
    target = _target(session, instance, target_version)
    from_version = instance.version.version
    reasons = _status_reasons(instance, target)
    if reasons:
        raise ConflictError(
            _("无法迁移：%(reasons)s。", reasons=_("；").join(reasons)),
            details={"blocking": reasons},
        )
    loaded = _plan(session, instance, target)
    plan = loaded.plan
    report = _report(instance, from_version, target, plan)
    if not plan.allowed:
        blocking = _shown(plan.blocking)
        raise ConflictError(
            _("无法迁移：%(reasons)s。", reasons=_("；").join(blocking)),
            details={"blocking": blocking},
        )
    with session.begin_nested():
        _apply(session, instance, loaded, target)
        audit.record(
            session,
            "instance.migrated",
            actor=actor,
            object_type="process_instance",
            object_id=str(instance.id),
            details={
                "process_key": instance.process_key,
                "from_version": from_version,
                "to_version": target.version,
                "added": plan.added,
                "removed": plan.removed,
                "changed": sorted(plan.changed),
            },
        )
    logger.info(
        "instance %s of %s migrated from version %s to %s by %s",
        instance.id,
        instance.process_key,
        from_version,
        target.version,
        actor.username,
    )
    return {**report, "migrated": True}


def _apply(
    session: Session, instance: ProcessInstance, loaded: _Loaded, target: ProcessVersion
) -> None:
    workflow, spec = loaded.workflow, loaded.spec
    try:
        apply_migration(workflow, loaded.plan, spec, loaded.subprocess_specs)
    except MigrationRefusedError as exc:
        blocking = _shown(exc.blocking)
        raise ConflictError(
            _("无法迁移：%(reasons)s。", reasons=_("；").join(blocking)),
            details={"blocking": blocking},
        ) from exc
    if workflow.spec is not spec or getattr(spec, "spec_key", None) is None:
        raise ConflictError(_("迁移后的流程定义与目标版本不一致，已放弃迁移。"))
    instance.version = target
    instance.version_id = target.id
    instance.state = runner.dumps(workflow)
    # Restore from the new state before saving: proves it loads on the target version.
    try:
        restored = host.load(session, instance)
    except EngineError as exc:
        raise ConflictError(
            _("迁移后的状态无法恢复，已放弃迁移：%(error)s", error=translate_stored(str(exc)))
        ) from exc
    snap = host.save(session, instance, restored)
    _refresh_inbox(session, snap)


def _refresh_inbox(session: Session, snap: runner.Snapshot) -> None:
    """Open inbox rows take name, lane and form from the new version (save keeps old rows)."""
    for view in snap.ready_tasks:
        row = session.get(HumanTask, view.id)
        if row is None or row.state != "ready":
            continue
        if row.lane != view.lane:
            row.assignee_id = None  # claimed under another lane
        row.bpmn_id, row.name, row.lane, row.form_file = (
            view.bpmn_id,
            view.name,
            view.lane,
            view.form_file,
        )
    session.flush()


def migrate_many(
    session: Session, instance_ids: list[int], actor: User, target_version: int | None = None
) -> list[dict[str, Any]]:
    """Migrate each instance in its own savepoint; a refusal does not stop the others.

    Each result is {"instance_id", "outcome": "migrated" | "refused", …}: a migrated one carries
    the migrate report, a refused one `reason` and `blocking`.
    """
    _authorize(actor)
    results: list[dict[str, Any]] = []
    for instance_id in dict.fromkeys(instance_ids):
        try:
            with session.begin_nested():
                report = migrate(session, instance_id, actor, target_version)
        except ServiceError as exc:
            blocking = exc.details.get("blocking")
            results.append(
                {
                    "instance_id": instance_id,
                    "outcome": "refused",
                    "reason": exc.message,
                    "blocking": blocking if isinstance(blocking, list) else [exc.message],
                }
            )
            continue
        results.append({**report, "outcome": "migrated"})
    return results
