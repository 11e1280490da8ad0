"""The translations a process bundle carries (<process>.i18n.json): stored, versioned, shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from flask_babel import refresh
from sqlalchemy.orm import Session

from app.i18n import translate_stored
from app.models import ProcessVersion
from app.services import model_texts
from app.services.definitions import deploy_bundle, latest_version, read_bundle_dir
from app.services.task_views import render_instructions

BUNDLE = Path(__file__).resolve().parents[1] / "bpmn" / "review_case"
FILE = "review_case.i18n.json"
ENGLISH = {
    "测试审核流程": "Test review process",
    "审核申请": "Review the application",
    "审核结论": "Decision",
    "通过": "Approve",
    "不予通过": "Refuse",
    "材料齐全。": "The materials are complete.",
    "请在三日内办理。": "Please handle it within three days.",
    "请审核 {{ name }} 的申请。": "Please review the application of {{ name }}.",
}


@contextmanager
def _in(app: Flask, lang: str) -> Iterator[None]:
    with app.test_request_context(f"/?lang={lang}"):
        refresh()  # the test app context outlives requests: forget the last one's language
        yield
        refresh()


def _deploy(session: Session, english: dict[str, str] | None = ENGLISH) -> ProcessVersion:
    files = read_bundle_dir(BUNDLE)
    if english is not None:
        files[FILE] = json.dumps({"en": english}, ensure_ascii=False).encode()
    deploy_bundle(session, files)
    session.commit()
    version = latest_version(session, "review_case")
    assert version is not None
    return version


def test_deploy_keeps_the_translation_with_the_version_and_a_change_is_a_new_version(
    session: Session,
) -> None:
    first = _deploy(session)
    assert first.forms[FILE] == {"en": ENGLISH}
    assert "review_form.json" in first.forms
    assert _deploy(session).version == first.version  # unchanged: no new version
    changed = _deploy(session, {**ENGLISH, "审核意见": "Opinion"})
    assert changed.version == first.version + 1
    assert changed.forms[FILE]["en"]["审核意见"] == "Opinion"


def test_read_bundle_dir_reads_translation_files(tmp_path: Path) -> None:
    (tmp_path / "p.bpmn").write_text("<x/>")
    (tmp_path / "p.i18n.json").write_text("{}")
    assert set(read_bundle_dir(tmp_path)) == {"p.bpmn", "p.i18n.json"}


def test_model_text_in_english_whole_sentence_wise_and_fallback(
    app: Flask, session: Session
) -> None:
    version = _deploy(session)
    with _in(app, "en"):
        assert model_texts.model_text(version, "审核申请") == "Review the application"
        both = model_texts.model_text(version, "材料齐全。请在三日内办理。")
        assert both == "The materials are complete. Please handle it within three days."
        lines = model_texts.model_text(version, "材料齐全。\n请在三日内办理。")
        assert lines == "The materials are complete.\nPlease handle it within three days."
        # a sentence the model does not translate falls back to the catalogue, then stays
        assert model_texts.model_text(version, "材料齐全。暂无材料。") == (
            "The materials are complete. No materials."
        )
        assert model_texts.model_text(version, "暂无材料。") == "No materials."
        assert model_texts.model_text(version, "张三的材料") == "张三的材料"
        assert model_texts.model_text(None, "审核申请") == "审核申请"
        assert model_texts.model_text(version, None) is None
        # stored texts (a script's sentence, an application message around a model's name)
        assert translate_stored("材料齐全。") == "The materials are complete."
        assert translate_stored("新待办：审核申请") == "New task: Review the application"
        assert model_texts.text_of("测试审核流程") == "Test review process"


def test_model_text_in_chinese_is_unchanged(app: Flask, session: Session) -> None:
    version = _deploy(session)
    with _in(app, "zh_CN"):
        assert model_texts.model_text(version, "审核申请") == "审核申请"
        assert model_texts.model_text(version, "材料齐全。暂无材料。") == "材料齐全。暂无材料。"
        assert translate_stored("材料齐全。") == "材料齐全。"
        schema = version.forms["review_form.json"]
        assert model_texts.schema_text(version, schema) is schema


def test_schema_text_translates_a_copy_of_the_labels_only(app: Flask, session: Session) -> None:
    version = _deploy(session)
    schema = version.forms["review_form.json"]
    with _in(app, "en"):
        shown = model_texts.schema_text(version, schema)
    assert shown is not None and shown is not schema
    assert shown["title"] == "Review the application"
    decision = shown["properties"]["decision"]
    assert decision["title"] == "Decision"
    assert decision["enum"] == ["approve", "reject", "return"]
    assert decision["x-enum-labels"] == {
        "approve": "Approve",
        "reject": "Refuse",
        "return": "退回补正",
    }
    assert schema["title"] == "审核申请"  # the stored schema is untouched
    assert list(shown["properties"]) == list(schema["properties"])


def test_instructions_are_rendered_from_the_translated_template(
    app: Flask, session: Session
) -> None:
    version = _deploy(session)
    template = "请审核 {{ name }} 的申请。"
    with _in(app, "en"):
        shown = render_instructions(template, {"name": "澄溪公司"}, version)
        assert shown == "Please review the application of 澄溪公司."
        broken = {**ENGLISH, template: "Please review {{ name "}
        assert render_instructions(template, {"name": "A"}, _deploy(session, broken)) == (
            "请审核 A 的申请。"
        )
    with _in(app, "zh_CN"):
        assert render_instructions(template, {"name": "A"}, version) == "请审核 A 的申请。"
