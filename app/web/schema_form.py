"""JSON Schema (2020-12 task forms) ↔ HTML form: field specs for the template, typed data back.

Pure functions, no Flask: `build_fields` turns a schema (plus the current values and errors) into
a list of field specs for templates/_schema_form.html; `parse_form` turns a submitted form
(a MultiDict-like `form` and `files`) into JSON typed per the schema, with the parse errors
(e.g. "abc" in a number field) and the file uploads the view still has to store.

Field names: a top-level property is `key`; a nested object's property is `key.sub` (one level);
the rows of an array of objects are `key.0.sub`, `key.1.sub`, … — the same dotted paths that
app.services.forms.validate_form reports errors under.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

ATTACHMENT_FORMAT = "attachment-id"
TEXTAREA_MIN_LENGTH = 500  # strings allowed this long or longer get a textarea
CONFIRM_MESSAGE = "请勾选确认。"


@dataclass
class Field:
    """One input (or group of inputs) of a rendered form."""

    name: str
    kind: str  # text textarea date number integer checkbox confirm select radio
    # checkboxes lines attachment group rows
    label: str
    help: str | None = None
    required: bool = False
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)  # group: fields; rows: one group per row
    attrs: dict[str, Any] = field(default_factory=dict)  # minlength, maxlength, min, max, step…
    x_kind: str | None = None  # attachment kind

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass
class Upload:
    """A file chosen for an attachment-id field: store it, then put its id at `path`."""

    name: str
    path: tuple[str | int, ...]
    kind: str
    file: Any  # werkzeug FileStorage (has .filename and .stream)


@dataclass
class Parsed:
    data: dict[str, Any]
    errors: dict[str, list[str]]
    uploads: list[Upload]


# --- schema → fields ---------------------------------------------------------------------


def _kind(prop: dict[str, Any]) -> str:
    ptype = prop.get("type")
    if ptype == "object":
        return "group"
    if ptype == "array":
        items = prop.get("items") or {}
        if items.get("type") == "object":
            return "rows"
        return "checkboxes" if "enum" in items else "lines"
    if ptype == "boolean":
        return "confirm" if prop.get("const") is True else "checkbox"
    if ptype in ("number", "integer"):
        return str(ptype)
    if "enum" in prop:
        return "radio" if len(prop["enum"]) <= 5 else "select"
    if prop.get("format") == ATTACHMENT_FORMAT:
        return "attachment"
    if prop.get("format") == "date":
        return "date"
    max_length = prop.get("maxLength")
    if max_length is None or max_length >= TEXTAREA_MIN_LENGTH:
        return "textarea"
    return "text"


def _options(prop: dict[str, Any]) -> list[tuple[str, str]]:
    labels = prop.get("x-enum-labels") or {}
    return [(str(v), str(labels.get(v, v))) for v in prop.get("enum", [])]


def _attrs(prop: dict[str, Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for key, attr in (
        ("minLength", "minlength"),
        ("maxLength", "maxlength"),
        ("minimum", "min"),
        ("maximum", "max"),
    ):
        if key in prop:
            attrs[attr] = prop[key]
    if prop.get("type") == "integer":
        attrs["step"] = 1
    elif prop.get("type") == "number":
        attrs["step"] = "any"
    return attrs


def _row_count(prop: dict[str, Any], value: Any) -> int:
    rows = len(value) if isinstance(value, list) else 0
    return max(rows, int(prop.get("minItems") or 0), 1)


def _build(
    key: str,
    prop: dict[str, Any],
    name: str,
    value: Any,
    required: bool,
    errors: dict[str, list[str]],
) -> Field:
    kind = _kind(prop)
    spec = Field(
        name=name,
        kind=kind,
        label=str(prop.get("title") or key),
        help=prop.get("description"),
        required=required,
        options=_options(prop if kind != "checkboxes" else prop.get("items") or {}),
        errors=list(errors.get(name, [])),
        attrs=_attrs(prop),
        x_kind=prop.get("x-kind"),
    )
    if value is None and "default" in prop and kind not in ("group", "rows"):
        value = prop["default"]
    if kind == "group":
        spec.children = _children(prop, value if isinstance(value, dict) else {}, name, errors)
    elif kind == "rows":
        items = prop.get("items") or {}
        values = value if isinstance(value, list) else []
        for index in range(_row_count(prop, values)):
            row_value = values[index] if index < len(values) else {}
            row_name = f"{name}.{index}"
            spec.children.append(
                Field(
                    name=row_name,
                    kind="group",
                    label=f"{items.get('title') or spec.label} {index + 1}",
                    errors=list(errors.get(row_name, [])),
                    children=_children(
                        items, row_value if isinstance(row_value, dict) else {}, row_name, errors
                    ),
                )
            )
    elif kind in ("checkboxes", "lines"):
        spec.value = [str(v) for v in value] if isinstance(value, list) else []
    else:
        spec.value = value
    return spec


def _children(
    schema: dict[str, Any], values: dict[str, Any], prefix: str, errors: dict[str, list[str]]
) -> list[Field]:
    required = set(schema.get("required") or [])
    return [
        _build(
            key,
            prop,
            f"{prefix}.{key}" if prefix else key,
            values.get(key),
            key in required,
            errors,
        )
        for key, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict)
    ]


def build_fields(
    schema: dict[str, Any] | None,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> list[Field]:
    """The fields of `schema`, filled with `values` and carrying `errors` (field → messages)."""
    if not schema:
        return []
    return _children(schema, values or {}, "", attach_errors(schema, errors or {}))


def field_names(fields: list[Field]) -> set[str]:
    names: set[str] = set()
    for spec in fields:
        names.add(spec.name)
        names |= field_names(spec.children)
    return names


def attach_errors(schema: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Move errors reported under a bare property name (e.g. a nested `required`) to the one
    field whose dotted name ends with it; anything not matching a field goes to `_form`."""
    if not errors:
        return {}
    names = field_names(_children(schema, {}, "", {}))
    result: dict[str, list[str]] = {}
    for key, messages in errors.items():
        target = key
        if key not in names and not key.split(".")[-1].isdigit():
            matches = [n for n in names if n.endswith("." + key)]
            target = matches[0] if len(matches) == 1 else key
        if target not in names and not _is_row(target, names):
            target = "_form"
        result.setdefault(target, []).extend(messages)
    return result


