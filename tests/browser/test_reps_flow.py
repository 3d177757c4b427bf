import csv
import datetime

import pytest

from tests import factories
from tillit.registry.models import Employment, Membership
from tillit.reps import kpis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_reads_the_dashboard_opens_the_list_behind_a_number_and_exports_it(live_server, page, world):
    kpis.recount()
    rep = world.a.rep
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", rep.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.narrow button")
    page.wait_for_url(f"{live_server.url}/reps/")
    # an independent count from the raw rows: members in force employed at the rep's workplace today
    today = datetime.date.today()
    employed = set(Employment.objects.filter(workplace=world.a.workplace, starts_on__lte=today, ends_on__isnull=True)
                   .values_list("person_id", flat=True))
    expected = sum(1 for m in Membership.objects.filter(joined_on__lte=today, ends_on__isnull=True)
                   if m.person_id in employed)
    shown = page.locator("tr[data-kpi=members] td a").inner_text()
    assert int(shown) == expected == 3
    assert page.locator("svg.chart").count() == 1
    page.click("tr[data-kpi=members] td a")
    assert page.locator("table.list tbody tr").count() == expected
    with page.expect_download() as download:
        page.click("a:has-text('CSV')")
    rows = list(csv.reader(open(download.value.path(), encoding="utf-8-sig"), delimiter=";"))
    assert len(rows) == expected + 1 and rows[0][0] == "Name"
    assert page.locator("nav >> text=Cases").count() == 0  # a rep's top bar holds only what they may open
