"""Small parsers for values that arrive from forms, messages and start data."""

from __future__ import annotations

from typing import Any


def as_int(value: Any) -> int | None:
    """An id given as int or digit string; None for anything else (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
