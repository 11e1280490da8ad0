"""Drafts of the process studio: edit a process bundle on the server, validate it, deploy it.

A draft holds the files of one process key: the BPMN file defining that process plus every
.dmn and form .json of the bundle it came from (other processes' BPMN files are left out).
Saves are guarded by `lock_version` (a stale save is a 409 naming who saved when); every
save and import checks file names, counts, sizes and that XML/JSON is well-formed (422 with
messages per file). Full validation is `definitions.check_bundle`, the same as deploy.
Deploying a draft deploys only its own key; a rollback deploys an older version's files as
a new version.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import quoteattr
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.engine.validation import Problem
from app.models import InstanceStatus, ProcessDraft, ProcessInstance, ProcessVersion, User
from app.models.base import utcnow
from app.services import audit, definitions, model_texts
from app.services.definitions import BundleInvalidError, Deployed
from app.services.errors import ConflictError, InvalidInputError, NotFoundError
from app.services.host import SETTINGS

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.(bpmn|dmn|json)$")
KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MAX_FILES = 40
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NAME = 128  # form file names are stored in 128 characters
OPEN, DEPLOYED, DISCARDED = "open", "deployed", "discarded"


@dataclass(frozen=True)
class DeployResult:
    draft: ProcessDraft
    deployed: Deployed


# --- files -------------------------------------------------------------------------------------


def _xml_parser() -> etree.XMLParser:
    """No entity expansion, no network, no DTD loading, no huge trees."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _parse_xml(text: str) -> etree._Element:
    return etree.fromstring(text.encode("utf-8"), parser=_xml_parser())


def processes_in(text: str) -> list[tuple[str, str, bool]]:
    """(id, name, executable) of every BPMN process of a BPMN document ([] if unreadable)."""
    try:
        root = _parse_xml(text)
    except etree.XMLSyntaxError:
        return []
    return [
        (p.get("id") or "", p.get("name") or "", p.get("isExecutable") == "true")
        for p in root.iter(f"{{{BPMN_NS}}}process")
        if p.get("id")
    ]


def main_file(files: Mapping[str, str], key: str) -> str | None:
    """The BPMN file that defines process `key` (else the first BPMN file, else None)."""
    bpmn = sorted(name for name in files if name.lower().endswith(".bpmn"))
    for name in bpmn:
        if any(pid == key for pid, _, _ in processes_in(files[name])):
            return name
    return bpmn[0] if bpmn else None


def bundle_for_key(files: Mapping[str, str], key: str) -> dict[str, str]:
    """The files of `key` in a bundle: its BPMN file, every .dmn and every form .json, and its
    translations (`<key>.i18n.json`)."""
    defining = [
        name
        for name in files
        if name.lower().endswith(".bpmn")
        and any(pid == key for pid, _, _ in processes_in(files[name]))
    ]
    if not defining:
        raise NotFoundError(_("版本文件中没有定义流程 %(key)s 的 BPMN 文件。", key=key))
    own_texts = model_texts.file_name(key)  # of the translation files, only its own
    return {
        name: files[name]
        for name in sorted(files)
        if name in defining
        or name == own_texts
        or (name.lower().endswith((".dmn", ".json")) and not model_texts.is_translation_file(name))
    }


def _size_text(size: int) -> str:
    return f"{size / 1048576:.1f} MB"


def _name_problem(name: str) -> str | None:
    if not SAFE_NAME.match(name) or name.startswith(".") or ".." in name:
        return _(
            "文件名 %(name)s 不可用：只能包含英文字母、数字、下划线、点和连字符，"
            "不能以点开头，并以 .bpmn、.dmn 或 .json 结尾。",
            name=repr(name[:100]),
        )
    if len(name) > MAX_NAME:
        return _("文件名过长：最多 %(max)s 个字符，请缩短。", max=MAX_NAME)
    return None


