"""Self-service in a real browser: a citizen's found cat followed to the end, a member's own data, answers
before asking and a booking; every page checked with axe-core and at a phone's width."""

import json
import re

import pytest
from django.utils import timezone

from tests import factories
from tillit.cases import services as case_services
from tillit.cases.models import Case
from tillit.messaging.models import Message
from tillit.messaging.services import send_case_message
from tillit.portal import knowledge
from tillit.portal.models import Article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _link(address, pattern):
    body = Message.objects.filter(address=address).latest("pk").body
    return re.search(pattern + r"[\w\-]+/", body).group(0)


def test_a_citizen_reports_a_found_cat_follows_it_through_a_transfer_replies_and_rates_it(
        live_server, page, portal, accessible):
    base = live_server.url
    page.goto(f"{base}/services/")
    accessible(page)
    page.click("text=Report a found cat")
    accessible(page)
    page.fill("#f_title", "Grey cat in the stairwell")
    page.fill("#f_where", "Storgata 2, second floor")
    page.check("input[name=f_collar][value=no]")
    page.fill("#name", "Ola Finner")
    page.fill("#email", "ola@example.no")
    page.click("button:has-text('Send')")
    page.wait_for_selector("text=Check your email")
    accessible(page)
    assert not Case.objects.filter(title="Grey cat in the stairwell").exists()
    page.goto(base + _link("ola@example.no", r"/services/confirm/"))
    accessible(page)
    page.click("button:has-text('Confirm and send my request')")
    page.wait_for_url("**/portal/cases/*/")
    case = Case.objects.get(title="Grey cat in the stairwell")
    assert case.number in page.locator("main").inner_text()
    accessible(page)
    # staff move it to another department and answer
    case_services.transfer_case(case, portal.a.branch, actor=portal.a.staff, reason="The branch handles animals")
    send_case_message(case, body="Thank you, we have picked the cat up.", actor=portal.a.staff)
    page.reload()
    timeline = page.locator("ol.timeline").inner_text()
    assert f"Moved to {portal.a.branch.name}" in timeline and "we have picked the cat up" in timeline
    assert "The branch handles animals" not in timeline  # the internal reason stays internal
    page.fill("#body", "Great, thanks! She is called Pus.")
    page.click("button:has-text('Send')")
    assert "She is called Pus" in page.locator("ol.timeline").inner_text()
    case.refresh_from_db()
    case_services.transition_case(case, "start", actor=portal.a.staff)
    case_services.transition_case(case, "close", actor=portal.a.staff)
    page.reload()
    accessible(page)
    page.check("input[name=score][value='5']")
    page.fill("#comment", "Quick and kind")
    page.click("button:has-text('Send my answer')")
    assert "You rated this case 5 of 5" in page.locator("main").inner_text()
    assert case.rating.score == 5


def test_a_member_corrects_their_phone_downloads_their_data_finds_an_answer_and_books_a_time(
        live_server, page, portal, accessible):
    from tillit.portal.models import FormField

    article = Article.objects.create(title="What happens to a found cat?", body="The shelter takes it in.",
                                     language="en", state=Article.State.PUBLISHED)
    knowledge.index(article)
    user, person = portal.members_users[0]
    user.set_password(factories.PASSWORD)
    user.save()
    FormField.objects.create(service=portal.talk, key="topic", kind="short", labels={"en": "Topic"})
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.narrow button")
    page.wait_for_url(f"{base}/portal/")
    accessible(page)
    page.click("nav.subnav >> text=My details")
    accessible(page)
    page.fill("#phone", "+47 912 34 567")
    page.click("button:has-text('Save my contact details')")
    page.wait_for_selector("text=Your contact details are saved.")
    person.refresh_from_db()
    assert person.phone == "+4791234567"
    with page.expect_download() as download:
        page.click("text=Download my data (JSON)")
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert data["person"]["phone"] == "+4791234567"
    # answers before asking: typing the question's title suggests the article
    page.goto(f"{base}/services/{portal.cat.pk}/")
    page.locator("#f_title").press_sequentially("what happens to a found c", delay=20)
    page.wait_for_selector("#suggestions >> text=What happens to a found cat?")
    accessible(page)
    # a booking
    page.goto(f"{base}/services/{portal.talk.pk}/")
    accessible(page)
    page.fill("#f_topic", "My pay")
    chosen = page.locator("#slot option").first.get_attribute("value")
    page.click("button:has-text('Book')")
    page.wait_for_url("**/portal/cases/*/")
    booked = portal.talk.bookings.get()
    assert booked.person == person and timezone.localtime(booked.starts_at).isoformat()[:16] == chosen[:16]
    assert "Your booking" in page.locator("main").inner_text()
    accessible(page)


def test_the_other_public_pages_pass_axe_and_fit_a_phone(live_server, page, portal, accessible):
    article = Article.objects.create(title="How do I leave?", body="Write to us.", language="en",
                                     state=Article.State.PUBLISHED)
    knowledge.index(article)
    for path in ("/login/", "/login/link/", "/help/", "/help/?q=leave", f"/help/{article.pk}/",
                 "/login/link/not-a-token/", "/services/confirm/not-a-token/"):
        page.goto(live_server.url + path)
        accessible(page)
    page.goto(live_server.url + "/login/link/")
    page.fill("#email", "someone@example.org")
    page.click("button:has-text('Send me a login link')")
    page.wait_for_selector("text=Check your email")
    accessible(page)
