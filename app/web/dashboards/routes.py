"""统计看板: department leaders and admins (/dashboards), an enterprise's own overview
(/dashboards/mine), and every table as CSV or XLSX with the same filters.

Access: admins see every department and may filter by any; a leader (approver role `leader`)
sees their own department — asking for another department is 403; other approvers and process
owners get 403; an enterprise sees only its own overview. Bad filter values answer 422 with a
message per field (the page with the form, or the error page for a download).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.engine import clock
from app.extensions import db, login_manager
from app.models import ApproverRole, Department, Role, Subject, User
from app.services import audit, exports, stats
from app.services.errors import InvalidInputError
from app.services.stats import enterprise as enterprise_stats
from app.services.stats import fulfilment as fulfilment_stats
from app.services.stats.common import local_day, timezone
from app.services.uow import transaction
from app.web.dashboards import bp
from app.web.dashboards.filters import Filters, parse_filters
from app.web.dashboards.specs import (
    ENTERPRISE_TABLES,
    STAFF_SECTIONS,
    STAFF_TABLES,
    Chart,
    Col,
    TableSpec,
    cell,
)
from app.web.errors import error_response

FORMATS = ("csv", "xlsx")
UNLINKED = {"fulfilment_matter": _l("未关联事项"), "fulfilment_department": _l("未关联部门")}


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _today() -> date:
    return local_day(clock.now())  # type: ignore[return-value]


def _require_login() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    return None


def _own_department() -> Department | None:
    """None for an admin (every department); the leader's department; else 403."""
    user = _actor()
    if user.role == Role.ADMIN:
        return None
    if (
        user.role == Role.APPROVER
        and user.approver_role == ApproverRole.LEADER
        and user.department is not None
    ):
        return user.department
    abort(403)


def _department_choices(own: Department | None) -> list[Department]:
    if own is not None:
        return [own]
    return list(db.session.scalars(select(Department).order_by(Department.code)))


def _staff_filters(own: Department | None) -> Filters:
    """Parse (422 on bad values), then apply the leader's department (403 for another one)."""
    codes = [d.code for d in db.session.scalars(select(Department))]
    filters = parse_filters(request.args, _today(), codes)
    if own is None:
        return filters
    if filters.scope.department not in (None, own.code):
        abort(403)
    scope = stats.Scope(filters.scope.start, filters.scope.end, own.code)
    return Filters(filters.raw_from, filters.raw_to, own.code, scope)


# --- presentation ------------------------------------------------------------------------------