def _content_problem(name: str, text: str) -> str | None:
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        return _(
            "文件过大（%(size)s），单个文件最多 %(max)s。",
            size=_size_text(size),
            max=_size_text(MAX_FILE_BYTES),
        )
    if name.lower().endswith(".json"):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return _(
                "JSON 格式错误（第 %(line)s 行，第 %(col)s 列）：%(error)s。",
                line=exc.lineno,
                col=exc.colno,
                error=exc.msg,
            )
        except RecursionError:
            return _("JSON 嵌套过深，请简化。")
        return None
    try:
        _parse_xml(text)
    except etree.XMLSyntaxError as exc:
        return _(
            "XML 格式错误（第 %(line)s 行）：%(error)s。请检查标签是否成对、属性是否加引号。",
            line=exc.lineno,
            error=exc.msg,
        )
    return None


def check_files(files: object) -> dict[str, str]:
    """The files if they may be stored in a draft; else InvalidInputError with messages per file.

    Names must be safe, at most 40 files of at most 2 MB each, at least one .bpmn file, XML
    well-formed (entities are never expanded, nothing is fetched) and JSON valid.
    """
    if not isinstance(files, Mapping) or not files:
        raise InvalidInputError(
            _("没有收到文件：请提交至少一个 .bpmn 流程文件。"), {"files": [_("请提交文件。")]}
        )
    fields: dict[str, list[str]] = {}
    if len(files) > MAX_FILES:
        raise InvalidInputError(
            _("文件过多：%(count)s 个，最多 %(max)s 个。", count=len(files), max=MAX_FILES),
            {"files": [_("一个草稿最多 %(max)s 个文件，请删除不用的文件。", max=MAX_FILES)]},
        )
    clean: dict[str, str] = {}
    for name, text in files.items():
        shown = str(name)[:100]
        problem = _name_problem(str(name))
        if problem is None and not isinstance(text, str):
            problem = _("文件内容必须是文本（UTF-8）。")
        if problem is None:
            problem = _content_problem(name, text)
        if problem:
            fields.setdefault(shown, []).append(problem)
        else:
            clean[name] = text
    if not any(name.lower().endswith(".bpmn") for name in files):
        fields.setdefault("files", []).append(_("至少需要一个 .bpmn 流程文件。"))
    if fields:
        raise InvalidInputError(_("文件未通过检查，未保存任何内容。请按各文件的提示修改。"), fields)
    return clean


def decode_uploads(uploads: Mapping[str, bytes]) -> dict[str, str]:
    """Uploaded bytes as text (UTF-8, a BOM dropped); 422 naming each file that is not."""
    texts: dict[str, str] = {}
    fields: dict[str, list[str]] = {}
    for name, data in uploads.items():
        if len(data) > MAX_FILE_BYTES:
            fields[name[:100]] = [
                _(
                    "文件过大（%(size)s），单个文件最多 %(max)s。",
                    size=_size_text(len(data)),
                    max=_size_text(MAX_FILE_BYTES),
                )
            ]
            continue
        try:
            texts[name] = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            fields[name[:100]] = [
                _("文件不是 UTF-8 编码（第 %(line)s 行）。请以 UTF-8 保存后重新导入。", line=line)
            ]
    if fields:
        raise InvalidInputError(_("文件未通过检查，未导入任何内容。请按各文件的提示修改。"), fields)
    return texts


# --- reading -----------------------------------------------------------------------------------


