"""One writer for every table people open in a spreadsheet: CSV (semicolons, UTF-8 with a byte-order mark, as
Norwegian and Swedish spreadsheets open it) and XLSX.

Text from the register can be anything a member, a citizen or an import wrote, so a name starting with `=`, `+`,
`-` or `@` must never become a formula next to other members' national ids: in CSV such text is written with a
leading apostrophe (the spreadsheet shows it as text), in XLSX every text is a string cell, never a formula.
Amounts are exact numbers (`Decimal`, never float); dates are written as ISO dates.
"""

import csv
import datetime
import io
from decimal import Decimal

DELIMITER = ";"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}
# What a spreadsheet reads as the start of a formula (tab and carriage return too: some strip them first).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def money(ore: int) -> Decimal:
    """øre/öre as kroner/kronor, exactly (two decimals)."""
    return Decimal(ore).scaleb(-2)


def plain(value):
    """A cell's value: numbers stay numbers, dates become ISO text, everything else text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, Decimal)):
        return value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def csv_text(value) -> str:
    """A CSV cell: text that a spreadsheet would run as a formula gets a leading apostrophe."""
    value = plain(value)
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return str(value)


class _Echo:
    def write(self, value):
        return value


_LINE = csv.writer(_Echo(), delimiter=DELIMITER)


def csv_line(row) -> str:
    """One CSV line, for a streamed download."""
    return _LINE.writerow([csv_text(v) for v in row])


BOM = "\ufeff"


class Table:
    """Rows written to the binary file `out` in `fmt` ("csv" or "xlsx"): `add(row)` each, then `close()`. An XLSX
    table can start with a title line above the header."""

    def __init__(self, fmt: str, out, header, *, sheet: str = "list", title: str | None = None):
        if fmt not in FORMATS:
            raise ValueError(f"unknown table format {fmt!r}")
        self.fmt, self.out = fmt, out
        if fmt == "csv":
            self.text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
            self.text.write(BOM)
            self.writer = csv.writer(self.text, delimiter=DELIMITER)
        else:
            import openpyxl

            self.book = openpyxl.Workbook(write_only=True)
            self.sheet = self.book.create_sheet(sheet[:31])
            if title:
                self.add([title])
        self.add(header)

    def add(self, row) -> None:
        if self.fmt == "csv":
            self.writer.writerow([csv_text(v) for v in row])
        else:
            self.sheet.append([self._cell(v) for v in row])

    def _cell(self, value):
        from openpyxl.cell import WriteOnlyCell

        value = plain(value)
        if not isinstance(value, str):
            return value
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.data_type = "s"  # text, even when it starts with "=": never a formula
        return cell

    def close(self) -> None:
        if self.fmt == "csv":
            self.text.detach()
        else:
            self.book.save(self.out)


def table_bytes(fmt: str, header, rows, *, sheet: str = "list", title: str | None = None) -> bytes:
    """A whole table as bytes."""
    out = io.BytesIO()
    table = Table(fmt, out, header, sheet=sheet, title=title)
    for row in rows:
        table.add(row)
    table.close()
    return out.getvalue()
