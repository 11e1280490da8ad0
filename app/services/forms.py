"""Server-side validation of task data against the task's JSON Schema form (draft 2020-12)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from app.services.errors import InvalidInputError

_MESSAGES = {
    "required": _l("此项为必填项。"),
    "enum": _l("请选择列表中的选项。"),
    "const": _l("请勾选确认。"),
    "type": _l("格式不正确。"),
    "minLength": _l("内容太短。"),
    "maxLength": _l("内容过长。"),
    "minimum": _l("数值过小。"),
    "maximum": _l("数值过大。"),
    "pattern": _l("格式不正确。"),
    "format": _l("格式不正确。"),
    "minItems": _l("至少需要选择一项。"),
    "maxItems": _l("选择的项目过多。"),
    "additionalProperties": _l("包含表单以外的字段。"),
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
        message = _("提交的数据必须是对象。")
        raise InvalidInputError(message, {"_form": [message]})
    if not schema:
        return data
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    fields: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        message = str(_MESSAGES.get(str(error.validator), _l("内容不符合要求。")))
        fields.setdefault(_field(error), []).append(message)
    if fields:
        raise InvalidInputError(_("表单内容未通过校验，请按提示修改。"), fields)
    return data