def get_draft(session: Session, draft_id: int, *, lock: bool = False) -> ProcessDraft:
    query = select(ProcessDraft).where(ProcessDraft.id == draft_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    draft = session.scalar(query)
    if draft is None:
        raise NotFoundError(_("草稿不存在，可能已被删除。"))
    return draft


def list_drafts(session: Session, key: str | None = None, status: str = OPEN) -> list[ProcessDraft]:
    query = select(ProcessDraft).where(ProcessDraft.status == status)
    if key is not None:
        query = query.where(ProcessDraft.key == key)
    return list(session.scalars(query.order_by(ProcessDraft.updated_at.desc())))


def user_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.display_name if user else _("系统")


def local_time(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(SETTINGS.timezone))


def saved_by(session: Session, draft: ProcessDraft) -> dict[str, Any]:
    """{lockVersion, updatedAt (ISO with offset), updatedBy (display name)} of the last save."""
    return {
        "lockVersion": draft.lock_version,
        "updatedAt": local_time(draft.updated_at).isoformat(timespec="seconds"),
        "updatedBy": user_name(session, draft.updated_by_id),
    }


def base_version(session: Session, draft: ProcessDraft) -> ProcessVersion | None:
    return session.get(ProcessVersion, draft.base_version_id) if draft.base_version_id else None


def process_overview(session: Session) -> list[dict[str, Any]]:
    """One row per process key (deployed or only drafted): latest version, counts."""
    latest = {v.key: v for v in definitions.list_versions(session)}
    versions = dict(
        session.execute(select(ProcessVersion.key, func.count()).group_by(ProcessVersion.key)).all()
    )
    drafts: dict[str, int] = dict(
        session.execute(
            select(ProcessDraft.key, func.count())
            .where(ProcessDraft.status == OPEN)
            .group_by(ProcessDraft.key)
        ).all()
    )
    draft_names = {d.key: d.name for d in list_drafts(session)}
    counts: dict[str, dict[str, int]] = {}
    for key, status, n in session.execute(
        select(ProcessInstance.process_key, ProcessInstance.status, func.count()).group_by(
            ProcessInstance.process_key, ProcessInstance.status
        )
    ):
        counts.setdefault(key, {})[status] = n
    rows = []
    for key in sorted(set(latest) | set(drafts)):
        version = latest.get(key)
        rows.append(
            {
                "key": key,
                "name": version.name if version else draft_names.get(key, key),
                "latest": version,
                "versions": versions.get(key, 0),
                "drafts": drafts.get(key, 0),
                "instances": {s.value: counts.get(key, {}).get(s.value, 0) for s in InstanceStatus},
            }
        )
    return rows


def versions_of(session: Session, key: str) -> list[ProcessVersion]:
    found = list(
        session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.key == key)
            .order_by(ProcessVersion.version.desc())
        )
    )
    return found


# --- creating ----------------------------------------------------------------------------------


