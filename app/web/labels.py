"""Chinese labels (translatable) for the English identifiers shown in templates."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

RECORD_TYPES = {
    "administrative_penalty": _l("行政处罚"),
    "abnormal_operations": _l("经营异常名录"),
    "serious_violation_list": _l("严重违法失信名单"),
    "serious_dishonesty_list": _l("严重失信主体名单"),
    "breach_of_commitment": _l("违诺记录"),
}
SEVERITIES = {"minor": _l("轻微"), "general": _l("一般"), "serious": _l("严重")}
STATUSES = {
    "published": _l("公示中"),
    "under_objection": _l("异议处理中"),
    "repaired": _l("已修复"),
    "corrected": _l("已更正"),
    "deleted": _l("已删除"),
    "expired": _l("期满停止公示"),
}
ROLES = {
    "enterprise": _l("企业"),
    "approver": _l("审批人员"),
    "process_owner": _l("流程管理员"),
    "admin": _l("系统管理员"),
}
APPROVER_ROLES = {
    "window": _l("一口受理窗口"),
    "reviewer": _l("审核"),
    "inspector": _l("核查"),
    "leader": _l("分管领导"),
}


def _label(table: dict[str, object]):  # type: ignore[no-untyped-def]
    def label(value: str | None) -> object:
        return "—" if value is None else table.get(value, value)

    return label


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        record_type_label=_label(RECORD_TYPES),
        severity_label=_label(SEVERITIES),
        status_label=_label(STATUSES),
        role_label=_label(ROLES),
        approver_role_label=_label(APPROVER_ROLES),
    )
