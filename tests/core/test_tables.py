"""Every export is written by one table writer: formula text never runs in a spreadsheet (a citizen can plant a
name like `=HYPERLINK(…)` through an anonymous request), text cells stay text, amounts stay exact numbers."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from tests import factories
from tillit.core.tables import csv_line, money, table_bytes
from tillit.registry.models import Person

pytestmark = pytest.mark.django_db

PLANTED = {"first_name": "=HYPERLINK(\"https://x.example\";\"Klikk\")", "last_name": "+47-cmd", "city": "@SUM(A1)",
           "address_line": "-2+3"}


def _no_formula_in(content: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(content))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    return [c.value for c in cells]


def test_formula_text_is_neutralised_in_csv_and_kept_as_text_in_xlsx():
    rows = [[PLANTED["first_name"], "\tx", "ok", money(-1250), 7]]
    text = table_bytes("csv", ["a", "b", "c", "amount", "n"], rows).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert parsed[1] == ["'" + PLANTED["first_name"], "'\tx", "ok", "-12.50", "7"]
    values = _no_formula_in(table_bytes("xlsx", ["a", "b", "c", "amount", "n"], rows))
    assert PLANTED["first_name"] in values and Decimal("-12.50") in values and 7 in values
    assert csv_line(["=1+1"]) == "'=1+1\r\n"


def test_every_export_of_people_neutralises_what_a_person_wrote(client, world):
    person = world.a.members[2][0]
    Person.objects.filter(pk=person.pk).update(**PLANTED)
    client.force_login(world.a.staff)
    people_csv = b"".join(client.get(reverse("people_export", args=["csv"])).streaming_content).decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(people_csv), delimiter=";") for cell in row]
    assert "'" + PLANTED["first_name"] in cells and not any(cell.startswith(("=", "+", "@", "-")) for cell in cells)
    response = client.get(reverse("people_export", args=["xlsx"]))
    assert PLANTED["first_name"] in _no_formula_in(b"".join(response.streaming_content))
    client.force_login(world.a.rep)
    response = client.get(reverse("reps_members_export", args=["xlsx"]))
    assert response.status_code == 200
    values = _no_formula_in(response.content)
    assert any(PLANTED["first_name"] in str(v) or PLANTED["last_name"] in str(v) for v in values)


def test_deduction_notices_write_amounts_as_exact_numbers_and_names_as_text(client, world):
    side = world.a
    Person.objects.filter(pk=side.members[0][0].pk).update(**PLANTED)  # on the notice: paid by deduction
    factories.dues_month(world)
    client.force_login(world.admin)
    response = client.get(reverse("dues_notice_file", args=[side.notice.pk, "xlsx"]))
    assert response.status_code == 200
    values = _no_formula_in(response.content)
    assert not [v for v in values if isinstance(v, float) and v != int(v)]  # no binary fractions of kroner
    assert 400 in values or Decimal("400.00") in values
    assert any(PLANTED["first_name"] in str(v) for v in values)