def _is_row(name: str, names: set[str]) -> bool:
    return any(n.startswith(name + ".") for n in names) or any(
        n.startswith(name.rsplit(".", 1)[0] + ".0.") for n in names if "." in name
    )


def form_errors(fields: list[Field], errors: dict[str, list[str]]) -> list[str]:
    """Messages that belong to no rendered field (shown at the top of the form)."""
    return list(errors.get("_form", []))


# --- form → data ---------------------------------------------------------------------------


def _getlist(form: Any, name: str) -> list[str]:
    if hasattr(form, "getlist"):
        return list(form.getlist(name))
    value = form.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _parse_value(
    prop: dict[str, Any],
    name: str,
    path: tuple[str | int, ...],
    form: Any,
    files: Any,
    parsed: Parsed,
) -> tuple[bool, Any]:
    """(present, value) of one property; absent/empty values are left out of the data."""
    kind = _kind(prop)
    if kind == "group":
        obj = _parse_object(prop, name, path, form, files, parsed)
        return bool(obj), obj
    if kind == "rows":
        rows = _parse_rows(prop.get("items") or {}, name, path, form, files, parsed)
        return bool(rows), rows
    if kind == "checkboxes":
        values = [v for v in _getlist(form, name) if v != ""]
        return bool(values), values
    if kind == "lines":
        text = form.get(name) or ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return bool(lines), lines
    if kind in ("confirm", "checkbox"):
        checked = form.get(name) in ("on", "true", "1", "yes")
        if kind == "confirm":
            return checked, True
        return True, checked
    if kind == "attachment":
        upload = files.get(name) if files else None
        if upload is not None and getattr(upload, "filename", ""):
            parsed.uploads.append(Upload(name, path, str(prop.get("x-kind") or ""), upload))
            return False, None
        existing = (form.get(name) or "").strip()
        return bool(existing), existing
    return _parse_scalar(kind, name, form, parsed)


