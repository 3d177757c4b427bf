import csv
import datetime
import re

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


def _login(page, live_server, user):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.narrow button")


def test_a_rep_signs_filters_saves_exports_messages_and_corrects_and_member_service_approves(
        live_server, page, world, smtp, settings):
    from django.core.management import call_command

    from tillit.core.models import AuditEntry
    from tillit.reps import declaration

    settings.TILLIT_REP_APPROVAL_FIELDS = ["percentage"]
    kpis.recount()
    declaration.publish({"nb": "Taushetsplikt.", "en": "I keep members' data confidential."}, actor=world.admin,
                        expected_version=None)
    side = world.a
    target = side.members[1][0]
    Employment.objects.filter(person=target).update(percentage=80)
    _login(page, live_server, side.rep)
    page.wait_for_url(f"{live_server.url}/reps/")
    page.click("nav.subnav >> text=Members")
    page.wait_for_url("**/reps/declaration/**")  # nothing personal before the declaration is signed
    page.fill("input[name=name]", "Rep Alfasen")
    page.click("button:has-text('Sign')")
    page.wait_for_url("**/reps/members/**")
    assert page.locator("table.list tbody tr").count() == 3
    # the dashboard's figures against a count from the raw rows: members in force with a job at the workplace
    page.click("nav.subnav >> text=Dashboard")
    today = datetime.date.today()
    employed = set(Employment.objects.filter(workplace=side.workplace, starts_on__lte=today).exclude(
        ends_on__lt=today).values_list("person_id", flat=True))
    members = [m for m in Membership.objects.filter(joined_on__lte=today).exclude(ends_on__lt=today)
               if m.person_id in employed]
    assert int(page.locator("tr[data-kpi=members] td a").inner_text()) == len(members) == 3
    page.click("tr[data-kpi=members] td a")
    assert page.locator("table.list tbody tr").count() == len(members)
    page.fill("#f-pmax", "90")
    with page.expect_navigation():  # count the rows of the filtered page, not of the one it replaces
        page.click("form.filters button")
    assert page.locator("table.list tbody tr").count() == 1
    page.fill("#filter-name", "Part-time")
    page.click("button:has-text('Save')")
    page.goto(f"{live_server.url}/reps/members/")
    with page.expect_navigation():
        page.click("a:has-text('Part-time')")
    assert page.locator("table.list tbody tr").count() == 1
    with page.expect_download() as download:
        page.click("a:has-text('CSV')")
    rows = list(csv.reader(open(download.value.path(), encoding="utf-8-sig"), delimiter=";"))
    assert len(rows) == 2 and target.last_name in rows[1][0]
    # a message to the selection, delivered over SMTP, with its status per recipient
    page.click("a:has-text('Message these members')")
    page.fill("#subject", "Møte for deltidsansatte")
    page.fill("#body", "Hei {{ first_name }}, velkommen til møte.")
    page.click("button[value=preview]")
    assert f"Hei {target.first_name}" in page.locator("pre.preview").inner_text()
    page.click("button[value=send]")
    page.wait_for_url("**/messages/sent/*/")
    call_command("worker", batch=True, interval=0.1)
    page.reload()
    assert page.locator("td[data-status=sent]").inner_text() == "1"
    assert [e.rcpt_tos for e in smtp.envelopes] == [[target.email]]
    # a correction that needs approval
    page.goto(f"{live_server.url}/reps/members/")
    page.locator("tr", has_text=f"{target.last_name}, {target.first_name}").locator("a:has-text('Correct')").click()
    page.locator("input[name$=-percentage]").fill("60")
    page.click("button:has-text('Save the corrections')")
    page.wait_for_url("**/reps/corrections/**")
    assert "waiting for member service" in page.locator("table.list").inner_text()
    page.click("button:has-text('Log out')")
    _login(page, live_server, side.staff)
    page.goto(f"{live_server.url}/corrections/")
    page.click("button:has-text('Approve')")
    assert "Nothing waits" in page.locator("table.list").inner_text()
    assert Employment.objects.get(person=target).percentage == 60
    page.goto(f"{live_server.url}/people/{target.pk}/history/")
    assert AuditEntry.objects.filter(person_id=target.pk, action="registry.employment.changed", channel="rep").exists()
    assert re.search(r"Percentage: 80(\.00)? → 60", page.locator("main").inner_text())


def test_a_regional_rep_sees_a_workplace_that_lost_its_rep_and_one_that_never_had_one(live_server, page, world,
                                                                                     settings):
    settings.TILLIT_REP_MINIMUM_MEMBERS = 3
    regional, lone = factories.lost_and_lone(world)
    _login(page, live_server, regional)
    page.wait_for_url(f"{live_server.url}/reps/")
    page.click("nav.subnav >> text=Coverage")
    lacking = page.locator("h2#lacking + table").inner_text()
    lost = page.locator("h2#lost + p + table, h2#lost + table").first.inner_text()
    assert lone.name in lacking and world.a.workplace.name in lost
    assert world.a.rep_person.last_name in lost
    assert world.b.workplace.name not in page.locator("main").inner_text()


def test_a_reps_typed_text_survives_choosing_a_template(live_server, page, world, accessible):
    from tillit.messaging.models import MessageTemplate

    MessageTemplate.objects.create(code="meeting", language="en", subject="Annual meeting", for_selection=True,
                                   body="Welcome to the annual meeting, {{ first_name }}.")
    _login(page, live_server, world.a.rep)
    page.wait_for_url(f"{live_server.url}/reps/")
    page.goto(f"{live_server.url}/messages/compose/?source=reps")
    page.fill("#subject", "Club night")
    page.fill("#body", "Pizza on Friday, {{ first_name }}.")
    page.select_option("#template", label="Annual meeting")  # listed by its name, not its code
    page.click("button:has-text('Fill in from the template')")
    assert page.locator("#subject").input_value() == "Club night"
    assert page.locator("#body").input_value() == "Pizza on Friday, {{ first_name }}."
    assert "what you wrote is kept" in page.locator(".flash").inner_text()
    page.fill("#subject", "")
    page.fill("#body", "")
    page.click("button:has-text('Fill in from the template')")
    assert page.locator("#subject").input_value() == "Annual meeting"
    page.fill("#body", page.locator("#body").input_value() + " Bring a friend.")
    page.click("button:has-text('Preview')")
    assert "Bring a friend." in page.locator("pre.preview").inner_text()
    accessible(page)
