"""schema_form: schema → field specs, submitted form → typed JSON, for each field type."""

from __future__ import annotations

from werkzeug.datastructures import FileStorage, MultiDict

from app.web.schema_form import attach_errors, build_fields, parse_form, set_path

SCHEMA = {
    "type": "object",
    "required": ["name", "agree"],
    "properties": {
        "name": {"type": "string", "title": "姓名", "maxLength": 64},
        "note": {"type": "string", "title": "说明", "maxLength": 2000},
        "amount": {"type": "number", "title": "金额"},
        "count": {"type": "integer", "title": "数量", "minimum": 1},
        "agree": {"type": "boolean", "const": True, "title": "同意"},
        "flag": {"type": "boolean", "title": "标记"},
        "day": {"type": "string", "format": "date", "title": "日期"},
        "choice": {"type": "string", "enum": ["a", "b"], "x-enum-labels": {"a": "甲", "b": "乙"}},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}},
        "lines": {"type": "array", "items": {"type": "string"}},
        "corrected": {
            "type": "object",
            "properties": {"facts": {"type": "string", "maxLength": 100}},
        },
        "file": {"type": "string", "format": "attachment-id", "x-kind": "证明"},
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "integer"}, "ok": {"type": "boolean"}},
            },
        },
    },
}


def _kinds() -> dict[str, str]:
    return {f.name: f.kind for f in build_fields(SCHEMA)}


def test_kinds_of_fields() -> None:
    assert _kinds() == {
        "name": "text",
        "note": "textarea",
        "amount": "number",
        "count": "integer",
        "agree": "confirm",
        "flag": "checkbox",
        "day": "date",
        "choice": "radio",
        "tags": "checkboxes",
        "lines": "lines",
        "corrected": "group",
        "file": "attachment",
        "rows": "rows",
    }


def test_enum_labels_children_and_required() -> None:
    fields = {f.name: f for f in build_fields(SCHEMA, {"rows": [{"id": 1}, {"id": 2}]})}
    assert fields["choice"].options == [("a", "甲"), ("b", "乙")]
    assert fields["name"].required and not fields["note"].required
    assert [c.name for c in fields["corrected"].children] == ["corrected.facts"]
    assert [r.name for r in fields["rows"].children] == ["rows.0", "rows.1"]
    assert fields["rows"].children[1].children[0].value == 2
    assert fields["file"].x_kind == "证明"
    assert fields["count"].attrs == {"min": 1, "step": 1}


def test_parse_typed_values() -> None:
    form = MultiDict(
        [
            ("name", " 王某 "),
            ("note", ""),
            ("amount", "1.5"),
            ("count", "3"),
            ("agree", "on"),
            ("day", "2026-11-20"),
            ("choice", "b"),
            ("tags", "x"),
            ("tags", "y"),
            ("lines", "一\n\n二 "),
            ("corrected.facts", "事实"),
            ("rows.0.id", "7"),
            ("rows.0.ok", "on"),
            ("rows.1.id", ""),
        ]
    )
    parsed = parse_form(SCHEMA, form)
    assert parsed.errors == {}
    assert parsed.data == {
        "name": "王某",
        "amount": 1.5,
        "count": 3,
        "agree": True,
        "flag": False,
        "day": "2026-11-20",
        "choice": "b",
        "tags": ["x", "y"],
        "lines": ["一", "二"],
        "corrected": {"facts": "事实"},
        "rows": [{"id": 7, "ok": True}],
    }


def test_empty_and_bad_values() -> None:
    parsed = parse_form(SCHEMA, MultiDict([("count", "abc"), ("amount", "x"), ("rows.0.id", "")]))
    assert parsed.errors == {"count": ["请输入整数。"], "amount": ["请输入数字。"]}
    assert "agree" not in parsed.data and "corrected" not in parsed.data
    assert "rows" not in parsed.data


def test_attachment_upload_is_pending_with_its_path() -> None:
    upload = FileStorage(stream=None, filename="a.pdf", name="rows.0.file")
    schema = {
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "attachment-id"}},
                },
            }
        },
    }
    parsed = parse_form(schema, MultiDict(), MultiDict([("rows.0.file", upload)]))
    assert [(u.name, u.path) for u in parsed.uploads] == [("rows.0.file", ("rows", 0, "file"))]
    set_path(parsed.data, parsed.uploads[0].path, "42")
    assert parsed.data == {"rows": [{"file": "42"}]}


def test_errors_attach_to_fields() -> None:
    errors = attach_errors(SCHEMA, {"facts": ["x"], "name": ["y"], "bogus": ["z"]})
    assert errors == {"corrected.facts": ["x"], "name": ["y"], "_form": ["z"]}
    fields = {f.name: f for f in build_fields(SCHEMA, {"name": "王"}, {"name": ["必填"]})}
    assert fields["name"].errors == ["必填"] and fields["name"].value == "王"
