"""Reading spreadsheets from outside (imports, payroll returns, documents) by the rows they hold.

An XLSX file declares its extent (`A1:XFD1048576`) and openpyxl's read-only sheets pad every row to it: a
1.5 KB file then becomes a billion empty cells. Here a sheet's declared dimensions are dropped first, so rows
come as the file holds them and each row only as wide as its last cell.
"""


def open_workbook(source):
    """A read-only workbook of values (not formulas); the caller closes it."""
    import openpyxl

    return openpyxl.load_workbook(source, read_only=True, data_only=True)


def rows_present(sheet):
    """(row number, values) for each row of `sheet` that holds a value, never padded to a declared extent."""
    sheet.reset_dimensions()
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if any(v not in (None, "") for v in values):
            yield number, values
