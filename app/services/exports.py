"""Tables as files: CSV (UTF-8 with BOM, so Excel opens Chinese text) and XLSX (openpyxl).

A table is a list of columns and a list of row dicts. Column kinds:
`text`, `int`, `number` (one decimal), `rate` (a fraction shown as a percentage),
`date` and `bool` (是 / 否). Values a spreadsheet would run as a formula (text starting with
=, +, -, @, tab or CR) are neutralised: prefixed with ' in CSV and stored as plain strings in
XLSX.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

KINDS = ("text", "int", "number", "rate", "date", "bool")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
MAX_WIDTH = 60


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


def _text(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cell(column: Column, value: Any, yes: str = "是", no: str = "否") -> str:
    if value is None or value == "":
        return ""
    if column.kind == "rate":
        return f"{float(value) * 100:.1f}%"
    if column.kind == "number":
        return f"{float(value):.1f}"
    if column.kind == "int":
        return str(int(value))
    if column.kind == "date":
        return _as_date(value).isoformat() if _as_date(value) else _text(value)
    if column.kind == "bool":
        return yes if value else no
    return _text(value)


def to_csv(
    columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], yes: str = "是", no: str = "否"
) -> bytes:
    """UTF-8 with BOM, CRLF line ends, a header row of the column labels."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_text(c.label) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(c, row.get(c.key), yes, no) for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _width(value: Any) -> int:
    """Display width: CJK characters take two columns."""
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def to_xlsx(
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    notes: Sequence[tuple[str, str]] = (),
    yes: str = "是",
    no: str = "否",
    notes_title: str = "说明",
) -> bytes:
    """One sheet: a bold, frozen header row, typed cells (dates as dates), fitted widths.

    `notes` (label, value) go to a second sheet, e.g. the period and department exported.
    """
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(title)
    header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor="F0F4F8")
    widths = [_width(c.label) for c in columns]
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.label)
        cell.font, cell.fill = header_font, header_fill
        cell.alignment = Alignment(vertical="center")
    for row_number, row in enumerate(rows, start=2):
        for index, column in enumerate(columns, start=1):
            value = row.get(column.key)
            cell = sheet.cell(row=row_number, column=index)
            _set(cell, column, value, yes, no)
            shown = csv_cell(column, value, yes, no)
            widths[index - 1] = max(widths[index - 1], _width(shown))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, width + 2)
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}1"
    if notes:
        info = book.create_sheet(_sheet_title(notes_title))
        for number, (label, value) in enumerate(notes, start=1):
            info.cell(row=number, column=1, value=label).font = header_font
            _plain(info.cell(row=number, column=2), value)
        info.column_dimensions["A"].width = 16
        info.column_dimensions["B"].width = 48
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _plain(cell: Any, value: Any) -> None:
    cell.value = "" if value is None else str(value)
    cell.data_type = "s"  # never a formula


def _set(cell: Any, column: Column, value: Any, yes: str, no: str) -> None:
    if value is None or value == "":
        return
    if column.kind == "int":
        cell.value = int(value)
    elif column.kind == "number":
        cell.value = float(value)
        cell.number_format = "0.0"
    elif column.kind == "rate":
        cell.value = float(value)
        cell.number_format = "0.0%"
    elif column.kind == "date" and _as_date(value) is not None:
        cell.value = _as_date(value)
        cell.number_format = "yyyy-mm-dd"
    elif column.kind == "bool":
        cell.value = yes if value else no
    else:
        _plain(cell, value)


def _sheet_title(title: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(title)).strip() or "Sheet"
    return cleaned[:31]
