"""Publication periods of credit records, versioned by effective date (DOMAIN §0.2, §1.1).

A :class:`PeriodRule` is one row of a period table. Rows are never edited: a new
instrument adds rows with a new ``rule_set`` and ``effective_from``. The version is
selected by the penalty decision date (our default), and periods are counted from
that date (58号令 practice):

    rule = select_rule(DEFAULT_RULES, scheme="gsxt", record_type="administrative_penalty",
                       severity="general", on=decided_on)
    periods = compute_periods(rule, decided_on)

``scheme`` is the publishing system: ``"creditchina"`` (信用中国, NDRC rules) or
``"gsxt"`` (国家企业信用信息公示系统, SAMR rules).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from app.i18n import N_

SCHEMES = ("creditchina", "gsxt")
RECORD_TYPES = (
    "administrative_penalty",
    "abnormal_operations",
    "serious_violation_list",
    "serious_dishonesty_list",
    "breach_of_commitment",
)
SEVERITIES = ("minor", "general", "serious")
SEVERITY_LABELS = {"minor": N_("轻微"), "general": N_("一般"), "serious": N_("严重")}
SECTOR_FOOD_DRUG_SAFETY = "food_drug_safety"
PROCEDURE_SUMMARY = "简易程序"


@dataclass(frozen=True)
class PeriodRule:
    """One versioned period row; ``None`` in severity/sector/procedure means "any"."""

    rule_set: str
    scheme: str
    record_type: str
    severity: str | None
    sector: str | None
    procedure: str | None
    published: bool
    repairable: bool
    min_months: int | None
    max_months: int | None
    effective_from: date
    effective_to: date | None  # inclusive; None: open-ended
    source: str
    note: str | None = None

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {self.scheme!r}")
        if self.record_type not in RECORD_TYPES:
            raise ValueError(f"unknown record type {self.record_type!r}")
        if self.severity is not None and self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")

    def is_effective(self, on: date) -> bool:
        """True when ``on`` lies within [effective_from, effective_to]."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True)
class Periods:
    """Derived dates for one record; dates are ``None`` when they do not apply."""

    published: bool
    repairable: bool
    repairable_from: date | None
    public_until: date | None
    rule_set: str


def add_months(d: date, n: int) -> date:
    """``d`` plus ``n`` calendar months, clamped to the end of the target month."""
    month_index = d.year * 12 + (d.month - 1) + n
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last_day))


def select_rule(
    rules: Iterable[PeriodRule],
    *,
    scheme: str,
    record_type: str,
    severity: str | None,
    sector: str | None = None,
    procedure: str | None = None,
    on: date,
) -> PeriodRule | None:
    """The most specific rule effective ``on`` for the record, or ``None``.

    A rule matches when its scheme and record type are equal and each of its
    severity/sector/procedure is ``None`` (any) or equal. Specificity: a procedure
    match beats a sector match beats a severity match beats a wildcard. Ties go to
    the later ``effective_from``, then to the earlier position in ``rules``.
    """
    candidates = [
        rule
        for rule in rules
        if rule.scheme == scheme
        and rule.record_type == record_type
        and rule.is_effective(on)
        and _matches(rule.severity, severity)
        and _matches(rule.sector, sector)
        and _matches(rule.procedure, procedure)
    ]
    if not candidates:
        return None
    return max(candidates, key=_specificity)  # max() keeps the first of equal keys


def compute_periods(rule: PeriodRule, decided_on: date) -> Periods:
    """Derive repairable-from and public-until, counted from the decision date."""
    repairable = rule.published and rule.repairable
    repairable_from = add_months(decided_on, rule.min_months or 0) if repairable else None
    public_until = (
        add_months(decided_on, rule.max_months)
        if rule.published and rule.max_months is not None
        else None
    )
    return Periods(rule.published, repairable, repairable_from, public_until, rule.rule_set)


def scheme_for(department_code: str, record_type: str) -> str:
    """Publishing scheme for a record: SAMR records go to the 公示系统 (gsxt)."""
    del record_type  # every SAMR record type is published on gsxt
    return "gsxt" if department_code.strip().lower() == "samr" else "creditchina"


def _matches(rule_value: str | None, value: str | None) -> bool:
    return rule_value is None or rule_value == value


def _specificity(rule: PeriodRule) -> tuple[bool, bool, bool, date]:
    return (
        rule.procedure is not None,
        rule.sector is not None,
        rule.severity is not None,
        rule.effective_from,
    )


# --- Seed tables (DOMAIN §1.1) -------------------------------------------------------

_SRC_NDRC_58 = (
    "58号令（失信行为纠正后的信用信息修复管理办法（试行））；沪府办规〔2024〕8号 §一(一)2"
)
_SRC_NDRC_36 = "36号令（信用修复管理办法，国家发展改革委令2025年第36号）；国办发〔2025〕22号 §二"
_SRC_SAMR_2021 = "市场监管总局令第45号 §2、§13、§14；国市监信规〔2021〕3号"
_SRC_SAMR_107 = "市场监督管理信用修复管理办法（市场监管总局令第107号）"
_SRC_EIPR = "企业信息公示暂行条例 §8、§17"
_SRC_SAMR_44 = "市场监督管理严重违法失信名单管理办法（市场监管总局令第44号）§2"

