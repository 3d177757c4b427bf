"""A case handler's day in a real browser: the home page's overdue case opened, noted and taken with the
keyboard alone; the one search; the process in Swedish and English; a saved view; a bulk transfer; an import of
20,000 rows followed to its result; and the notification when a member answers."""

import datetime
import random

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests import factories
from tillit.cases import services as case_services
from tillit.cases.models import Case
from tillit.documents.text import extract_text
from tillit.registry.demo import norwegian_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, base, user):
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("form.narrow button")
    page.wait_for_load_state()


def test_a_handler_works_the_overdue_case_by_keyboard_finds_things_and_reads_the_process_in_their_language(
        live_server, page, world, accessible):
    base, staff = live_server.url, world.a.staff
    ctype = factories.case_type(world.a.branch, name="Lønnskrav")
    case_services.translate_case_type(ctype, {"type": {"sv": "Lönekrav", "en": "Wage claim"},
                                              "state:new": {"sv": "Inkommen", "en": "Received"},
                                              "transition:start": {"sv": "Påbörja", "en": "Begin work"}})
    late = factories.case(world.a, title="Forfalt lønn", case_type=ctype)  # about "ZqAlfamarker1 Alfasen"
    Case.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=3))
    doc = factories.document(world.a, content="Protokoll fra drøftingsmøte om nattarbeid".encode(), title="Protokoll")
    extract_text.call(doc.current_id)

    login(page, base, staff)
    assert page.url == f"{base}/"
    assert "Forfalt lønn" in page.locator("[data-home=overdue]").inner_text()
    accessible(page)
    # keyboard only: the skip link, into the content, the first case of the overdue list
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == late.number
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/cases/{late.pk}/")
    page.keyboard.press("n")  # to the note
    page.keyboard.type("Ringte medlemmet, venter på lønnsslipp.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("text=Ringte medlemmet, venter på lønnsslipp.")
    page.keyboard.press("a")  # assign to me
    page.wait_for_selector(f"dd[data-field=handler]:has-text('{staff.username}')")
    page.keyboard.press("?")
    assert page.locator("dialog#shortcuts").is_visible()
    page.keyboard.press("Escape")
    accessible(page)

    # one search: the case by the subject's misspelt name, the document by a word of its text
    page.fill("#global-search", "Aflasen")
    page.keyboard.press("Enter")
    assert late.number in page.locator("[data-kind=cases]").inner_text()
    page.fill("#global-search", "nattarbeid")
    page.keyboard.press("Enter")
    assert "Protokoll" in page.locator("[data-kind=documents]").inner_text()
    accessible(page)

    # the process in Swedish and in English
    for language, state, button, name in (("sv", "Inkommen", "Påbörja", "Lönekrav"),
                                          ("en", "Received", "Begin work", "Wage claim")):
        page.goto(f"{base}/cases/{late.pk}/")
        with page.expect_navigation():
            page.select_option("select[name=language]", language)
        assert page.locator("[data-field=state]").inner_text() == state
        assert page.locator(f"button:has-text('{button}')").count() == 1
        assert name in page.locator("aside").inner_text()


def test_a_handler_saves_a_view_moves_three_cases_at_once_and_hears_when_a_member_answers(
        live_server, page, world, browser, accessible):
    base, staff = live_server.url, world.a.staff
    ctype = factories.case_type(world.a.branch)
    cases = [factories.case(world.a, title=f"Flytt {i}", case_type=ctype) for i in range(3)]
    factories.case(world.a, title="Bli her", case_type=ctype)
    login(page, base, staff)
    page.goto(f"{base}/cases/?q=Flytt&sort=-number")  # a sorted column says so on its header cell
    assert page.locator("th[aria-sort=descending] a").count() == 1
    accessible(page, phone_width=False)
    page.goto(f"{base}/cases/?q=Flytt")
    assert page.locator("[data-total]").get_attribute("data-total") == "3"
    page.click("summary:has-text('Save this view')")
    page.fill(".save-view input[name=name]", "Flyttes")
    page.click(".save-view button:has-text('Save')")
    page.goto(f"{base}/cases/")
    page.click("a[data-view=Flyttes]")
    assert page.locator("[data-total]").get_attribute("data-total") == "3"
    for case in cases:
        page.check(f"input[name=case][value='{case.pk}']")
    page.select_option("#bulk-action", "transfer")
    page.select_option("#bulk select[name=unit]", str(world.a.region.pk))
    page.fill("#bulk input[name=reason]", "Regionen tar disse")
    page.click("#bulk button:has-text('Apply')")
    page.wait_for_selector("text=Done for 3 cases")
    for case in cases:
        page.goto(f"{base}/cases/{case.pk}/")
        assert "Regionen tar disse" in page.locator("ol.case-timeline").inner_text()

    # a member answers on the handler's case in their portal: the handler's header counts it
    member_user = factories.user("member_alfa1", email=world.a.members[1][0].email)
    from tillit.registry import services as registry_services

    registry_services.link_user(world.a.members[1][0], member_user, actor=None, channel="system")
    mine = factories.case(world.a, title="Spørsmål om forsikring", case_type=ctype)
    case_services.assign_case(mine, staff, actor=staff)
    member = browser.new_context(locale="en-GB").new_page()
    login(member, base, member_user)
    member.goto(f"{base}/portal/cases/{mine.pk}/")
    member.fill("textarea[name=body]", "Her er polisenummeret.")
    member.click("button:has-text('Send')")
    member.wait_for_selector("text=Her er polisenummeret.")
    member.context.close()
    page.goto(f"{base}/")
    assert page.locator(".notifications-link .count").inner_text() == "1"
    assert "Spørsmål om forsikring" in page.locator("[data-home=answered]").inner_text()
    page.click(".notifications-link")
    assert "an answer on my case" in page.locator("ul.notifications").inner_text()
    page.click(f"ul.notifications a:has-text('{mine.number}')")
    page.goto(f"{base}/")
    assert page.locator(".notifications-link .count").count() == 0  # opening the case read it


def test_an_import_of_20000_rows_shows_its_progress_and_its_result(live_server, page, world, tmp_path):
    base = live_server.url
    path = tmp_path / "members.csv"
    branch = world.a.branch.pk
    lines = ["first_name,last_name,national_id,email,membership_type,branch,joined_on"]
    first, rng = datetime.date(1940, 1, 1), random.Random(20_000)
    for i in range(20_000):  # a birth date each: the national ids differ
        nid = norwegian_id(rng, first + datetime.timedelta(days=i))
        lines.append(f"Imp{i},Importsen,{nid},imp{i}@example.no,ordinary,{branch},2024-01-01")
    lines.append("Uten,,,,ordinary,,2024-01-01")  # one bad row: no last name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    login(page, base, world.a.staff)
    page.goto(f"{base}/imports/")
    page.set_input_files("input[type=file]", str(path))
    page.check("input[name=skip_invalid]")
    page.click("form.form button:has-text('Import')")
    page.wait_for_selector("#job-progress[data-status=queued]")
    assert page.locator("#job-progress progress").count() == 1
    call_command("worker", batch=True, interval=0.1, no_schedule=True)  # the worker takes the job
    page.wait_for_selector("#job-progress[data-status=done]", timeout=30000)  # the page follows by itself
    result = page.locator("[data-result=import]")
    assert result.locator("[data-created]").get_attribute("data-created") == "20000"
    assert "1 rows were not imported" in result.inner_text() or "1 row" in result.inner_text()
    with page.expect_download() as download:
        page.click("text=Download the rejected rows")
    assert "Uten" in open(download.value.path(), encoding="utf-8").read()


@pytest.mark.parametrize("who", ["admin", "staff"])
def test_the_top_bar_fits_a_wide_screen_and_a_phone_and_marks_where_one_is(live_server, page, world, who,
                                                                           accessible):
    """The system owner's menu (every group) and a case handler's fit 1,280 px and 360 px without scrolling
    sideways; each group opens to links that lead to pages; the current page's item and group are marked."""
    user = world.admin if who == "admin" else world.a.staff
    user.set_password(factories.PASSWORD)
    user.save()
    base = live_server.url
    login(page, base, user)
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 800})
        for path in ("/", "/cases/", "/people/", "/account/"):
            page.goto(f"{base}{path}")
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            assert wide <= width, f"{path} at {width} px is {wide} px wide"
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{base}/people/")
    groups = page.locator("details.menu-group")
    assert groups.count() >= (4 if who == "admin" else 3)
    assert page.locator("nav.menu a[aria-current=page]").text_content() == "People"
    assert page.locator("details.menu-group.current > summary").inner_text() == "People"
    for i in range(groups.count()):
        groups.nth(i).locator("summary").click()
        links = groups.nth(i).locator("a")
        assert links.count() >= 1 and links.first.is_visible()
        box = groups.nth(i).locator("div").bounding_box()
        assert box["x"] + box["width"] <= 1280
    accessible(page)
    page.locator("details.menu-group").first.locator("summary").click()
    page.locator("details.menu-group").first.locator("a").first.click()
    page.wait_for_load_state()
    assert page.locator("nav.menu a[aria-current=page]").count() == 1
