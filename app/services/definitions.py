"""Process definitions: validate a bundle and deploy it as immutable, numbered versions."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.engine import specs
from app.engine.serializer import spec_to_json
from app.engine.validation import BundleCheck, Problem, validate_bundle
from app.models import ProcessVersion, User
from app.services import audit, model_texts
from app.services.errors import InvalidInputError, NotFoundError
from app.services.handlers import HANDLERS

logger = logging.getLogger(__name__)

LANE_ROLES = ("enterprise", "window", "reviewer", "inspector", "leader")
BUNDLE_SUFFIXES = (".bpmn", ".dmn", ".json")


class BundleInvalidError(InvalidInputError):
    """A bundle with problems; `problems` lists {file, line, element_id, message, …}."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(_("流程文件未通过校验，请按问题列表修改后重新发布。"))
        self.problems = problems
        self.details = {"errors": problems}


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    created: bool
    sha256: str


def check_bundle(files: Mapping[str, bytes]) -> BundleCheck:
    """The same checks as deploy, without storing anything."""
    from app.services.process_handlers import load_all

    load_all()
    return validate_bundle(files, lane_roles=LANE_ROLES, service_handlers=set(HANDLERS))


def read_bundle_dir(path: Path) -> dict[str, bytes]:
    """The .bpmn, .dmn, form .json and .i18n.json files of a directory (not recursive)."""
    if not path.is_dir():
        raise NotFoundError(_("目录不存在：%(path)s", path=path))
    return {
        p.name: p.read_bytes()
        for p in sorted(path.iterdir())
        if p.is_file() and p.suffix in BUNDLE_SUFFIXES
    }


def deploy_bundle(
    session: Session,
    files: Mapping[str, bytes],
    actor: User | None = None,
    only: Collection[str] | None = None,
) -> list[Deployed]:
    """Deploy every executable process in the bundle whose content changed as version N+1.

    `only` limits the deploy to those process ids (the studio deploys one draft's process);
    the whole bundle is still validated. An id in `only` that is not an executable process of
    the bundle is a problem, not silently skipped.
    """
    check = check_bundle(files)
    if not check.ok or check.parser is None:
        raise BundleInvalidError([p.as_dict() for p in check.problems if p.severity == "error"])
    process_ids = list(check.process_ids)
    if only is not None:
        wanted = set(only)
        missing = sorted(wanted - set(process_ids))
        if missing:
            raise BundleInvalidError([_not_executable(pid).as_dict() for pid in missing])
        process_ids = [pid for pid in process_ids if pid in wanted]
    too_long = _too_long(check.parser, process_ids)
    if too_long:
        raise BundleInvalidError(too_long)
    # form schemas, and each process's translations (<process id>.i18n.json), kept together
    forms = {name: json.loads(body) for name, body in files.items() if name.endswith(".json")}
    texts = {name: body.decode("utf-8") for name, body in files.items()}
    return [_deploy_process(session, check.parser, pid, forms, texts, actor) for pid in process_ids]


def _not_executable(pid: str) -> Problem:
    return Problem(
        "",
        None,
        pid[:MAX_ID],
        f"文件中没有 id 为 {pid!r} 的可执行流程。请确认流程 id 未被修改，"
        '且流程设置了 isExecutable="true"。',
        f'No executable process with id {pid!r}: keep the process id and set isExecutable="true".',
    )


MAX_KEY = 56  # process_version.key is 64 characters, and audit ids add ":<version>"
MAX_ID = 128  # element ids, message names and form file names are stored in 128 characters


def _too_long(parser: Any, process_ids: list[str]) -> list[dict[str, Any]]:
    """Names that would not fit their columns (a database error at deploy or run time)."""
    problems: list[dict[str, Any]] = []

    def add(file: str, element_id: str, what: tuple[str, str], limit: int) -> None:
        problems.append(
            Problem(
                file,
                None,
                element_id[:MAX_ID],
                f"{what[0]}过长：最多 {limit} 个字符，请缩短。",
                f"The {what[1]} is too long: at most {limit} characters.",
            ).as_dict()
        )

    for pid in process_ids:
        spec = parser.get_spec(pid)
        if len(pid) > MAX_KEY:
            add(spec.file, pid, ("流程 id", "process id"), MAX_KEY)
        for one in [spec, *parser.get_subprocess_specs(pid).values()]:
            for ts in one.task_specs.values():
                bpmn_id = getattr(ts, "bpmn_id", None) or ""
                if len(bpmn_id) > MAX_ID:
                    add(one.file, bpmn_id, ("元素 id", "element id"), MAX_ID)
                message = getattr(getattr(ts, "event_definition", None), "name", None)
                if isinstance(message, str) and len(message) > MAX_ID:
                    add(one.file, bpmn_id, ("消息名称", "message name"), MAX_ID)
                properties = (getattr(ts, "extensions", {}) or {}).get("properties", {}) or {}
                form = properties.get("formJsonSchemaFilename")
                if isinstance(form, str) and len(form) > MAX_ID:
                    add(one.file, bpmn_id, ("表单文件名", "form file name"), MAX_ID)
    return problems


