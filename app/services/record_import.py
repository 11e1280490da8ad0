"""Importing credit records from a public credit platform (POST /api/v1/records).

Each row is validated on its own: a bad row is answered `rejected` with per-field messages
while the good rows of the same batch are stored. The import is idempotent on
(USCC, decision number): the same content again is `unchanged` and writes nothing; other
content on a record no process has touched yet is `updated` (audited); a record under
objection, in a pending repair or otherwise handled by a process is `rejected` with the reason.

Publication periods come from the versioned rule table (app/services/records.py). Rows are
written in (USCC, decision number) order, each in a savepoint, so two platforms sending the
same batch at once lock in the same order and the loser of a unique-key race re-reads the
winner's row instead of failing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import CreditRecord, Department, RecordStatus, Subject, User
from app.models.credit_record import RecordType, Severity
from app.rules.periods import PeriodRule
from app.rules.uscc import normalize_uscc, validate_uscc
from app.services import audit
from app.services.errors import InvalidInputError
from app.services.records import apply_publication_rules, load_rules

MAX_ROWS = 500
SOURCE = "import"
EVENT = "records_imported"
TIMEZONE = ZoneInfo("Asia/Shanghai")
PLATFORMS = ("creditchina", "gsxt", "local_platform")
RESULTS = ("created", "unchanged", "updated", "rejected")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_FINE = Decimal("1000000000000")  # Numeric(14, 2)
_MAX_PENALTY_TYPES = 20
_MAX_FACTS = 5000
_TEXT_LIMITS = {"violation": 255, "legal_basis": 255, "authority": 128}
# Keys a process leaves on a record it handled (objections, repair, breach loop).
_PROCESS_MARKS = (
    "objection",
    "objection_history",
    "objection_annotation",
    "repair_instance_id",
    "last_repair_refusal",
    "instance_id",
    "commitment_id",
)
# The record content an import sets; equal on all of them means "unchanged".
COMPARED = (
    "record_type",
    "severity",
    "department_id",
    "decided_on",
    "published_on",
    "violation",
    "facts",
    "legal_basis",
    "penalty_types",
    "fine_yuan",
    "authority",
    "platforms",
)


@dataclass
class Row:
    """A validated row: the subject it belongs to and the record values it sets."""

    index: int
    uscc: str
    subject_name: str
    decision_no: str
    department: Department
    values: dict[str, Any]


@dataclass
class Outcome:
    index: int
    uscc: str | None
    decision_no: str | None
    result: str
    record_id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "decision_no": self.decision_no,
            "uscc": self.uscc,
            "result": self.result,
            "record_id": self.record_id,
            "errors": self.errors,
        }


class _RowRejected(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("row rejected")
        self.errors = errors


# ---------------------------------------------------------------- validation


def today() -> date:
    """Today in Asia/Shanghai, from the engine clock (frozen in tests)."""
    return clock.now().astimezone(TIMEZONE).date()


def _text(
    raw: Mapping[str, Any],
    name: str,
    errors: dict[str, list[str]],
    *,
    required: bool = False,
    max_length: int,
    min_length: int = 1,
) -> str | None:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            errors[name] = [_("必填，且须为字符串。")]
        return None
    if not isinstance(value, str):
        errors[name] = [_("必填，且须为字符串。") if required else _("须为字符串。")]
        return None
    value = value.strip()
    if len(value) < min_length:
        errors[name] = [
            _("必填，且须为字符串。") if min_length == 1 else _("至少 %(n)s 个字符。", n=min_length)
        ]
        return None
    if len(value) > max_length:
        errors[name] = [_("不超过 %(max)s 个字符（当前 %(n)s 个）。", max=max_length, n=len(value))]
        return None
    return value


def _date(
    raw: Mapping[str, Any], name: str, errors: dict[str, list[str]], *, required: bool
) -> date | None:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            errors[name] = [_("必填，格式为 YYYY-MM-DD。")]
        return None
    if not isinstance(value, str) or not _DATE_RE.match(value):
        errors[name] = [_("日期格式应为 YYYY-MM-DD，例如 2026-05-12。")]
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = [_("%(value)s 不是有效日期。", value=value)]
        return None


def _fine(raw: Mapping[str, Any], errors: dict[str, list[str]]) -> Decimal | None:
    value = raw.get("fine_yuan")
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        errors["fine_yuan"] = [_("罚款金额须为数字或数字字符串（单位：元）。")]
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errors["fine_yuan"] = [_("罚款金额须为数字或数字字符串（单位：元）。")]
        return None
    if not amount.is_finite() or amount < 0 or amount >= _MAX_FINE:
        errors["fine_yuan"] = [_("罚款金额须为 0 至 999999999999.99 之间的数（单位：元）。")]
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors["fine_yuan"] = [_("罚款金额最多保留两位小数（单位：元）。")]
        return None
    return amount.quantize(Decimal("0.01"))


def _penalty_types(raw: Mapping[str, Any], errors: dict[str, list[str]]) -> list[str]:
    value = raw.get("penalty_types")
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or len(value) > _MAX_PENALTY_TYPES
        or not all(isinstance(v, str) and 0 < len(v.strip()) <= 64 for v in value)
    ):
        errors["penalty_types"] = [
            _(
                "处罚种类须为字符串数组（最多 %(n)s 项，每项 1–64 个字符）。",
                n=_MAX_PENALTY_TYPES,
            )
        ]
        return []
    return [v.strip() for v in value]


def _choice(
    raw: Mapping[str, Any],
    name: str,
    allowed: Sequence[str],
    errors: dict[str, list[str]],
    *,
    required: bool,
    label: str,
) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            errors[name] = [
                _("必填。%(label)s取值：%(allowed)s。", label=label, allowed="、".join(allowed))
            ]
        return None
    if value not in allowed:
        errors[name] = [
            _(
                "%(label)s %(value)s 无效，取值：%(allowed)s。",
                label=label,
                value=repr(value),
                allowed="、".join(allowed),
            )
        ]
        return None
    return str(value)


def row_identity(raw: Any) -> tuple[str | None, str | None]:
    """(normalised USCC, decision number) as given, for the answer of any row."""
    if not isinstance(raw, Mapping):
        return None, None
    uscc = normalize_uscc(raw["uscc"]) if isinstance(raw.get("uscc"), str) else None
    number = raw.get("decision_no")
    return uscc, number.strip() if isinstance(number, str) else None


def validate_row(
    index: int, raw: Any, departments: Mapping[str, Department], on: date
) -> Row | dict[str, list[str]]:
    """The row's values, or its errors by field (Chinese messages)."""
    if not isinstance(raw, Mapping):
        return {"row": [_("每条记录须为 JSON 对象。")]}
    errors: dict[str, list[str]] = {}
    uscc = ""
    if not isinstance(raw.get("uscc"), str):
        errors["uscc"] = [_("必填，且须为字符串。")]
    else:
        checked = validate_uscc(raw["uscc"])
        uscc = checked.code
        if not checked.ok:
            errors["uscc"] = list(checked.errors)
    name = _text(raw, "subject_name", errors, required=True, max_length=200, min_length=2)
    number = _text(raw, "decision_no", errors, required=True, max_length=128)
    record_type = _choice(
        raw,
        "record_type",
        [t.value for t in RecordType],
        errors,
        required=True,
        label=_("记录类型"),
    )
    severity = _choice(
        raw, "severity", [s.value for s in Severity], errors, required=False, label=_("失信程度")
    )
    department = None
    code = _text(raw, "department", errors, required=True, max_length=32)
    if code is not None:
        department = departments.get(code)
        if department is None:
            errors["department"] = [
                _("部门代码 %(code)s 不存在，请使用本系统登记的部门代码。", code=repr(code))
            ]
    decided_on = _date(raw, "decided_on", errors, required=True)
    published_on = _date(raw, "published_on", errors, required=False)
    if decided_on is not None and decided_on > on:
        errors["decided_on"] = [
            _(
                "决定日期 %(decided_on)s 晚于今天（%(today)s），请核对。",
                decided_on=decided_on,
                today=on,
            )
        ]
    if decided_on is not None and published_on is not None and published_on < decided_on:
        errors["published_on"] = [_("公示日期不能早于决定日期。")]
    texts = {k: _text(raw, k, errors, max_length=n) for k, n in _TEXT_LIMITS.items()}
    facts = _text(raw, "facts", errors, max_length=_MAX_FACTS)
    platform = _choice(raw, "platform", PLATFORMS, errors, required=False, label=_("公示平台"))
    fine = _fine(raw, errors)
    penalty_types = _penalty_types(raw, errors)
    if errors:
        return errors
    assert department is not None and name and number and record_type and decided_on
    if platform is not None:
        platforms = [platform]
    else:
        platforms = ["gsxt", "creditchina"] if department.code == "samr" else ["creditchina"]
    values = {
        "record_type": record_type,
        "severity": severity,
        "department_id": department.id,
        "decided_on": decided_on,
        "published_on": published_on,
        "violation": texts["violation"],
        "facts": facts,
        "legal_basis": texts["legal_basis"],
        "penalty_types": penalty_types,
        "fine_yuan": fine,
        "authority": texts["authority"] or department.authority_name,
        "platforms": platforms,
    }
    return Row(index, uscc, name, number, department, values)


