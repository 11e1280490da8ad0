"""Credit records: publication periods from the versioned rule table."""

from __future__ import annotations

from dataclasses import asdict

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CreditRecord, PublicationRule
from app.rules.periods import DEFAULT_RULES, PeriodRule, compute_periods, scheme_for, select_rule
from app.services.errors import InvalidInputError

_RULE_KEY = ("rule_set", "scheme", "record_type", "severity", "sector", "procedure")


def load_rules(session: Session) -> list[PeriodRule]:
    """Every publication rule row, as pure rule objects."""
    fields = PeriodRule.__dataclass_fields__
    return [
        PeriodRule(**{name: getattr(row, name) for name in fields})
        for row in session.scalars(select(PublicationRule).order_by(PublicationRule.id))
    ]


def ensure_reference_rules(session: Session) -> int:
    """Insert the shipped rule rows that are missing; existing rows are never edited."""
    existing = {
        tuple(getattr(r, k) for k in _RULE_KEY) for r in session.scalars(select(PublicationRule))
    }
    added = 0
    for rule in DEFAULT_RULES:
        key = tuple(getattr(rule, k) for k in _RULE_KEY)
        if key not in existing:
            session.add(PublicationRule(**asdict(rule)))
            added += 1
    session.flush()
    return added


def apply_publication_rules(
    session: Session, record: CreditRecord, rules: list[PeriodRule] | None = None
) -> None:
    """Set rule set, repairable flag and dates from the rule in force on the decision date."""
    rules = rules if rules is not None else load_rules(session)
    scheme = scheme_for(record.department.code, record.record_type)
    rule = select_rule(
        rules,
        scheme=scheme,
        record_type=record.record_type,
        severity=record.severity,
        sector=record.sector,
        procedure=record.procedure,
        on=record.decided_on,
    )
    if rule is None and scheme != "creditchina":
        rule = select_rule(
            rules,
            scheme="creditchina",
            record_type=record.record_type,
            severity=record.severity,
            sector=record.sector,
            procedure=record.procedure,
            on=record.decided_on,
        )
    if rule is None:
        raise InvalidInputError(
            _(
                "没有适用于 %(day)s 的公示期限规则（%(type)s）。",
                day=record.decided_on,
                type=record.record_type,
            ),
            {"decided_on": [_("请管理员补充该日期适用的公示期限规则。")]},
        )
    periods = compute_periods(rule, record.decided_on)
    record.rule_set = periods.rule_set
    record.repairable = periods.repairable
    record.repairable_from = periods.repairable_from
    record.public_until = periods.public_until
