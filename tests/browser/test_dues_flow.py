import csv
import io

import pytest
from django.core.management import call_command

from tests import factories
from tillit.core.services import grant_access
from tillit.dues.models import DeductionNotice, DuesPolicy, FeeSchedule
from tillit.registry.models import Employment, MembershipType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, user, lands_on):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.narrow button")
    page.wait_for_url(f"{live_server.url}{lands_on}")


def test_a_month_of_dues_is_run_and_its_deduction_notice_downloaded(live_server, page, world):
    DuesPolicy.objects.create(bank_account="15032012345")
    FeeSchedule.objects.create(membership_type=MembershipType.objects.get(code="ordinary"), valid_from="2020-01-01",
                               amount=45_000)
    deducted = [p for p, _m in world.a.members[:2]]
    Employment.objects.filter(person__in=deducted).update(payroll_deduction=True)
    admin = world.admin
    admin.set_password(factories.PASSWORD)
    admin.save()

    login(page, live_server, admin, "/")
    page.click("nav >> summary:has-text('Work')")
    page.click("nav >> text=Dues")
    page.fill("#period", "2027-01")
    page.click("button:has-text('Dry run')")
    assert "Nothing has been written" in page.content()
    assert page.locator("table.facts").inner_text().count("2") >= 1
    page.click("button:has-text('Run it')")
    page.wait_for_url("**/dues/runs/*/")
    assert page.locator("#run-progress").get_attribute("value") == "0"
    call_command("worker", batch=True, interval=0.1)  # the run goes on in the background
    page.wait_for_selector("#run-progress[value='100']")  # the page follows it by itself
    assert "done" in page.locator("#progress [role=status]").inner_text()
    page.click("button:has-text('Make the deduction notices')")
    assert "Deduction notices for 2027-01" in page.content()

    page.click("nav >> summary:has-text('Work')")
    page.click("nav >> text=Dues")
    page.click("text=Deduction notices >> nth=0")
    notice = DeductionNotice.objects.get(payroll_unit=world.a.company)
    page.click(f"a[href='/dues/notices/{notice.pk}/']")
    assert "2 to start" in page.content()
    with page.expect_download() as download:
        page.click("a:has-text('CSV')")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read()), delimiter=";"))
    assert {r["member_number"] for r in rows} == {m.member_number for _p, m in world.a.members[:2]}
    assert {(r["kind"], r["amount"]) for r in rows} == {("start", "450.00")}

    # the employer's payroll office sees that notice, downloads its PDF, and sees no one else's
    payroll = factories.user("payroll_alfa")
    grant_access(payroll, "payroll", "employer", world.a.company, actor=None, channel="system")
    login(page, live_server, payroll, "/dues/notices/")
    listed = page.locator("table.list").first.inner_text()
    assert world.a.company.name in listed and world.b.company.name not in listed
    page.click(f"a[href='/dues/notices/{notice.pk}/']")
    with page.expect_download() as download:
        page.click("a:has-text('PDF')")
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"
    assert page.locator("nav >> text=People").count() == 0
