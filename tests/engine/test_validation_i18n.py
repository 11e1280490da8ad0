"""Upload validation of a process's translation file (<process id>.i18n.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask

from tests.engine.test_validation import valid_files, validate

NAME = "credit_repair.i18n.json"


def with_translation(body: object | bytes) -> dict[str, bytes]:
    files = valid_files()
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    files[NAME] = raw
    return files


def test_a_translation_file_is_accepted_and_not_checked_as_a_form() -> None:
    check = validate(with_translation({"en": {"信用修复": "Credit repair"}}))
    assert check.ok, [p.message for p in check.problems]
    assert not [p for p in check.problems if p.file == NAME]


def test_an_empty_translation_file_is_accepted() -> None:
    assert validate(with_translation({})).ok


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", "JSON"),
        (["信用修复"], "not a JSON object"),
        ({"en": ["Credit repair"]}, "locale 'en' are not a JSON object"),
        ({"en": {"信用修复": ""}}, "empty or not strings"),
        ({"en": {"信用修复": 3}}, "empty or not strings"),
        ({"en": {"信用修复": {"text": "Credit repair"}}}, "empty or not strings"),
    ],
)
def test_a_badly_shaped_translation_file_is_refused(body: object, words: str) -> None:
    check = validate(with_translation(body))
    assert not check.ok
    (problem,) = [p for p in check.problems if p.file == NAME]
    assert problem.severity == "error"
    assert words in problem.message_en
    assert re.search("[\u4e00-\u9fff]", problem.message)  # and a Chinese message


def test_an_unknown_locale_is_a_warning() -> None:
    check = validate(with_translation({"en": {"信用修复": "Credit repair"}, "fr": {"a": "b"}}))
    assert check.ok
    (problem,) = [p for p in check.problems if p.file == NAME]
    assert problem.severity == "warning" and "'fr'" in problem.message_en


def test_a_translation_file_for_a_missing_process_is_a_warning() -> None:
    files = valid_files()
    files["nope.i18n.json"] = b'{"en": {}}'
    check = validate(files)
    assert check.ok
    (problem,) = [p for p in check.problems if p.file == "nope.i18n.json"]
    assert problem.severity == "warning" and "'nope'" in problem.message_en


def test_a_translation_file_over_the_size_limit_is_refused() -> None:
    check = validate(with_translation({"en": {"信用修复": "x" * 5000}}), max_file_bytes=1000)
    assert not check.ok
    assert any(p.file == NAME and "too large" in p.message_en for p in check.problems)


def test_a_translation_file_is_not_a_form_a_task_can_name() -> None:
    files = with_translation({"en": {}})
    text = files["credit_repair.bpmn"].decode()
    files["credit_repair.bpmn"] = text.replace('"review_form.json"', f'"{NAME}"', 1).encode()
    check = validate(files)
    assert not check.ok
    assert any(NAME in p.message_en and "not uploaded" in p.message_en for p in check.problems)


def test_flask_bpmn_validate_accepts_translation_files_and_refuses_bad_ones(
    app: Flask, tmp_path: Path
) -> None:
    shipped = Path(app.root_path).parent / "bpmn"
    runner = app.test_cli_runner()
    one = runner.invoke(args=["bpmn", "validate", str(shipped / "credit_repair.bpmn")])
    assert one.exit_code == 0, one.output
    assert "i18n.json" not in one.output  # only its own translation, which is fine
    for name, body in valid_files().items():
        (tmp_path / name).write_bytes(body)
    (tmp_path / NAME).write_text('{"en": {"信用修复": 1}}', encoding="utf-8")
    bad = runner.invoke(args=["bpmn", "validate", str(tmp_path)])
    assert bad.exit_code == 1 and NAME in bad.output
