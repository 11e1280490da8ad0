"""Studio drafts: create, save (lock_version, file checks), validate, deploy one key, roll back."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, ProcessDraft, ProcessVersion, User
from app.services import definitions
from app.services.definitions import BundleInvalidError
from app.services.errors import ConflictError, InvalidInputError, NotFoundError
from app.services.studio import drafts
from tests.engine_fixtures import user

BUNDLE = Path("bpmn")
KEYS = {
    "commitment_breach",
    "credit_repair",
    "notify_commit_approval",
    "objection_handling",
    "rongque_acceptance",
}


@pytest.fixture()
def owner(seeded: Session) -> User:
    return user(seeded, "owner")


@pytest.fixture()
def deployed(seeded: Session, owner: User) -> Session:
    definitions.deploy_bundle(seeded, definitions.read_bundle_dir(BUNDLE), owner)
    seeded.commit()
    return seeded


def _latest(session: Session, key: str) -> int:
    return session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.key == key))


def _actions(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _edit(draft: ProcessDraft, old: str, new: str) -> dict[str, str]:
    files = dict(draft.files)
    main = drafts.main_file(files, draft.key)
    assert main is not None and old in files[main], old
    files[main] = files[main].replace(old, new, 1)
    return files


# --- creating -----------------------------------------------------------------------------------


def test_draft_from_version_holds_its_bpmn_and_every_dmn_and_form(
    deployed: Session, owner: User
) -> None:
    draft = drafts.create_from_version(deployed, "credit_repair", None, owner)
    names = set(draft.files)
    assert "credit_repair.bpmn" in names
    assert not any(n.endswith(".bpmn") and n != "credit_repair.bpmn" for n in names)
    own = {n for n in BUNDLE.iterdir() if n.suffix in (".dmn", ".json")}
    own -= {n for n in BUNDLE.glob("*.i18n.json") if n.name != "credit_repair.i18n.json"}
    assert own == {BUNDLE / n for n in names if not n.endswith(".bpmn")}
    assert drafts.main_file(draft.files, "credit_repair") == "credit_repair.bpmn"
    assert draft.base_version_id is not None and draft.status == "open"
    [event] = _actions(deployed, "studio.draft_created")
    assert event.actor_id == owner.id and event.details["source"] == "version"


def test_draft_of_unknown_process_or_version_is_not_found(deployed: Session, owner: User) -> None:
    with pytest.raises(NotFoundError):
        drafts.create_from_version(deployed, "no_such_process", None, owner)
    with pytest.raises(NotFoundError):
        drafts.create_from_version(deployed, "credit_repair", 99, owner)


def test_blank_process_validates_and_deploys(deployed: Session, owner: User) -> None:
    draft = drafts.create_blank(deployed, "license_change", "许可变更 <测试> & 示例", owner)
    assert set(draft.files) == {"license_change.bpmn", "license_change__handle.json"}
    bpmn = draft.files["license_change.bpmn"]
    assert "bpmndi:BPMNShape" in bpmn and 'name="window"' in bpmn  # draws, lane window
    assert drafts.validate(draft) == {"ok": True, "problems": []}
    result = drafts.deploy(deployed, draft.id, owner)
    assert result.deployed.created and result.deployed.version == 1
    version = definitions.get_version(deployed, "license_change")
    assert version.name == "许可变更 <测试> & 示例"
    assert version.lanes == ["window"] and "license_change__handle.json" in version.forms


@pytest.mark.parametrize(
    ("key", "name", "field"),
    [
        ("1abc", "名称", "key"),
        ("has space", "名称", "key"),
        ("x" * 57, "名称", "key"),
        ("credit_repair", "名称", "key"),  # already deployed
        ("fine_key", "  ", "name"),
    ],
)
def test_blank_process_refuses_bad_key_or_name(
    deployed: Session, owner: User, key: str, name: str, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        drafts.create_blank(deployed, key, name, owner)
    assert field in caught.value.fields
    assert deployed.scalar(select(func.count()).select_from(ProcessDraft)) == 0


def test_import_takes_the_key_of_the_executable_process(deployed: Session, owner: User) -> None:
    files = drafts.blank_bundle("imported_proc", "导入的流程")
    uploads = {name: text.encode() for name, text in files.items()}
    draft = drafts.create_from_upload(deployed, uploads, owner)
    assert draft.key == "imported_proc" and draft.name == "导入的流程"
    assert draft.files == files and draft.base_version_id is None


def test_import_refuses_two_bpmn_files_and_non_utf8(deployed: Session, owner: User) -> None:
    one = drafts.blank_bundle("a_proc", "A")["a_proc.bpmn"].encode()
    with pytest.raises(InvalidInputError, match="一次只能导入一个"):
        drafts.create_from_upload(deployed, {"a.bpmn": one, "b.bpmn": one}, owner)
    with pytest.raises(InvalidInputError) as caught:
        drafts.create_from_upload(deployed, {"a.bpmn": "<a>é</a>".encode("latin-1")}, owner)
    assert "UTF-8" in caught.value.fields["a.bpmn"][0]
    assert deployed.scalar(select(func.count()).select_from(ProcessDraft)) == 0


# --- saving ------------------------------------------------------------------------------------


def test_save_replaces_files_and_bumps_the_lock_version(deployed: Session, owner: User) -> None:
    draft = drafts.create_from_version(deployed, "credit_repair", None, owner)
    deployed.commit()
    files = _edit(draft, 'name="记录申请日"', 'name="记录申请日期"')
    files["extra__note.json"] = '{"type": "object"}'
    saved = drafts.save(deployed, draft.id, files, draft.lock_version, owner)
    deployed.commit()
    assert saved.lock_version == 2 and saved.files == files
    info = drafts.saved_by(deployed, saved)
    assert info["updatedBy"] == owner.display_name and info["updatedAt"].endswith("+08:00")
    [event] = _actions(deployed, "studio.draft_saved")
    assert event.details["added"] == ["extra__note.json"]
    assert event.details["changed"] == ["credit_repair.bpmn"]


def test_stale_save_is_a_conflict_naming_who_saved_when(deployed: Session, owner: User) -> None:
    admin = user(deployed, "admin")
    draft = drafts.create_from_version(deployed, "credit_repair", None, owner)
    deployed.commit()
    first = _edit(draft, 'name="记录申请日"', 'name="管理员改的"')
    drafts.save(deployed, draft.id, first, 1, admin)
    deployed.commit()
    with pytest.raises(ConflictError) as caught:
        drafts.save(deployed, draft.id, dict(draft.files), 1, owner)
    assert admin.display_name in caught.value.message
    assert caught.value.details["updatedBy"] == admin.display_name
    assert caught.value.details["lockVersion"] == 2
    deployed.rollback()
    assert drafts.get_draft(deployed, draft.id).files == first


BIG = "x" * (2 * 1024 * 1024 + 1)


@pytest.mark.parametrize(
    ("files", "field", "text"),
    [
        ({"../evil.bpmn": "<a/>"}, "../evil.bpmn", "文件名"),
        ({"x.bpmn": "<a/>", "notes.txt": "hi"}, "notes.txt", "文件名"),
        ({"x.bpmn": "<a/>", ".hidden.json": "{}"}, ".hidden.json", "文件名"),
        ({"x.bpmn": "<a><b></a>"}, "x.bpmn", "XML 格式错误"),
        ({"x.bpmn": "<a/>", "f.json": "{nope"}, "f.json", "JSON 格式错误"),
        ({"x.bpmn": "<a/>", "f.json": '"' + BIG + '"'}, "f.json", "文件过大"),
        ({"x.dmn": "<a/>"}, "files", ".bpmn"),
        ({"x.bpmn": 5}, "x.bpmn", "文本"),
        ({}, "files", "文件"),
    ],
)
def test_bad_files_are_refused_per_file_and_nothing_changes(
    deployed: Session, owner: User, files: dict[str, object], field: str, text: str
) -> None:
    draft = drafts.create_from_version(deployed, "credit_repair", None, owner)
    deployed.commit()
    before = dict(draft.files)
    with pytest.raises(InvalidInputError) as caught:
        drafts.save(deployed, draft.id, files, 1, owner)
    assert any(text in m for m in caught.value.fields[field]), caught.value.fields
    deployed.rollback()
    again = drafts.get_draft(deployed, draft.id)
    assert again.files == before and again.lock_version == 1


def test_too_many_files_are_refused(deployed: Session, owner: User) -> None:
    draft = drafts.create_blank(deployed, "many_files", "多文件", owner)
    files = {f"f{i}.json": "{}" for i in range(40)} | {"x.bpmn": "<a/>"}
    with pytest.raises(InvalidInputError, match="文件过多"):
        drafts.save(deployed, draft.id, files, draft.lock_version, owner)


def test_discarded_draft_cannot_be_saved_or_deployed(deployed: Session, owner: User) -> None:
    draft = drafts.create_from_version(deployed, "credit_repair", None, owner)
    drafts.discard(deployed, draft.id, owner)
    assert draft.status == "discarded" and _actions(deployed, "studio.draft_discarded")
    with pytest.raises(ConflictError, match="已丢弃"):
        drafts.save(deployed, draft.id, dict(draft.files), draft.lock_version, owner)
    with pytest.raises(ConflictError):
        drafts.deploy(deployed, draft.id, owner)


# --- validating hostile or broken drafts -----------------------------------------------------


def test_hostile_script_and_xxe_are_reported_and_never_run(
    deployed: Session, owner: User, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    script = f"__import__('os').system('touch {marker}')"
    files = drafts.blank_bundle("hostile", "恶意流程")
    bpmn = files["hostile.bpmn"].replace(
        '<bpmn:userTask id="handle" name="窗口办理">\n      <bpmn:extensionElements>',
        '<bpmn:userTask id="handle" name="窗口办理">\n      <bpmn:extensionElements>'
        f"<spiffworkflow:preScript>{script}</spiffworkflow:preScript>",
    )
    assert "preScript" in bpmn
    xxe = (
        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d">'
        "&xxe;</definitions>"
    )
    uploads = {"hostile.bpmn": bpmn.encode(), "evil.dmn": xxe.encode()}
    uploads["hostile__handle.json"] = files["hostile__handle.json"].encode()
    draft = drafts.create_from_upload(deployed, uploads, owner)
    assert draft.files["evil.dmn"] == xxe  # stored as text, the entity never resolved
    result = drafts.validate(draft)
    assert not result["ok"]
    [script_problem] = [p for p in result["problems"] if p["element_id"] == "handle"]
    assert script_problem["severity"] == "error" and "__import__" in script_problem["message"]
    assert any(p["file"] == "evil.dmn" and "DOCTYPE" in p["message"] for p in result["problems"])
    with pytest.raises(BundleInvalidError):
        drafts.deploy(deployed, draft.id, owner)
    assert not marker.exists()
    assert "root:" not in json.dumps(result)


def test_deploy_of_an_invalid_draft_lists_problems_with_element_ids(
    deployed: Session, owner: User
) -> None:
    draft = drafts.create_from_version(deployed, "credit_repair", None, owner)
    files = _edit(draft, 'id="repair.check_eligibility"', 'id="no.such_handler"')
    drafts.save(deployed, draft.id, files, draft.lock_version, owner)
    deployed.commit()
    before = _latest(deployed, "credit_repair")
    with pytest.raises(BundleInvalidError) as caught:
        drafts.deploy(deployed, draft.id, owner)
    assert any(p["element_id"] == "check_eligibility" for p in caught.value.problems)
    deployed.rollback()
    assert _latest(deployed, "credit_repair") == before
    assert drafts.get_draft(deployed, draft.id).status == "open"
    problems = drafts.validate(drafts.get_draft(deployed, draft.id))["problems"]
    assert any(p["element_id"] == "check_eligibility" for p in problems)


def test_draft_that_lost_its_process_id_cannot_deploy(deployed: Session, owner: User) -> None:
    draft = drafts.create_blank(deployed, "renamed_proc", "改名", owner)
    files = dict(draft.files)
    files["renamed_proc.bpmn"] = (
        files["renamed_proc.bpmn"]
        .replace('id="renamed_proc"', 'id="other_proc"')
        .replace('processRef="renamed_proc"', 'processRef="other_proc"')
    )
    drafts.save(deployed, draft.id, files, draft.lock_version, owner)
    result = drafts.validate(draft)
    assert not result["ok"] and any(p["element_id"] == "renamed_proc" for p in result["problems"])
    with pytest.raises(BundleInvalidError):
        drafts.deploy(deployed, draft.id, owner)
    assert definitions.latest_version(deployed, "other_proc") is None


# --- deploying and rolling back ---------------------------------------------------------------


def test_deploy_creates_the_next_version_of_the_drafts_key_only(
    deployed: Session, owner: User
) -> None:
    others = {key: _latest(deployed, key) for key in KEYS}
    draft = drafts.create_from_version(deployed, "credit_repair", None, owner)
    files = _edit(draft, 'name="记录申请日"', 'name="记录申请日期"')
    drafts.save(deployed, draft.id, files, draft.lock_version, owner)
    result = drafts.deploy(deployed, draft.id, owner, draft.lock_version)
    deployed.commit()
    assert result.deployed.created and result.deployed.version == others["credit_repair"] + 1
    for key in KEYS - {"credit_repair"}:
        assert _latest(deployed, key) == others[key]
    version = definitions.get_version(deployed, "credit_repair")
    assert "记录申请日期" in version.files["credit_repair.bpmn"]
    assert draft.status == "deployed" and draft.deployed_version_id == version.id
    [event] = _actions(deployed, "studio.draft_deployed")
    assert event.object_id == f"credit_repair:{version.version}" and event.actor_id == owner.id
    assert any(e.object_id == event.object_id for e in _actions(deployed, "process.deployed"))


def test_deploy_with_a_stale_lock_version_is_refused(deployed: Session, owner: User) -> None:
    draft = drafts.create_from_version(deployed, "credit_repair", None, owner)
    drafts.save(deployed, draft.id, dict(draft.files), draft.lock_version, owner)
    with pytest.raises(ConflictError, match="保存"):
        drafts.deploy(deployed, draft.id, owner, 1)


def test_deploying_an_unchanged_draft_stores_nothing(deployed: Session, owner: User) -> None:
    draft = drafts.create_from_version(deployed, "credit_repair", None, owner)
    before = _latest(deployed, "credit_repair")
    result = drafts.deploy(deployed, draft.id, owner)
    assert not result.deployed.created and result.deployed.version == before
    assert draft.status == "open" and _latest(deployed, "credit_repair") == before


def test_rollback_deploys_an_old_version_as_a_new_equal_version(
    deployed: Session, owner: User
) -> None:
    draft = drafts.create_from_version(deployed, "credit_repair", None, owner)
    files = _edit(draft, 'name="记录申请日"', 'name="改过的"')
    drafts.save(deployed, draft.id, files, draft.lock_version, owner)
    drafts.deploy(deployed, draft.id, owner)
    assert _latest(deployed, "credit_repair") == 2
    result = drafts.rollback(deployed, "credit_repair", 1, owner)
    deployed.commit()
    assert result.created and result.version == 3
    old = definitions.get_version(deployed, "credit_repair", 1)
    new = definitions.get_version(deployed, "credit_repair", 3)
    assert new.sha256 == old.sha256 and new.spec_json == old.spec_json and new.forms == old.forms
    assert new.files == drafts.bundle_for_key(old.files, "credit_repair")
    for key in KEYS - {"credit_repair"}:
        assert _latest(deployed, key) == 1
    [event] = _actions(deployed, "studio.rolled_back")
    assert event.details["from_version"] == 1 and event.object_id == "credit_repair:3"
    with pytest.raises(ConflictError, match="内容相同"):
        drafts.rollback(deployed, "credit_repair", 1, owner)  # v1 now equals the latest (v3)
    with pytest.raises(NotFoundError):
        drafts.rollback(deployed, "credit_repair", 9, owner)


def test_deploy_bundle_only_limits_the_processes(seeded: Session, owner: User) -> None:
    files = definitions.read_bundle_dir(BUNDLE)
    result = definitions.deploy_bundle(seeded, files, owner, only=["objection_handling"])
    assert [(d.key, d.version) for d in result] == [("objection_handling", 1)]
    assert definitions.latest_version(seeded, "credit_repair") is None
    with pytest.raises(BundleInvalidError) as caught:
        definitions.deploy_bundle(seeded, files, owner, only=["nope"])
    assert caught.value.problems[0]["element_id"] == "nope"
    everything = definitions.deploy_bundle(seeded, files, owner)
    assert {d.key for d in everything if d.created} == KEYS - {"objection_handling"}


def test_version_download_has_the_keys_files(deployed: Session) -> None:
    files = drafts.version_files(deployed, "objection_handling", 1)
    archive = zipfile.ZipFile(io.BytesIO(drafts.zip_bytes(files)))
    assert set(archive.namelist()) == set(files)
    assert "objection_handling.bpmn" in files and "credit_repair.bpmn" not in files
    assert archive.read("objection_handling.bpmn").decode() == (
        BUNDLE / "objection_handling.bpmn"
    ).read_text(encoding="utf-8")


def test_overview_counts_versions_and_drafts(deployed: Session, owner: User) -> None:
    drafts.create_from_version(deployed, "credit_repair", None, owner)
    drafts.create_blank(deployed, "brand_new", "全新流程", owner)
    rows = {row["key"]: row for row in drafts.process_overview(deployed)}
    assert set(rows) == KEYS | {"brand_new"}
    assert rows["credit_repair"]["drafts"] == 1 and rows["credit_repair"]["versions"] == 1
    assert rows["brand_new"]["latest"] is None and rows["brand_new"]["name"] == "全新流程"
    assert rows["credit_repair"]["instances"]["running"] == 0


# --- translations (<key>.i18n.json) -------------------------------------------------------------


def test_a_draft_from_a_version_carries_only_its_own_translations(
    deployed: Session, owner: User
) -> None:
    draft = drafts.create_from_version(deployed, "credit_repair", None, owner)
    translations = sorted(n for n in draft.files if n.endswith(".i18n.json"))
    assert translations == ["credit_repair.i18n.json"]
    assert drafts.validate(draft)["ok"]


def test_import_save_and_deploy_a_draft_with_translations(deployed: Session, owner: User) -> None:
    files = drafts.blank_bundle("translated_proc", "翻译的流程")
    files["translated_proc.i18n.json"] = json.dumps(
        {"en": {"翻译的流程": "Translated process"}}, ensure_ascii=False
    )
    uploads = {name: text.encode() for name, text in files.items()}
    draft = drafts.create_from_upload(deployed, uploads, owner)
    assert "translated_proc.i18n.json" in draft.files
    result = drafts.validate(draft)
    assert result["ok"], result["problems"]
    assert not [p for p in result["problems"] if p["file"].endswith(".i18n.json")]

    changed = dict(draft.files)
    changed["translated_proc.i18n.json"] = '{"en": {"翻译的流程": ""}}'
    saved = drafts.save(deployed, draft.id, changed, draft.lock_version, owner)
    with pytest.raises(BundleInvalidError) as caught:
        drafts.deploy(deployed, saved.id, owner)
    assert [p["file"] for p in caught.value.problems] == ["translated_proc.i18n.json"]

    changed["translated_proc.i18n.json"] = files["translated_proc.i18n.json"]
    saved = drafts.save(deployed, draft.id, changed, saved.lock_version, owner)
    done = drafts.deploy(deployed, saved.id, owner)
    version = definitions.get_version(deployed, "translated_proc", done.deployed.version)
    assert version.forms["translated_proc.i18n.json"] == {
        "en": {"翻译的流程": "Translated process"}
    }