def _new_draft(
    session: Session,
    key: str,
    name: str,
    files: dict[str, str],
    actor: User | None,
    *,
    base: ProcessVersion | None,
    source: str,
) -> ProcessDraft:
    now = utcnow()
    draft = ProcessDraft(
        key=key,
        name=(name or key)[:200],
        base_version_id=base.id if base else None,
        files=files,
        status=OPEN,
        created_by_id=actor.id if actor else None,
        created_at=now,
        updated_by_id=actor.id if actor else None,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    audit.record(
        session,
        "studio.draft_created",
        actor=actor,
        object_type="process_draft",
        object_id=str(draft.id),
        details={
            "key": key,
            "source": source,
            "base_version": base.version if base else None,
            "files": sorted(files),
        },
    )
    return draft


def create_from_version(
    session: Session, key: str, version: int | None, actor: User | None
) -> ProcessDraft:
    """A draft holding the files of `key` in the given (or latest) version."""
    found = definitions.get_version(session, key, version)
    files = bundle_for_key(found.files, key)
    return _new_draft(session, key, found.name, files, actor, base=found, source="version")


def check_new_key(session: Session, key: str, name: str) -> None:
    fields: dict[str, list[str]] = {}
    if not KEY_PATTERN.match(key or ""):
        fields["key"] = [
            _("流程标识须以英文字母开头，只能包含英文字母、数字和下划线，如 credit_repair。")
        ]
    elif len(key) > definitions.MAX_KEY:
        fields["key"] = [_("流程标识过长：最多 %(max)s 个字符。", max=definitions.MAX_KEY)]
    elif definitions.latest_version(session, key) is not None:
        fields["key"] = [_("流程 %(key)s 已存在。请在该流程的页面上新建草稿。", key=key)]
    if not (name or "").strip():
        fields["name"] = [_("请填写流程名称。")]
    elif len(name) > 200:
        fields["name"] = [_("流程名称过长：最多 200 个字符。")]
    if fields:
        raise InvalidInputError(_("新流程的信息有误，请修改后重试。"), fields)


def create_blank(session: Session, key: str, name: str, actor: User | None) -> ProcessDraft:
    """A new process: start event → one user task in lane `window` with a form → end event."""
    key, name = (key or "").strip(), (name or "").strip()
    check_new_key(session, key, name)
    files = blank_bundle(key, name)
    return _new_draft(session, key, name, files, actor, base=None, source="blank")


def create_from_upload(
    session: Session, uploads: Mapping[str, bytes], actor: User | None
) -> ProcessDraft:
    """A draft from imported files: exactly one .bpmn plus optional .dmn and .json files.

    Nothing in the files is run or resolved here; models the engine cannot execute are
    accepted as drafts (validation lists why, and deploy refuses them).
    """
    bpmn = [name for name in uploads if name.lower().endswith(".bpmn")]
    if len(bpmn) > 1:
        raise InvalidInputError(
            _("一次只能导入一个 .bpmn 文件（可附带 .dmn 和 .json 文件）。"),
            {
                "files": [
                    _(
                        "收到 %(count)s 个 .bpmn 文件：%(names)s。",
                        count=len(bpmn),
                        names="、".join(sorted(bpmn)),
                    )
                ]
            },
        )
    files = check_files(decode_uploads(uploads))
    main = bpmn[0]
    processes = processes_in(files[main])
    if not processes:
        raise InvalidInputError(
            _("导入的 BPMN 文件中没有流程（bpmn:process）。"),
            {main: [_("文件中没有 bpmn:process 元素；请导入包含流程的 BPMN 文件。")]},
        )
    key, name, _executable = next((p for p in processes if p[2]), processes[0])
    if len(key) > 64:
        raise InvalidInputError(
            _("流程 id 过长。"),
            {main: [_("流程 id 最多 %(max)s 个字符，请缩短。", max=definitions.MAX_KEY)]},
        )
    base = definitions.latest_version(session, key)
    return _new_draft(session, key, name or key, files, actor, base=base, source="import")


# --- editing -----------------------------------------------------------------------------------


def _require_open(draft: ProcessDraft) -> None:
    if draft.status != OPEN:
        if draft.status == DEPLOYED:
            raise ConflictError(_("该草稿已发布，不能再修改。请在流程页面上新建草稿。"))
        raise ConflictError(_("该草稿已丢弃，不能再修改。请在流程页面上新建草稿。"))


def _require_fresh(session: Session, draft: ProcessDraft, lock_version: object) -> None:
    if not isinstance(lock_version, int) or isinstance(lock_version, bool):
        raise InvalidInputError(_("缺少草稿版本号。"), {"lockVersion": [_("必填，且须为整数。")]})
    if lock_version != draft.lock_version:
        info = saved_by(session, draft)
        when = local_time(draft.updated_at).strftime("%Y-%m-%d %H:%M:%S")
        raise ConflictError(
            _(
                "草稿已被 %(user)s 于 %(when)s 保存，您的修改基于较早的内容，未保存。"
                "请复制您的修改，刷新页面后重新编辑。",
                user=info["updatedBy"],
                when=when,
            ),
            details=info,
        )


def _touch(draft: ProcessDraft, actor: User | None, **changes: Any) -> None:
    """Apply `changes` and the who/when of this save in one UPDATE (one lock_version step).

    The actor's id is read first: reading an expired attribute would autoflush a half-made
    change and bump `lock_version` twice.
    """
    actor_id = actor.id if actor else None
    for name, value in {**changes, "updated_by_id": actor_id, "updated_at": utcnow()}.items():
        setattr(draft, name, value)


def save(
    session: Session, draft_id: int, files: object, lock_version: object, actor: User | None
) -> ProcessDraft:
    """Replace the draft's files; 409 when someone saved since `lock_version`, 422 on bad files."""
    draft = get_draft(session, draft_id, lock=True)
    _require_open(draft)
    _require_fresh(session, draft, lock_version)
    clean = check_files(files)
    before = dict(draft.files or {})
    _touch(draft, actor, files=clean)
    session.flush()
    audit.record(
        session,
        "studio.draft_saved",
        actor=actor,
        object_type="process_draft",
        object_id=str(draft.id),
        details={
            "key": draft.key,
            "lock_version": draft.lock_version,
            "added": sorted(set(clean) - set(before)),
            "removed": sorted(set(before) - set(clean)),
            "changed": sorted(n for n in set(clean) & set(before) if clean[n] != before[n]),
        },
    )
    return draft


def discard(session: Session, draft_id: int, actor: User | None) -> ProcessDraft:
    draft = get_draft(session, draft_id, lock=True)
    _require_open(draft)
    _touch(draft, actor, status=DISCARDED)
    session.flush()
    audit.record(
        session,
        "studio.draft_discarded",
        actor=actor,
        object_type="process_draft",
        object_id=str(draft.id),
        details={"key": draft.key},
    )
    return draft


# --- validating and deploying ------------------------------------------------------------------


def _as_bytes(files: Mapping[str, str]) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in files.items()}