def _parse_rows(
    items: dict[str, Any],
    name: str,
    path: tuple[str | int, ...],
    form: Any,
    files: Any,
    parsed: Parsed,
) -> list[dict[str, Any]]:
    indices: set[int] = set()
    for key in [*form.keys(), *(files.keys() if files else [])]:
        head = key[len(name) + 1 :].split(".", 1)[0] if key.startswith(name + ".") else ""
        if head.isdigit():
            indices.add(int(head))
    rows: list[dict[str, Any]] = []
    for index in sorted(indices):
        pending = len(parsed.uploads)
        row = _parse_object(items, f"{name}.{index}", (*path, len(rows)), form, files, parsed)
        if len(parsed.uploads) > pending or _meaningful(row, items):
            rows.append(row)
    return rows


def _parse_scalar(kind: str, name: str, form: Any, parsed: Parsed) -> tuple[bool, Any]:
    raw = form.get(name)
    text = raw.strip() if isinstance(raw, str) else ""
    if text == "":
        return False, None
    if kind == "integer":
        try:
            return True, int(text)
        except ValueError:
            parsed.errors.setdefault(name, []).append(_("请输入整数。"))
            return False, None
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            parsed.errors.setdefault(name, []).append(_("请输入数字。"))
            return False, None
        return True, int(number) if number.is_integer() and "." not in text else number
    return True, text


def _parse_object(
    schema: dict[str, Any],
    prefix: str,
    path: tuple[str | int, ...],
    form: Any,
    files: Any,
    parsed: Parsed,
) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        name = f"{prefix}.{key}" if prefix else key
        present, value = _parse_value(prop, name, (*path, key), form, files, parsed)
        if present:
            obj[key] = value
    return obj


def _meaningful(obj: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A row holds something besides unchecked boxes (an untouched row is dropped)."""
    props = schema.get("properties") or {}
    return any(
        not (props.get(k, {}).get("type") == "boolean" and v is False) for k, v in obj.items()
    )


def parse_form(schema: dict[str, Any] | None, form: Any, files: Any = None) -> Parsed:
    """The submitted form as JSON typed per `schema`, parse errors and pending uploads."""
    parsed = Parsed({}, {}, [])
    if schema:
        parsed.data = _parse_object(schema, "", (), form, files or {}, parsed)
    return parsed


def set_path(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    """Put `value` at `path` (keys and list indices), creating objects/rows on the way."""
    target: Any = data
    for step, nxt in zip(path, path[1:], strict=False):
        if isinstance(target, list):
            assert isinstance(step, int)
            while len(target) <= step:
                target.append({})
            target = target[step]
        else:
            if step not in target:
                target[step] = [] if isinstance(nxt, int) else {}
            target = target[step]
    last = path[-1]
    if isinstance(target, list):
        assert isinstance(last, int)
        while len(target) <= last:
            target.append({})
        target[last] = value
    else:
        target[last] = value


def display_values(parsed: Parsed, form: Any, schema: dict[str, Any] | None) -> dict[str, Any]:
    """Values to re-show after an error: the parsed data, plus the raw text of unparsable
    numbers so the person sees what they typed."""
    values: dict[str, Any] = _copy(parsed.data)
    for name in parsed.errors:
        raw = form.get(name)
        if raw is not None:
            set_path(values, _path_of(name), raw)
    return values


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _path_of(name: str) -> tuple[str | int, ...]:
    return tuple(int(p) if p.isdigit() else p for p in name.split("."))


def prefill(schema: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, Any]:
    """Initial form values from the task's data.

    A top-level property already present in the data (e.g. a returned application) is shown as
    it was. An array of objects may declare `x-rows-from` (a dotted path into the task data
    holding a list) and `x-row-key` (the row field each listed value fills), so a form gets one
    prefilled row per record, department or material the process put in the data.
    """
    values: dict[str, Any] = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if name in data:
            values[name] = data[name]
            continue
        source, key = prop.get("x-rows-from"), prop.get("x-row-key")
        if isinstance(source, str) and isinstance(key, str):
            listed = _dig(data, source)
            if isinstance(listed, list) and listed:
                values[name] = [{key: item} for item in listed]
    return values


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data