def _rows(spec: TableSpec, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with codes turned into labels (for the page and the files alike)."""
    shown = []
    for row in rows:
        out = {c.key: cell(c, row.get(c.key)) for c in spec.columns}
        if spec.key in UNLINKED and row.get("key") is None:
            out["label"] = str(UNLINKED[spec.key])
        shown.append(out)
    return shown


def _display(col: Col, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if col.kind == "rate":
        return f"{float(value) * 100:.1f}%"
    if col.kind == "number":
        return f"{float(value):.1f}"
    if col.kind == "bool":
        return _("是") if value else _("否")
    if col.kind == "date" and hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _chart(spec: TableSpec, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    chart: Chart | None = spec.chart
    if chart is None or not rows:
        return None
    by_key = {c.key: c for c in spec.columns}
    category = spec.columns[0]
    labels = [_display(category, r.get(category.key)) for r in _rows(spec, rows)]
    if chart.type == "doughnut":
        (series,) = chart.series
        if not any(r.get(series) for r in rows):
            return None  # an empty ring says nothing; the table says "0"
        return {
            "canvas": f"chart-{spec.key}",
            "type": "doughnut",
            "labels": labels,
            "datasets": [{"label": str(by_key[series].label), "data": [r[series] for r in rows]}],
        }
    datasets = [
        {"label": str(by_key[s].label), "data": [r.get(s) or 0 for r in rows]} for s in chart.series
    ]
    result: dict[str, Any] = {
        "canvas": f"chart-{spec.key}",
        "type": "bar",
        "labels": labels,
        "datasets": datasets,
        "stacked": chart.stacked,
        "horizontal": chart.horizontal,
    }
    if chart.rate_line:
        result["rate"] = {
            "label": str(by_key[chart.rate_line].label),
            "data": [
                None if r.get(chart.rate_line) is None else round(r[chart.rate_line] * 100, 1)
                for r in rows
            ],
        }
    return result


def _view(spec: TableSpec, rows: list[dict[str, Any]], export_args: dict[str, str]) -> dict:
    shown = _rows(spec, rows)
    return {
        "spec": spec,
        "rows": [[_display(c, r.get(c.key)) for c in spec.columns] for r in shown],
        "numeric": [c.kind in ("int", "number", "rate") for c in spec.columns],
        "chart": _chart(spec, rows),
        "export_args": export_args,
    }


def _export_args(filters: Filters | None) -> dict[str, str]:
    if filters is None:
        return {}
    args = {"from": filters.raw_from, "to": filters.raw_to, "department": filters.raw_department}
    return {k: v for k, v in args.items() if v}


def _file(
    spec: TableSpec, rows: list[dict[str, Any]], fmt: str, notes: list[tuple[str, str]]
) -> Response:
    columns = spec.export_columns()
    shown = _rows(spec, rows)
    yes, no = _("是"), _("否")
    if fmt == "csv":
        body, mime = exports.to_csv(columns, shown, yes, no), exports.CSV_MIME
    else:
        body = exports.to_xlsx(str(spec.title), columns, shown, notes, yes, no, _("说明"))
        mime = exports.XLSX_MIME
    filename = f"{spec.key}.{fmt}"
    response = Response(body, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _notes(filters: Filters, department_name: str) -> list[tuple[str, str]]:
    return [
        (_("统计期间"), f"{filters.scope.start.isoformat()} — {filters.scope.end.isoformat()}"),
        (_("部门"), department_name),
        (_("导出时间"), clock.now().astimezone(timezone()).strftime("%Y-%m-%d %H:%M")),
        (_("导出人"), _actor().display_name),
    ]


def _department_name(code: str | None) -> str:
    if not code:
        return _("全部部门")
    dept = db.session.scalar(select(Department).where(Department.code == code))
    return dept.name if dept else code


def _audit_export(kind: str, name: str, fmt: str, filters: Filters) -> None:
    with transaction() as session:
        audit.record(
            session,
            "dashboard.exported",
            actor=_actor(),
            object_type=kind,
            object_id=name,
            details={
                "format": fmt,
                "from": filters.scope.start.isoformat(),
                "to": filters.scope.end.isoformat(),
                "department": filters.scope.department,
            },
        )


# --- staff dashboard ---------------------------------------------------------------------------


@bp.route("/dashboards")
def index() -> Any:
    if (login := _require_login()) is not None:
        return login
    own = _own_department()
    choices = _department_choices(own)
    try:
        filters = _staff_filters(own)
    except InvalidInputError as exc:
        raw = {k: request.args.get(k, "") for k in ("from", "to", "department")}
        return (
            render_template(
                "dashboards/index.html",
                errors=exc.fields,
                message=exc.message,
                raw=raw,
                choices=choices,
                own=own,
                sections=[],
                totals=None,
                charts=[],
                scope=None,
            ),
            422,
        )
    session = db.session
    tables = stats.dashboard(session, filters.scope)
    export_args = _export_args(filters)
    views = {key: _view(STAFF_TABLES[key], rows, export_args) for key, rows in tables.items()}
    sections = [(title, [views[k] for k in keys]) for title, keys in STAFF_SECTIONS]
    totals = {
        "fulfilment": fulfilment_stats.totals(session, filters.scope),
        "repairs": sum(r["applications"] for r in tables["repairs_outcome"]),
        "objections": sum(r["received"] for r in tables["objections_ground"]),
        "open_breaches": len(tables["breaches_open"]),
        "overdue_tasks": sum(r["overdue"] for r in tables["tasks_department"]),
    }
    charts = [v["chart"] for v in views.values() if v["chart"]]
    raw = {"from": filters.raw_from, "to": filters.raw_to, "department": filters.raw_department}
    return render_template(
        "dashboards/index.html",
        errors={},
        message="",
        raw=raw,
        choices=choices,
        own=own,
        sections=sections,
        totals=totals,
        charts=charts,
        scope=filters.scope,
        department_name=_department_name(filters.scope.department),
    )


@bp.route("/dashboards/<name>.<any(csv, xlsx):fmt>")
def export(name: str, fmt: str) -> Any:
    if (login := _require_login()) is not None:
        return login
    own = _own_department()
    spec = STAFF_TABLES.get(name)
    if spec is None:
        abort(404)
    try:
        filters = _staff_filters(own)
    except InvalidInputError as exc:
        return error_response(422, exc.message, exc.code, exc.details)
    rows = stats.table(db.session, filters.scope, name)
    _audit_export("dashboard_table", name, fmt, filters)
    notes = _notes(filters, _department_name(filters.scope.department))
    return _file(spec, rows, fmt, notes)


# --- enterprise overview -----------------------------------------------------------------------


def _own_subject() -> Subject:
    user = _actor()
    if user.role != Role.ENTERPRISE or user.subject_id is None:
        abort(403)
    subject = db.session.get(Subject, user.subject_id)
    if subject is None:
        abort(403)
    return subject


@bp.route("/dashboards/mine")
def mine() -> Any:
    if (login := _require_login()) is not None:
        return login
    subject = _own_subject()
    try:
        filters = parse_filters(request.args, _today(), None)
    except InvalidInputError as exc:
        raw = {k: request.args.get(k, "") for k in ("from", "to")}
        return (
            render_template(
                "dashboards/mine.html",
                subject=subject,
                errors=exc.fields,
                message=exc.message,
                raw=raw,
                views=[],
                summary=None,
                charts=[],
                scope=None,
            ),
            422,
        )
    session = db.session
    tables = enterprise_stats.tables(session, subject, filters.scope)
    export_args = _export_args(filters)
    views = [_view(ENTERPRISE_TABLES[k], rows, export_args) for k, rows in tables.items()]
    summary = enterprise_stats.fulfilment_summary(session, subject, filters.scope)
    charts = []
    if summary["due"]:
        charts.append(
            {
                "canvas": "chart-my-fulfilment",
                "type": "doughnut",
                "labels": [_("按期履行"), _("逾期履行"), _("违诺"), _("到期未认定")],
                "datasets": [
                    {
                        "label": _("应履行"),
                        "data": [
                            summary["on_time"],
                            summary["late"],
                            summary["breached"],
                            summary["open"],
                        ],
                    }
                ],
            }
        )
    raw = {"from": filters.raw_from, "to": filters.raw_to}
    return render_template(
        "dashboards/mine.html",
        subject=subject,
        errors={},
        message="",
        raw=raw,
        views=views,
        summary=summary,
        charts=charts,
        scope=filters.scope,
    )


@bp.route("/dashboards/mine/<name>.<any(csv, xlsx):fmt>")
def mine_export(name: str, fmt: str) -> Any:
    if (login := _require_login()) is not None:
        return login
    subject = _own_subject()
    spec = ENTERPRISE_TABLES.get(name)
    if spec is None:
        abort(404)
    try:
        filters = parse_filters(request.args, _today(), None)
    except InvalidInputError as exc:
        return error_response(422, exc.message, exc.code, exc.details)
    rows = enterprise_stats.tables(db.session, subject, filters.scope)[name]
    _audit_export("enterprise_overview", name, fmt, filters)
    return _file(spec, rows, fmt, _notes(filters, f"{subject.name}（{subject.uscc}）"))


def export_url(endpoint: str, name: str, fmt: str, args: dict[str, str]) -> str:
    return url_for(endpoint, name=name, fmt=fmt, **args)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"dashboard_export_url": export_url}