# ---------------------------------------------------------------- storing


def _changed(record: CreditRecord, values: Mapping[str, Any]) -> list[str]:
    def norm(name: str, value: Any) -> Any:
        if name == "fine_yuan" and value is not None:
            return Decimal(value).quantize(Decimal("0.01"))
        if name in ("penalty_types", "platforms"):
            return list(value or [])
        return value

    return [n for n in COMPARED if norm(n, getattr(record, n)) != norm(n, values[n])]


def _busy_reason(record: CreditRecord, pending: Mapping[int, int]) -> str | None:
    """Why a process-handled record must not be changed by an import, or None."""
    from app.services.repair import STATUS_LABELS

    if record.status == RecordStatus.UNDER_OBJECTION:
        return _("该记录异议处理中，不能通过导入更新；请待异议办结后再报送。")
    if record.status != RecordStatus.PUBLISHED:
        label = STATUS_LABELS.get(record.status, record.status)
        return _(
            "该记录当前为“%(label)s”状态，不再公示，不能通过导入更新；请联系认定单位核实。",
            label=label,
        )
    if record.id in pending:
        return _(
            "该记录有正在办理的信用修复申请（办件 %(case)s），不能通过导入更新。",
            case=pending[record.id],
        )
    if any(key in (record.extra or {}) for key in _PROCESS_MARKS):
        return _("该记录已由异议、信用修复或违诺流程处理过，不能通过导入更新；请联系认定单位核实。")
    return None


