import email
import email.policy

import pytest
from django.core.management import call_command

from tests import factories
from tests.messaging.test_mail import _mail
from tillit.messaging.inbound import ingest_email

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, user):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.narrow button")
    page.wait_for_url(f"{live_server.url}/")


def test_a_case_from_email_to_closing_across_two_departments(live_server, page, world, smtp):
    factories.case_type(world.a.branch, name="Intake", is_intake=True)
    member = world.a.members[1][0]
    message = ingest_email(_mail("Lønn mangler", sender=member.email, body="Jeg har ikke fått lønn."))
    case = message.case

    login(page, live_server, world.a.staff)
    page.goto(f"{live_server.url}/cases/?queue=unassigned")
    page.click(f"text={case.number}")
    assert "Jeg har ikke fått lønn." in page.locator("ol.case-timeline").inner_text()
    page.click("button:has-text('Take it')")
    assert page.locator("dd[data-field=handler] select").input_value() == str(world.a.staff.pk)

    page.fill("#msg-body", "Vi ser på saken.")
    page.click("button:has-text('Send')")
    assert page.locator("[data-delivery=queued]").count() == 1
    call_command("worker", batch=True, interval=0.1)
    page.reload()
    assert page.locator("[data-delivery=sent]").count() == 1
    sent = email.message_from_bytes(smtp.envelopes[0].content, policy=email.policy.default)
    assert sent["Subject"] == f"[{case.number}] Lønn mangler" and sent.get_content().strip() == "Vi ser på saken."

    page.click("button:has-text('Start')")
    page.select_option("select[name=unit]", str(world.b.branch.pk))
    page.fill("input[name=reason]", "Arbeidsstedet hører til Beta")
    page.click("button:has-text('Transfer')")
    page.wait_for_url(f"{live_server.url}/cases/")
    assert case.number not in page.locator("table.list").inner_text()

    login(page, live_server, world.b.staff)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    timeline = page.locator("ol.case-timeline").inner_text()
    for text in ["Jeg har ikke fått lønn.", "Vi ser på saken.", "Arbeidsstedet hører til Beta", world.b.branch.name]:
        assert text in timeline
    page.select_option("select[name=outcome]", "resolved")
    page.once("dialog", lambda dialog: dialog.accept())  # "Close case …?"
    page.click("button:has-text('Close')")
    assert page.locator("[data-field=state]").inner_text() == "Closed"
    assert page.locator("[data-field=outcome]").inner_text() == "resolved"
    assert "(resolved)" in page.locator("ol.case-timeline").inner_text()

    page.goto(f"{live_server.url}/cases/measure/?unit={world.b.branch.pk}")
    assert page.locator("svg.chart").count() == 1
    assert page.locator("dd[data-kpi=closed]").inner_text() == "1"
    assert page.locator("dd[data-kpi=open]").inner_text() == "0"


def test_a_handler_reclassifies_an_intake_case_assigns_it_writes_with_a_file_and_closes_it(
        live_server, page, world, smtp, accessible):
    from tillit.cases.models import Case
    from tillit.core.services import grant_access
    from tillit.messaging.models import Message
    from tillit.messaging.outbox import deliver_message

    factories.case_type(world.a.branch, name="Intake", is_intake=True)
    factories.case_type(world.a.branch, name="Wage claim")
    member = world.a.members[1][0]
    case = ingest_email(_mail("Lønn mangler", sender=member.email, body="Jeg har ikke fått lønn.")).case
    factories.document(world.a, content=b"The employer's pay slip", title="Pay slip", cases=[case])
    colleague = factories.user("colleague_alfa")
    grant_access(colleague, "case_handler", "org", world.a.region, actor=None, channel="system")

    login(page, live_server, world.a.staff)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    accessible(page)
    page.select_option("#case-type", label="Wage claim")
    page.fill("#case-type-reason", "It is a wage claim")
    page.click("button:has-text('Change the case type')")
    assert "Intake → Wage claim" in page.locator("ol.case-timeline").inner_text()

    page.select_option("#assign-colleague select[name=to]", str(colleague.pk))
    page.click("#assign-colleague button")
    assert page.locator("#assign-colleague select[name=to]").input_value() == str(colleague.pk)

    page.fill("#msg-body", "Vi har fått lønnsslippen.")
    page.check("fieldset.attach input[type=checkbox]")
    page.click(".reply-out button:has-text('Send')")
    assert "Attachments" in page.locator("ol.case-timeline").inner_text()
    for queued in Message.objects.filter(status="queued"):
        deliver_message.call(queued.pk)
    sent = email.message_from_bytes(smtp.envelopes[-1].content, policy=email.policy.default)
    assert [part.get_content() for part in sent.iter_attachments()] in ([b"The employer's pay slip"],
                                                                        ["The employer's pay slip"])

    page.click("button:has-text('Start')")
    page.select_option("select[name=outcome]", "resolved")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Close')")
    assert page.locator("[data-field=outcome]").inner_text() == "resolved"
    case = Case.objects.get(pk=case.pk)
    assert case.case_type.name == "Wage claim" and case.handler == colleague and case.outcome == "resolved"


def test_the_owner_edits_the_process_as_a_table_and_sees_the_real_flow_on_its_map(live_server, page, world,
                                                                                   accessible):
    from tillit.cases.services import transition_case

    ctype = factories.case_type(world.a.branch, name="Found cat")
    cases = [factories.case(world.a, case_type=ctype) for _i in range(4)]
    for case in cases:
        transition_case(case, "start", actor=world.admin)
    for case in cases[:2]:
        transition_case(case, "wait", actor=world.admin)
    transition_case(cases[0], "resume", actor=world.admin)

    login(page, live_server, world.admin)
    page.goto(f"{live_server.url}/cases/types/{ctype.pk}/")
    counts = {row.get_attribute("data-move"): row.locator("[data-count]").inner_text()
              for row in page.locator("tr[data-move]").all()}
    assert counts == {"start": "4", "wait": "2", "resume": "1", "close": "0", "reopen": "0"}
    assert page.locator("figure.process-map svg g.state").count() == 4
    assert page.locator("figure.process-map g.move.never").count() == 2  # close and reopen: never taken
    assert "Close · 0" in page.locator("figure.process-map").inner_text()
    accessible(page)

    page.click("text=Change the process")
    row = page.locator("table.rows").first.locator("tbody tr").nth(4)  # the first empty row of the states
    row.locator("input[name$=code]").fill("lost")
    row.locator("input[name$=-name]").fill("Lost for good")
    row.locator("select[name$=category]").select_option("closed")
    move = page.locator("table.rows").nth(1).locator("tbody tr").nth(5)
    move.locator("input[name$=code]").fill("give_up")
    move.locator("input[name$=-label]").fill("Give up")
    move.locator("input[name$=from_state]").fill("waiting")
    move.locator("input[name$=to_state]").fill("lost")
    accessible(page)
    page.click("button:has-text('Publish a new version')")
    page.wait_for_url(f"{live_server.url}/cases/types/{ctype.pk}/")
    assert "process version 2" in page.locator("h1").inner_text()
    assert page.locator("figure.process-map svg g.state").count() == 5
    assert page.locator("tr[data-move=give_up] [data-count]").inner_text() == "0"