def _deploy_process(
    session: Session,
    parser: Any,
    pid: str,
    forms: dict[str, Any],
    texts: dict[str, str],
    actor: User | None,
) -> Deployed:
    spec = parser.get_spec(pid)
    subprocess_specs = parser.get_subprocess_specs(pid)
    spec_json = spec_to_json(spec, subprocess_specs)
    all_specs = [spec, *subprocess_specs.values()]
    used_forms = {name: forms[name] for name in sorted(_form_files(all_specs)) if name in forms}
    translation = model_texts.file_name(pid)
    if translation in forms:  # versioned with the model: part of the digest
        used_forms[translation] = forms[translation]
    digest = hashlib.sha256(
        (spec_json + json.dumps(used_forms, sort_keys=True, ensure_ascii=False)).encode()
    ).hexdigest()
    latest = latest_version(session, pid)
    if latest is not None and latest.sha256 == digest:
        return Deployed(pid, latest.version, False, digest)
    version = ProcessVersion(
        key=pid,
        version=(latest.version + 1) if latest else 1,
        name=(getattr(spec, "description", None) or pid)[:200],
        sha256=digest,
        files=texts,
        forms=used_forms,
        spec_json=spec_json,
        lanes=sorted(_lanes(all_specs)),
        start_messages=sorted(_start_messages(spec)),
        deployed_by_id=actor.id if actor else None,
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        "process.deployed",
        actor=actor,
        object_type="process_version",
        object_id=f"{pid}:{version.version}",
        details={"sha256": digest},
    )
    logger.info("deployed %s version %s", pid, version.version)
    return Deployed(pid, version.version, True, digest)


def _user_task_specs(all_specs: list[Any]) -> list[Any]:
    return [ts for s in all_specs for ts in s.task_specs.values() if getattr(ts, "manual", False)]


def _form_files(all_specs: list[Any]) -> set[str]:
    names = set()
    for ts in _user_task_specs(all_specs):
        properties = (getattr(ts, "extensions", {}) or {}).get("properties", {}) or {}
        if properties.get("formJsonSchemaFilename"):
            names.add(properties["formJsonSchemaFilename"])
    return names


def _lanes(all_specs: list[Any]) -> set[str]:
    return {ts.lane for ts in _user_task_specs(all_specs) if ts.lane}


def _start_messages(spec: Any) -> set[str]:
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
    from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

    return {
        ts.event_definition.name
        for ts in spec.task_specs.values()
        if isinstance(ts, StartEvent)
        and isinstance(getattr(ts, "event_definition", None), MessageEventDefinition)
    }


def latest_version(session: Session, key: str) -> ProcessVersion | None:
    return session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.key == key)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )


def get_version(session: Session, key: str, version: int | None = None) -> ProcessVersion:
    """The given (or latest) version of a process key."""
    if version is None:
        found = latest_version(session, key)
    else:
        found = session.scalar(
            select(ProcessVersion).where(
                ProcessVersion.key == key, ProcessVersion.version == version
            )
        )
    if found is None:
        raise NotFoundError(_("流程 %(key)s 未发布。", key=key))
    return found


def list_versions(session: Session, *, all_versions: bool = False) -> list[ProcessVersion]:
    """Latest version of each key, or every version."""
    query = select(ProcessVersion).order_by(ProcessVersion.key, ProcessVersion.version)
    if not all_versions:
        latest = (
            select(ProcessVersion.key, func.max(ProcessVersion.version).label("v"))
            .group_by(ProcessVersion.key)
            .subquery()
        )
        query = query.join(
            latest, (ProcessVersion.key == latest.c.key) & (ProcessVersion.version == latest.c.v)
        )
    return list(session.scalars(query))


def load_specs(version: ProcessVersion) -> tuple[Any, dict[str, Any]]:
    """The parsed specs of a version, from this worker's cache or its stored JSON."""
    return specs.ensure(specs.key_for(version.id, version.sha256), lambda: version.spec_json)


def version_dict(version: ProcessVersion) -> dict[str, Any]:
    return {
        "key": version.key,
        "version": version.version,
        "name": version.name,
        "deployed_at": version.deployed_at.isoformat(),
        "sha256": version.sha256,
    }