def _periods(
    session: Session, record: CreditRecord, rules: list[PeriodRule]
) -> dict[str, list[str]] | None:
    try:
        apply_publication_rules(session, record, rules)
    except InvalidInputError as exc:
        return exc.fields or {"decided_on": [exc.message]}
    return None


class Importer:
    """One batch: validates, stores and reports; `run` is called inside a transaction."""

    def __init__(self, session: Session, actor: User) -> None:
        self.session = session
        self.actor = actor
        self.rules = load_rules(session)
        self.departments = {d.code: d for d in session.scalars(select(Department))}
        self.subjects_created: list[str] = []
        self._new_subject = False
        self.updates: list[dict[str, Any]] = []

    def run(self, raw_rows: Sequence[Any]) -> dict[str, Any]:
        on = today()
        outcomes: dict[int, Outcome] = {}
        valid: list[Row] = []
        first_index: dict[tuple[str, str], int] = {}
        for index, raw in enumerate(raw_rows):
            checked = validate_row(index, raw, self.departments, on)
            if isinstance(checked, dict):
                uscc, number = row_identity(raw)
                outcomes[index] = Outcome(index, uscc, number, "rejected", errors=checked)
                continue
            key = (checked.uscc, checked.decision_no)
            if key in first_index:
                message = _(
                    "与本批第 %(n)s 条重复（统一社会信用代码和决定书文号相同）。",
                    n=first_index[key],
                )
                outcomes[index] = Outcome(
                    index, checked.uscc, checked.decision_no, "rejected", errors={"row": [message]}
                )
                continue
            first_index[key] = index
            valid.append(checked)
        for row in sorted(valid, key=lambda r: (r.uscc, r.decision_no)):
            outcomes[row.index] = self._store(row)
        ordered = [outcomes[i] for i in range(len(raw_rows))]
        summary = {name: sum(1 for o in ordered if o.result == name) for name in RESULTS}
        if summary["created"] or summary["updated"]:
            self._audit(ordered, summary)
            self._emit(ordered)
        return {"results": [o.as_dict() for o in ordered], "summary": summary}

    def _store(self, row: Row) -> Outcome:
        """Create, update or leave one record, in a savepoint; one retry after a lost race."""
        for attempt in (1, 2):
            self._new_subject = False
            try:
                with self.session.begin_nested():
                    outcome = self._store_once(row)
                if self._new_subject:
                    self.subjects_created.append(row.uscc)
                return outcome
            except _RowRejected as exc:
                return Outcome(row.index, row.uscc, row.decision_no, "rejected", errors=exc.errors)
            except IntegrityError:
                # Another transaction stored the same subject or record first: read it now.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _store_once(self, row: Row) -> Outcome:
        subject = self.session.scalar(select(Subject).where(Subject.uscc == row.uscc))
        if subject is None:
            subject = Subject(uscc=row.uscc, name=row.subject_name)
            self.session.add(subject)
            self.session.flush()
            self._new_subject = True
        record = self.session.scalar(
            select(CreditRecord)
            .where(
                CreditRecord.subject_id == subject.id, CreditRecord.decision_no == row.decision_no
            )
            .with_for_update(of=CreditRecord)
            .execution_options(populate_existing=True)
        )
        if record is None:
            return self._create(row, subject)
        changed = _changed(record, row.values)
        if not changed:
            return Outcome(row.index, row.uscc, row.decision_no, "unchanged", record.id)
        from app.services.repair import pending_applications

        reason = _busy_reason(record, pending_applications(self.session, subject, None))
        if reason:
            raise _RowRejected({"decision_no": [reason]})
        before = {n: getattr(record, n) for n in changed}
        for name in changed:
            setattr(record, name, row.values[name])
        record.department = row.department
        problems = _periods(self.session, record, self.rules)
        if problems:
            raise _RowRejected(problems)
        self.session.flush()
        audit.record(
            self.session,
            "record.import_updated",
            actor=self.actor,
            object_type="credit_record",
            object_id=str(record.id),
            details={
                "decision_no": record.decision_no,
                "subject_uscc": row.uscc,
                "changed": {n: [before[n], row.values[n]] for n in changed},
            },
        )
        self.updates.append({"record_id": record.id, "changed": changed})
        return Outcome(row.index, row.uscc, row.decision_no, "updated", record.id)

    def _create(self, row: Row, subject: Subject) -> Outcome:
        record = CreditRecord(
            subject_id=subject.id,
            decision_no=row.decision_no,
            department=row.department,
            status=RecordStatus.PUBLISHED.value,
            source=SOURCE,
            extra={},
            **{k: v for k, v in row.values.items() if k != "department_id"},
        )
        problems = _periods(self.session, record, self.rules)
        if problems:
            raise _RowRejected(problems)
        self.session.add(record)
        self.session.flush()
        return Outcome(row.index, row.uscc, row.decision_no, "created", record.id)

    def _audit(self, outcomes: Sequence[Outcome], summary: Mapping[str, int]) -> None:
        audit.record(
            self.session,
            "records.imported",
            actor=self.actor,
            object_type="record_import",
            details={
                **summary,
                "rows": len(outcomes),
                "subjects_created": self.subjects_created,
                "created_ids": [o.record_id for o in outcomes if o.result == "created"],
                "updated_ids": [o.record_id for o in outcomes if o.result == "updated"],
            },
        )

    def _emit(self, outcomes: Sequence[Outcome]) -> None:
        """One `records_imported` platform event per subject with created or updated rows."""
        try:
            from app.services import webhooks
        except ImportError:  # the webhook outbox is not installed in this build
            return
        by_subject: dict[str, list[Outcome]] = {}
        for outcome in outcomes:
            if outcome.result in ("created", "updated") and outcome.uscc:
                by_subject.setdefault(outcome.uscc, []).append(outcome)
        records = {
            r.id: r
            for r in self.session.scalars(
                select(CreditRecord).where(
                    CreditRecord.id.in_([o.record_id for o in outcomes if o.record_id])
                )
            )
        }
        for uscc, items in sorted(by_subject.items()):
            webhooks.emit(
                self.session,
                EVENT,
                uscc,
                {
                    "created": sum(1 for o in items if o.result == "created"),
                    "updated": sum(1 for o in items if o.result == "updated"),
                    "records": [_event_record(records[o.record_id], o.result) for o in items],
                },
            )


def _event_record(record: CreditRecord, result: str) -> dict[str, Any]:
    return {
        "record_id": record.id,
        "decision_no": record.decision_no,
        "result": result,
        "type": record.record_type,
        "severity": record.severity,
        "department": record.department.code,
        "decided_on": record.decided_on,
        "public_until": record.public_until,
        "repairable": record.repairable,
        "repairable_from": record.repairable_from,
        "status": record.status,
    }


def import_records(session: Session, rows: Sequence[Any], actor: User) -> dict[str, Any]:
    """Validate and store a batch of 1–MAX_ROWS rows; the caller commits."""
    return Importer(session, actor).run(rows)