def _missing_key(key: str) -> Problem:
    return Problem(
        "",
        None,
        key,
        f"草稿中没有 id 为 {key!r} 的可执行流程：草稿只能发布流程 {key}。"
        '请保持流程 id 不变，并在流程上设置 isExecutable="true"（可执行）。',
        f"The draft has no executable process {key!r}: keep the process id and set "
        'isExecutable="true".',
    )


def validate(draft: ProcessDraft) -> dict[str, Any]:
    """The deploy checks on the draft's files: {ok, problems: [{file, line, element_id, …}]}."""
    check = definitions.check_bundle(_as_bytes(draft.files or {}))
    problems = [p.as_dict() for p in check.problems]
    if check.parser is not None:
        if draft.key not in check.process_ids:
            problems.append(_missing_key(draft.key).as_dict())
        else:
            problems.extend(definitions._too_long(check.parser, [draft.key]))
    ok = not any(p["severity"] == "error" for p in problems)
    return {"ok": ok, "problems": problems}


def deploy(
    session: Session, draft_id: int, actor: User | None, lock_version: object = None
) -> DeployResult:
    """Deploy the draft's process (only its key) as version N+1; 422 listing the problems.

    `deployed.created` is False when the content equals the current version (nothing stored,
    the draft stays open).
    """
    draft = get_draft(session, draft_id, lock=True)
    _require_open(draft)
    if lock_version is not None:
        _require_fresh(session, draft, lock_version)
    files = _as_bytes(draft.files or {})
    check = definitions.check_bundle(files)
    if check.ok and check.parser is not None and draft.key not in check.process_ids:
        raise BundleInvalidError([_missing_key(draft.key).as_dict()])
    deployed = definitions.deploy_bundle(session, files, actor, only=[draft.key])[0]
    if not deployed.created:
        return DeployResult(draft, deployed)
    version = definitions.get_version(session, draft.key, deployed.version)
    _touch(draft, actor, status=DEPLOYED, deployed_version_id=version.id)
    session.flush()
    audit.record(
        session,
        "studio.draft_deployed",
        actor=actor,
        object_type="process_version",
        object_id=f"{draft.key}:{deployed.version}",
        details={"draft_id": draft.id, "sha256": deployed.sha256, "files": sorted(draft.files)},
    )
    return DeployResult(draft, deployed)


def rollback(session: Session, key: str, version: int, actor: User | None) -> Deployed:
    """Deploy the files of an older version of `key` as a new version (same content)."""
    old = definitions.get_version(session, key, version)
    latest = definitions.latest_version(session, key)
    if latest is not None and latest.sha256 == old.sha256:
        raise ConflictError(
            _(
                "版本 %(version)s 与当前版本 %(current)s 内容相同，无需回滚。",
                version=version,
                current=latest.version,
            )
        )
    files = _as_bytes(bundle_for_key(old.files, key))
    deployed = definitions.deploy_bundle(session, files, actor, only=[key])[0]
    audit.record(
        session,
        "studio.rolled_back",
        actor=actor,
        object_type="process_version",
        object_id=f"{key}:{deployed.version}",
        details={"from_version": version, "sha256": deployed.sha256},
    )
    return deployed


