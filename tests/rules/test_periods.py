"""Publication periods: version selection by decision date, specificity, derived dates."""

from __future__ import annotations

from datetime import date

import pytest

from app.rules.periods import (
    DEFAULT_RULES,
    PeriodRule,
    Periods,
    add_months,
    compute_periods,
    scheme_for,
    select_rule,
)


def pick(
    scheme: str,
    on: date,
    severity: str | None = None,
    *,
    record_type: str = "administrative_penalty",
    sector: str | None = None,
    procedure: str | None = None,
    rules: tuple[PeriodRule, ...] = DEFAULT_RULES,
) -> PeriodRule:
    rule = select_rule(
        rules,
        scheme=scheme,
        record_type=record_type,
        severity=severity,
        sector=sector,
        procedure=procedure,
        on=on,
    )
    assert rule is not None
    return rule


def test_last_day_of_58_hao_ling_selects_ndrc_58() -> None:
    rule = pick("creditchina", date(2026, 3, 31), "general")
    assert rule.rule_set == "NDRC-58"
    assert (rule.min_months, rule.max_months) == (3, 36)


def test_first_day_of_36_hao_ling_selects_ndrc_36() -> None:
    rule = pick("creditchina", date(2026, 4, 1), "general")
    assert rule.rule_set == "NDRC-36"
    assert (rule.min_months, rule.max_months) == (3, 12)


@pytest.mark.parametrize(
    ("severity", "months"),
    [("minor", (0, 3)), ("general", (3, 12)), ("serious", (12, 36))],
)
@pytest.mark.parametrize(
    "record_type",
    ["administrative_penalty", "breach_of_commitment", "serious_dishonesty_list"],
)
def test_ndrc_36_periods_by_severity(
    record_type: str, severity: str, months: tuple[int, int]
) -> None:
    rule = pick("creditchina", date(2026, 6, 1), severity, record_type=record_type)
    assert rule.rule_set == "NDRC-36"
    assert (rule.min_months, rule.max_months) == months


def test_samr_versions_switch_on_order_107_effective_date() -> None:
    assert pick("gsxt", date(2025, 12, 24), "general").rule_set == "SAMR-2021"
    assert pick("gsxt", date(2025, 12, 25), "general").rule_set == "SAMR-107"


def test_food_sector_under_58_hao_ling_needs_one_year() -> None:
    rule = pick("creditchina", date(2025, 6, 1), "general", sector="food_drug_safety")
    assert rule.rule_set == "NDRC-58"
    assert rule.min_months == 12
    assert pick("creditchina", date(2025, 6, 1), "general", sector="retail").min_months == 3


def test_summary_procedure_under_58_hao_ling_is_not_published() -> None:
    rule = pick("creditchina", date(2025, 6, 1), "minor", procedure="简易程序")
    periods = compute_periods(rule, date(2025, 6, 1))
    assert periods == Periods(False, False, None, None, "NDRC-58")


def test_procedure_match_beats_sector_match() -> None:
    rule = pick("creditchina", date(2025, 6, 1), sector="food_drug_safety", procedure="简易程序")
    assert not rule.published


def test_samr_2021_summary_procedure_and_food_sector() -> None:
    on = date(2024, 3, 1)
    assert not pick("gsxt", on, procedure="简易程序").published
    assert pick("gsxt", on, sector="food_drug_safety").min_months == 12
    assert pick("gsxt", on).min_months == 6


def test_samr_107_minor_stops_automatically_and_is_not_repairable() -> None:
    rule = pick("gsxt", date(2026, 1, 10), "minor")
    periods = compute_periods(rule, date(2026, 1, 10))
    assert periods.published
    assert not periods.repairable
    assert periods.repairable_from is None
    assert periods.public_until == date(2026, 4, 10)


def test_domain_sample_record_samr_107_general() -> None:
    decided_on = date(2026, 5, 12)
    rule = pick(scheme_for("samr", "administrative_penalty"), decided_on, "general")
    assert compute_periods(rule, decided_on) == Periods(
        published=True,
        repairable=True,
        repairable_from=date(2026, 8, 12),
        public_until=date(2027, 5, 12),
        rule_set="SAMR-107",
    )


@pytest.mark.parametrize("scheme", ["creditchina", "gsxt"])
def test_lists_are_available_on_both_schemes(scheme: str) -> None:
    abnormal = pick(scheme, date(2026, 6, 1), record_type="abnormal_operations")
    serious = pick(scheme, date(2026, 6, 1), record_type="serious_violation_list")
    assert (abnormal.rule_set, abnormal.min_months, abnormal.max_months) == (
        "EIPR-2014",
        0,
        36,
    )
    assert (serious.rule_set, serious.min_months, serious.max_months) == (
        "SAMR-44",
        12,
        36,
    )


def test_no_rule_before_any_version_or_without_required_severity() -> None:
    common = {"scheme": "creditchina", "record_type": "administrative_penalty"}
    assert select_rule(DEFAULT_RULES, **common, severity="general", on=date(2023, 4, 30)) is None
    assert select_rule(DEFAULT_RULES, **common, severity=None, on=date(2026, 6, 1)) is None


@pytest.mark.parametrize(
    ("scheme", "on", "kwargs"),
    [
        (
            "creditchina",
            date(2025, 6, 1),
            {"sector": "food_drug_safety", "procedure": "简易程序"},
        ),
        ("creditchina", date(2026, 6, 1), {"severity": "serious"}),
        ("gsxt", date(2024, 6, 1), {"sector": "food_drug_safety"}),
        ("gsxt", date(2026, 6, 1), {"severity": "minor"}),
    ],
)
def test_selection_does_not_depend_on_rule_order(
    scheme: str, on: date, kwargs: dict[str, str]
) -> None:
    forward = pick(scheme, on, **kwargs)
    backward = pick(scheme, on, rules=tuple(reversed(DEFAULT_RULES)), **kwargs)
    assert forward == backward


def test_every_seed_rule_cites_a_source_that_fits_the_column() -> None:
    for rule in DEFAULT_RULES:
        assert rule.source
        assert len(rule.source) <= 255
        assert rule.note is None or len(rule.note) <= 255


def test_rule_rejects_unknown_scheme() -> None:
    with pytest.raises(ValueError):
        PeriodRule(
            "X",
            "weibo",
            "administrative_penalty",
            None,
            None,
            None,
            True,
            True,
            3,
            12,
            date(2026, 1, 1),
            None,
            "test",
        )


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 5, 12), 12, date(2027, 5, 12)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 12), 0, date(2026, 5, 12)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("department", "expected"),
    [("samr", "gsxt"), ("ndrc", "creditchina"), ("tax", "creditchina")],
)
def test_scheme_for_department(department: str, expected: str) -> None:
    assert scheme_for(department, "administrative_penalty") == expected