_Window = tuple[date, date | None]
_NDRC_58: _Window = (date(2023, 5, 1), date(2026, 3, 31))
_NDRC_36: _Window = (date(2026, 4, 1), None)
_SAMR_2021: _Window = (date(2021, 9, 1), date(2025, 12, 24))
_SAMR_107: _Window = (date(2025, 12, 25), None)
_EIPR_2014: _Window = (date(2014, 10, 1), None)
_SAMR_44: _Window = (date(2021, 9, 1), None)

_BY_SEVERITY = {"minor": (0, 3), "general": (3, 12), "serious": (12, 36)}


def _rule(
    rule_set: str,
    scheme: str,
    record_type: str,
    window: _Window,
    source: str,
    *,
    severity: str | None = None,
    sector: str | None = None,
    procedure: str | None = None,
    published: bool = True,
    repairable: bool = True,
    min_months: int | None = None,
    max_months: int | None = None,
    note: str | None = None,
) -> PeriodRule:
    return PeriodRule(
        rule_set=rule_set,
        scheme=scheme,
        record_type=record_type,
        severity=severity,
        sector=sector,
        procedure=procedure,
        published=published,
        repairable=repairable,
        min_months=min_months,
        max_months=max_months,
        effective_from=window[0],
        effective_to=window[1],
        source=source,
        note=note,
    )


def _ndrc_58_rules() -> tuple[PeriodRule, ...]:
    args = ("NDRC-58", "creditchina", "administrative_penalty", _NDRC_58, _SRC_NDRC_58)
    return (
        _rule(*args, min_months=3, max_months=36, note="仅警告、通报批评的处罚不予公示"),
        _rule(
            *args,
            sector=SECTOR_FOOD_DRUG_SAFETY,
            min_months=12,
            max_months=36,
            note="食品、药品、特种设备、安全生产、消防领域",
        ),
        _rule(
            *args,
            procedure=PROCEDURE_SUMMARY,
            published=False,
            repairable=False,
            note="简易程序作出的行政处罚不予公示",
        ),
    )


def _ndrc_36_rules() -> tuple[PeriodRule, ...]:
    record_types = (
        "administrative_penalty",
        "breach_of_commitment",
        "serious_dishonesty_list",
    )
    minor_note = "轻微失信信息通常不予公示；如公示，最长3个月"
    return tuple(
        _rule(
            "NDRC-36",
            "creditchina",
            record_type,
            _NDRC_36,
            _SRC_NDRC_36,
            severity=severity,
            min_months=low,
            max_months=high,
            note=minor_note if severity == "minor" else None,
        )
        for record_type in record_types
        for severity, (low, high) in _BY_SEVERITY.items()
    )


def _samr_2021_rules() -> tuple[PeriodRule, ...]:
    args = ("SAMR-2021", "gsxt", "administrative_penalty", _SAMR_2021, _SRC_SAMR_2021)
    return (
        _rule(
            *args,
            min_months=6,
            max_months=36,
            note="仅警告不公示；通报批评或较低罚款公示3个月；45号令§14(3)处罚不得提前修复",
        ),
        _rule(
            *args,
            sector=SECTOR_FOOD_DRUG_SAFETY,
            min_months=12,
            max_months=36,
            note="食品、药品、特种设备领域",
        ),
        _rule(
            *args,
            procedure=PROCEDURE_SUMMARY,
            published=False,
            repairable=False,
            note="简易程序作出的行政处罚不予公示",
        ),
    )


def _samr_107_rules() -> tuple[PeriodRule, ...]:
    args = ("SAMR-107", "gsxt", "administrative_penalty", _SAMR_107, _SRC_SAMR_107)
    return (
        _rule(
            *args,
            severity="minor",
            repairable=False,
            max_months=3,
            note="警告不公示；其他轻微处罚满3个月自动停止公示，无需申请",
        ),
        _rule(*args, severity="general", min_months=3, max_months=12),
        _rule(*args, severity="serious", min_months=12, max_months=36),
    )


def _list_rules() -> tuple[PeriodRule, ...]:
    # The lists are kept by SAMR but shown on both systems, so both schemes carry them.
    return tuple(
        rule
        for scheme in SCHEMES
        for rule in (
            _rule(
                "EIPR-2014",
                scheme,
                "abnormal_operations",
                _EIPR_2014,
                _SRC_EIPR,
                min_months=0,
                max_months=36,
                note="原因消除即可申请移出；满3年未消除则列入严重违法失信名单",
            ),
            _rule(
                "SAMR-44",
                scheme,
                "serious_violation_list",
                _SAMR_44,
                _SRC_SAMR_44,
                min_months=12,
                max_months=36,
                note="最长期限3年尚待核实",
            ),
        )
    )


DEFAULT_RULES: tuple[PeriodRule, ...] = (
    _ndrc_58_rules() + _ndrc_36_rules() + _samr_2021_rules() + _samr_107_rules() + _list_rules()
)
