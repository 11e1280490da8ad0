"""What each dashboard table shows: title, columns (with their kinds and value labels), chart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from app.services.exports import Column
from app.web.labels import SEVERITIES, STATUSES

REPAIR_OUTCOMES = {
    "approved": _l("准予信用修复"),
    "partly_approved": _l("部分准予信用修复"),
    "rejected": _l("不予信用修复"),
    "refused": _l("不予受理"),
    "in_progress": _l("办理中"),
    "terminated": _l("已终止"),
}
GROUNDS = {
    "wrong_info": _l("信息错误或不完整、公示期限错误"),
    "expired": _l("公示期限届满后仍在公示"),
    "not_listable": _l("不符合列入严重失信主体名单的条件"),
    "privacy": _l("侵犯商业秘密、个人隐私"),
    "repair_result": _l("对信用修复结果有异议"),
}
OBJECTION_OUTCOMES = {
    "correct": _l("更正"),
    "delete": _l("删除"),
    "uphold": _l("维持"),
    "unconfirmable": _l("无法确认"),
    "rejected": _l("不予受理"),
    "pending": _l("办理中"),
}
COMMITMENT_KINDS = {
    "notify_commit": _l("告知承诺"),
    "rongque": _l("容缺受理承诺"),
    "repair": _l("信用修复承诺"),
}
COMMITMENT_STATUSES = {
    "open": _l("待履行"),
    "fulfilled": _l("按期履行"),
    "fulfilled_late": _l("逾期履行"),
    "breached": _l("违诺"),
    "withdrawn": _l("已撤回"),
    "repaired": _l("违诺已修复"),
}


@dataclass(frozen=True)
class Col:
    key: str
    label: Any
    kind: str = "int"
    labels: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Chart:
    """A chart of the table: category column, series (column keys), type, extras."""

    type: str  # bar | doughnut
    series: tuple[str, ...]
    stacked: bool = False
    rate_line: str | None = None  # a rate column drawn as a line on a percent axis
    horizontal: bool = False


@dataclass(frozen=True)
class TableSpec:
    key: str
    title: Any
    columns: tuple[Col, ...]
    note: Any = ""
    chart: Chart | None = None
    empty: Any = field(default_factory=lambda: _l("所选期间内没有数据。"))

    def export_columns(self) -> list[Column]:
        return [Column(c.key, str(c.label), "text" if c.labels else c.kind) for c in self.columns]


def _fulfilment(key: str, title: Any, first: Any, chart: Chart | None) -> TableSpec:
    return TableSpec(
        key,
        title,
        (
            Col("label", first, "text"),
            Col("due", _l("应履行")),
            Col("on_time", _l("按期履行")),
            Col("late", _l("逾期履行")),
            Col("breached", _l("违诺")),
            Col("open", _l("到期未认定")),
            Col("rate", _l("践诺率"), "rate"),
        ),
        note=_l(
            "践诺率 = 按期履行 ÷ 应履行；期限在统计期间内（或提前办结在期间内）的承诺为应履行。"
        ),
        chart=chart,
    )


FULFIL_SERIES = ("on_time", "late", "breached", "open")

STAFF_TABLES: dict[str, TableSpec] = {
    spec.key: spec
    for spec in (
        _fulfilment(
            "fulfilment_month",
            _l("践诺率（按月）"),
            _l("月份"),
            Chart("bar", FULFIL_SERIES, stacked=True, rate_line="rate"),
        ),
        _fulfilment(
            "fulfilment_department",
            _l("践诺率（按部门）"),
            _l("部门"),
            Chart("bar", FULFIL_SERIES, stacked=True, rate_line="rate"),
        ),
        _fulfilment("fulfilment_matter", _l("践诺率（按事项）"), _l("事项"), None),
        TableSpec(
            "repairs_outcome",
            _l("信用修复申请（按办理结果）"),
            (
                Col("key", _l("办理结果"), "text", REPAIR_OUTCOMES),
                Col("applications", _l("申请数")),
                Col("avg_working_days", _l("申请至决定平均用时（工作日）"), "number"),
                Col("max_working_days", _l("最长用时（工作日）")),
            ),
            note=_l("按申请日统计期间内提出的申请；工作日自申请次日起算。"),
            chart=Chart("doughnut", ("applications",)),
        ),
        TableSpec(
            "repairs_department",
            _l("信用修复（按认定部门）"),
            (
                Col("label", _l("认定部门"), "text"),
                Col("applications", _l("涉及申请")),
                Col("records_decided", _l("已决定记录")),
                Col("records_approved", _l("准予修复")),
                Col("records_rejected", _l("不予修复")),
                Col("share_approved", _l("准予比例"), "rate"),
                Col("reviews_decided", _l("已办结审查")),
                Col("avg_working_days", _l("平均审查用时（工作日）"), "number"),
                Col("limit_days", _l("审查时限（工作日）")),
                Col("within_limit", _l("时限内办结")),
                Col("over_limit", _l("超时限办结")),
                Col("reviews_open", _l("审查中")),
                Col("reviews_open_overdue", _l("审查中已超时限")),
            ),
            note=_l(
                "审查时限按记录的规则集和受理日由决策表确定（如36号令3个工作日、"
                "第107号令7个工作日）；逾期转分管领导督办的计为超时限。"
            ),
            chart=Chart("bar", ("records_approved", "records_rejected"), stacked=True),
        ),
        TableSpec(
            "objections_ground",
            _l("异议处理（按异议理由和结果）"),
            (
                Col("key", _l("异议理由"), "text", GROUNDS),
                Col("received", _l("受理")),
                Col("correct", _l("更正")),
                Col("delete", _l("删除")),
                Col("uphold", _l("维持")),
                Col("unconfirmable", _l("无法确认")),
                Col("rejected", _l("不予受理")),
                Col("pending", _l("办理中")),
                Col("within_limit", _l("时限内办结")),
                Col("over_limit", _l("超时限办结")),
                Col("avg_working_days", _l("平均用时（工作日）"), "number"),
            ),
            note=_l("按受理日统计；时限取自异议处理时限决策表（默认上海），含经批准的一次延期。"),
            chart=Chart(
                "bar",
                ("correct", "delete", "uphold", "unconfirmable", "rejected", "pending"),
                stacked=True,
                horizontal=True,
            ),
        ),
        TableSpec(
            "breaches_department",
            _l("违诺反馈闭环（按部门）"),
            (
                Col("label", _l("部门"), "text"),
                Col("made", _l("作出承诺")),
                Col("fulfilled_on_time", _l("按期履行")),
                Col("fulfilled_late", _l("逾期履行")),
                Col("breached", _l("认定违诺")),
                Col("repaired", _l("违诺已修复")),
                Col("closed_deleted", _l("经异议删除")),
                Col("closed_expired", _l("期满停止公示")),
                Col("open_now", _l("当前未闭环违诺")),
            ),
            note=_l("“当前未闭环违诺”为当前数，其余为统计期间内发生的数量。"),
            chart=Chart("bar", ("breached", "repaired", "open_now")),
        ),
        TableSpec(
            "breaches_open",
            _l("未闭环的违诺记录"),
            (
                Col("decision_no", _l("违诺认定文号"), "text"),
                Col("subject_name", _l("信用主体"), "text"),
                Col("subject_uscc", _l("统一社会信用代码"), "text"),
                Col("department", _l("认定部门"), "text"),
                Col("decided_on", _l("认定日期"), "date"),
                Col("severity", _l("严重程度"), "text", SEVERITIES),
                Col("status", _l("状态"), "text", STATUSES),
                Col("repairable_from", _l("可申请修复日期"), "date"),
            ),
            note=_l("当前仍在公示、尚未修复或删除的违诺记录。"),
            empty=_l("没有未闭环的违诺记录。"),
        ),
        TableSpec(
            "tasks_department",
            _l("待办任务（按部门）"),
            (
                Col("label", _l("部门"), "text"),
                Col("open", _l("待办")),
                Col("overdue", _l("已逾期")),
                Col("completed", _l("期间内办结")),
                Col("completed_late", _l("逾期办结")),
                Col("share_on_time", _l("按时办结率"), "rate"),
            ),
            note=_l("“待办”“已逾期”为当前数；办结数按办结日统计。"),
            chart=Chart("bar", ("open", "overdue")),
        ),
    )
}
STAFF_SECTIONS = (
    (_l("践诺率"), ("fulfilment_month", "fulfilment_department", "fulfilment_matter")),
    (_l("信用修复"), ("repairs_outcome", "repairs_department")),
    (_l("异议处理"), ("objections_ground",)),
    (_l("违诺反馈闭环"), ("breaches_department", "breaches_open")),
    (_l("任务时效"), ("tasks_department",)),
)

ENTERPRISE_TABLES: dict[str, TableSpec] = {
    spec.key: spec
    for spec in (
        TableSpec(
            "my_commitments",
            _l("我的承诺"),
            (
                Col("key", _l("承诺编号")),
                Col("kind", _l("承诺类型"), "text", COMMITMENT_KINDS),
                Col("matter", _l("事项"), "text"),
                Col("signed_on", _l("签署日期"), "date"),
                Col("due_on", _l("履行期限"), "date"),
                Col("status", _l("状态"), "text", COMMITMENT_STATUSES),
                Col("closed_on", _l("办结日期"), "date"),
            ),
            note=_l("期间内签署的承诺，以及所有尚待履行的承诺。"),
            empty=_l("没有承诺。"),
        ),
        TableSpec(
            "my_repairs",
            _l("我的信用修复申请"),
            (
                Col("key", _l("办件编号")),
                Col("applied_on", _l("申请日期"), "date"),
                Col("outcome", _l("办理结果"), "text", REPAIR_OUTCOMES),
                Col("decided_on", _l("决定日期"), "date"),
                Col("working_days", _l("用时（工作日）")),
                Col("records_approved", _l("准予修复记录")),
                Col("records_rejected", _l("不予修复记录")),
            ),
            empty=_l("所选期间内没有信用修复申请。"),
        ),
        TableSpec(
            "my_objections",
            _l("我的异议"),
            (
                Col("objection_no", _l("异议编号"), "text"),
                Col("decision_no", _l("记录文号"), "text"),
                Col("ground", _l("异议理由"), "text", GROUNDS),
                Col("received_on", _l("受理日期"), "date"),
                Col("outcome", _l("处理结果"), "text", OBJECTION_OUTCOMES),
                Col("decided_on", _l("办结日期"), "date"),
                Col("within_limit", _l("在时限内办结"), "bool"),
            ),
            empty=_l("所选期间内没有异议。"),
        ),
    )
}


def cell(col: Col, value: Any) -> Any:
    """The value as exported: a code translated to its label, everything else as is."""
    if col.labels is not None and value is not None:
        return str(col.labels.get(value, value))
    return value