# --- download ----------------------------------------------------------------------------------


def version_files(session: Session, key: str, version: int) -> dict[str, str]:
    """The files of `key` in a version (its BPMN file, the .dmn and form .json files)."""
    return bundle_for_key(definitions.get_version(session, key, version).files, key)


def zip_bytes(files: Mapping[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name].encode("utf-8"))
    return buffer.getvalue()


# --- blank process -----------------------------------------------------------------------------

_BLANK_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="{key}_definitions" targetNamespace="http://creditflow.example/bpmn/{key}">
  <bpmn:collaboration id="{key}_collaboration">
    <bpmn:participant id="{key}_participant" name={name} processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name={name} isExecutable="true">
    <bpmn:laneSet id="{key}_lanes">
      <bpmn:lane id="lane_window" name="window">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>handle</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name={start}>
      <bpmn:outgoing>flow_start</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="handle" />
    <bpmn:userTask id="handle" name={handle}>
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="{form}" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>flow_start</bpmn:incoming>
      <bpmn:outgoing>flow_end</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_end" sourceRef="handle" targetRef="end" />
    <bpmn:endEvent id="end" name={end}>
      <bpmn:incoming>flow_end</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="{key}_diagram">
    <bpmndi:BPMNPlane id="{key}_plane" bpmnElement="{key}_collaboration">
      <bpmndi:BPMNShape id="{key}_participant_di" bpmnElement="{key}_participant"
        isHorizontal="true">
        <dc:Bounds x="120" y="60" width="600" height="200" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="lane_window_di" bpmnElement="lane_window" isHorizontal="true">
        <dc:Bounds x="150" y="60" width="570" height="200" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="212" y="142" width="36" height="36" />
        <bpmndi:BPMNLabel><dc:Bounds x="218" y="185" width="24" height="14" /></bpmndi:BPMNLabel>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="handle_di" bpmnElement="handle">
        <dc:Bounds x="320" y="120" width="120" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end">
        <dc:Bounds x="532" y="142" width="36" height="36" />
        <bpmndi:BPMNLabel><dc:Bounds x="538" y="185" width="24" height="14" /></bpmndi:BPMNLabel>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="flow_start_di" bpmnElement="flow_start">
        <di:waypoint x="248" y="160" />
        <di:waypoint x="320" y="160" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="flow_end_di" bpmnElement="flow_end">
        <di:waypoint x="440" y="160" />
        <di:waypoint x="532" y="160" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _blank_form() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": _("窗口办理"),
        "description": _("请核对申请材料后填写办理结论。"),
        "type": "object",
        "required": ["decision"],
        "properties": {
            "decision": {
                "type": "string",
                "title": _("办理结论"),
                "enum": ["approve", "reject"],
                "x-enum-labels": {"approve": _("同意"), "reject": _("不同意")},
            },
            "opinion": {"type": "string", "title": _("办理意见"), "maxLength": 2000},
        },
        "additionalProperties": False,
    }


def blank_bundle(key: str, name: str) -> dict[str, str]:
    """The files of a new process `key` (a BPMN file with diagram and one form), its names
    in the language of the person who creates it."""
    form = f"{key}__handle.json"
    bpmn = _BLANK_BPMN.format(
        key=key,
        name=quoteattr(" ".join(name.split())),
        form=form,
        start=quoteattr(_("开始")),
        handle=quoteattr(_("窗口办理")),
        end=quoteattr(_("办结")),
    )
    return {
        f"{key}.bpmn": bpmn,
        form: json.dumps(_blank_form(), ensure_ascii=False, indent=2) + "\n",
    }
