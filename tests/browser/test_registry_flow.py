import pytest

from tests import factories
from tillit.core.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_search_edit_and_see_the_change_in_the_history(live_server, page, world):
    person = world.a.members[1][0]
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", world.a.staff.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.narrow button")
    page.wait_for_url(f"{live_server.url}/")

    typo = person.last_name[0] + person.last_name[2] + person.last_name[1] + person.last_name[3:]
    page.fill("header input[name=q]", typo)
    page.press("header input[name=q]", "Enter")
    page.click(f"text={person.last_name}, {person.first_name}")
    page.wait_for_url(f"{live_server.url}/people/{person.pk}/")

    page.click("a.button:has-text('Edit')")
    page.fill("input[name=phone]", "12")
    page.click("form.form button")
    assert page.locator("#phone-error").is_visible()

    page.fill("input[name=phone]", "+47 912 34 567")
    page.fill("input[name=city]", "Trondheim")
    page.click("form.form button")
    page.wait_for_url(f"{live_server.url}/people/{person.pk}/")
    history = page.locator("table.audit")
    assert "Person: changed" in history.inner_text()  # the audit code in words
    assert "Trondheim" in history.inner_text() and world.a.staff.username in history.inner_text()
    entry = AuditEntry.objects.filter(object_id=person.pk, action="registry.person.changed").latest("id")
    assert entry.changes["phone"] == ["", "+4791234567"] and entry.channel == "ui"


def test_an_unknown_user_and_a_wrong_password_look_the_same_in_the_browser(live_server, page, world):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "nobody")
    page.fill("input[name=password]", "whatever-it-is")
    page.click("form.narrow button")
    unknown = page.locator("p.error").inner_text()
    page.fill("input[name=username]", world.a.staff.username)
    page.fill("input[name=password]", "whatever-it-is")
    page.click("form.narrow button")
    assert page.locator("p.error").inner_text() == unknown


def test_the_language_switch_changes_the_whole_page(live_server, page, world):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", world.a.staff.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.narrow button")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/people/")
    with page.expect_navigation():
        page.select_option("form.lang select", "sv")
    assert page.locator("h1").inner_text() == "Personer"
    assert page.locator("html").get_attribute("lang") == "sv"
    with page.expect_navigation():
        page.select_option("form.lang select", "nb")
    assert "Registrer en person" in page.content()
