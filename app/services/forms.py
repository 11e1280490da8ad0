"""Server-side validation of task data against the task's JSON Schema form (draft 2020-12)."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from app.services.errors import InvalidInputError

_MESSAGES = {
    "required": "此项为必填项。",
    "enum": "请选择列表中的选项。",
    "const": "请勾选确认。",
    "type": "格式不正确。",
    "minLength": "内容太短。",
    "maxLength": "内容过长。",
    "minimum": "数值过小。",
    "maximum": "数值过大。",
    "pattern": "格式不正确。",
    "format": "格式不正确。",
    "minItems": "至少需要选择一项。",
    "maxItems": "选择的项目过多。",
    "additionalProperties": "包含表单以外的字段。",
}


def _field(error: ValidationError) -> str:
    """Dotted path of the field an error belongs to (`proofs.1.proof` inside arrays)."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")
        return ".".join([*path, missing[1]]) if len(missing) > 2 else "_form"
    if error.validator == "additionalProperties":
        return "_form"
    return ".".join(path) if path else "_form"


def validate_form(schema: dict[str, Any] | None, data: Any) -> dict[str, Any]:
    """Return the data if it satisfies the schema, else InvalidInputError with field messages."""
    if not isinstance(data, dict):
        raise InvalidInputError("提交的数据必须是对象。", {"_form": ["提交的数据必须是对象。"]})
    if not schema:
        return data
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    fields: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        message = _MESSAGES.get(str(error.validator), "内容不符合要求。")
        fields.setdefault(_field(error), []).append(message)
    if fields:
        raise InvalidInputError("表单内容未通过校验，请按提示修改。", fields)
    return data
