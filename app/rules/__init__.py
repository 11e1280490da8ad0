"""Pure domain rules from DOMAIN.md: no Flask, no database session."""

from app.rules.calendar import WorkCalendar, add_working_days
from app.rules.periods import (
    DEFAULT_RULES,
    PeriodRule,
    Periods,
    add_months,
    compute_periods,
    scheme_for,
    select_rule,
)
from app.rules.uscc import (
    UsccError,
    UsccResult,
    check_uscc,
    normalize_uscc,
    validate_uscc,
)

__all__ = [
    "DEFAULT_RULES",
    "PeriodRule",
    "Periods",
    "UsccError",
    "UsccResult",
    "WorkCalendar",
    "add_months",
    "add_working_days",
    "check_uscc",
    "compute_periods",
    "normalize_uscc",
    "scheme_for",
    "select_rule",
    "validate_uscc",
]
