import hashlib

import pytest

from tests import factories
from tests.browser.test_case_flow import login
from tillit.core.services import grant_access
from tillit.documents.models import Document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _download_sha(page, selector) -> str:
    with page.expect_download() as info:
        page.click(selector)
    path = info.value.path()
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_check_out_lock_refusal_check_in_and_both_versions_downloaded(live_server, page, world, settings):
    settings.TILLIT_PUBLIC_URL = live_server.url  # share links are made for the public address
    first_user = world.a.staff
    second_user = factories.user("second_handler")
    grant_access(second_user, "case_handler", "org", world.a.region, actor=None, channel="system")
    member = world.a.members[1][0]

    login(page, live_server, first_user)
    page.goto(f"{live_server.url}/people/{member.pk}/")
    page.click("section.documents-panel >> text=Add a document")
    page.set_input_files("input[name=file]", files=[{"name": "Arbeidsavtale.txt", "mimeType": "text/plain",
                                                     "buffer": b"Arbeidsavtale, utkast 1"}])
    page.fill("input[name=title]", "Arbeidsavtale")
    page.click("form.form button:has-text('Save')")
    page.wait_for_url(f"{live_server.url}/documents/*/")
    document = Document.objects.get(title="Arbeidsavtale")
    assert list(document.persons.all()) == [member]
    page.click("button[name=checkout]")
    assert f"Checked out by {first_user.username}" in page.locator("dd[data-field=lock]").inner_text()

    login(page, live_server, second_user)
    page.goto(f"{live_server.url}/documents/{document.pk}/")
    assert f"Checked out by {first_user.username}" in page.locator("dd[data-field=lock]").inner_text()
    assert page.locator("button[name=checkout]").count() == 0
    page.set_input_files("#upload input[name=file]", files=[{"name": "Arbeidsavtale.txt", "mimeType": "text/plain",
                                                             "buffer": b"Mine changes"}])
    page.click("button[name=upload]")
    assert "only they can add a new version" in page.locator("p.flash.error").inner_text()
    assert page.locator("table.versions tbody tr").count() == 1

    login(page, live_server, first_user)
    page.goto(f"{live_server.url}/documents/{document.pk}/")
    page.set_input_files("#checkin input[name=file]", files=[{"name": "Arbeidsavtale.txt", "mimeType": "text/plain",
                                                              "buffer": b"Arbeidsavtale, signert"}])
    page.fill("#checkin input[name=comment]", "Signert av begge")
    page.click("button[name=checkin]")
    assert page.locator("dd[data-field=lock]").inner_text() == "Not checked out"
    assert page.locator("table.versions tbody tr").count() == 2

    login(page, live_server, second_user)
    page.goto(f"{live_server.url}/documents/{document.pk}/")
    for number, content in [(2, "Arbeidsavtale, signert"), (1, "Arbeidsavtale, utkast 1")]:
        row = f"tr[data-version='{number}']"
        shown = page.locator(f"{row} code.sha").inner_text()
        assert shown == hashlib.sha256(content.encode()).hexdigest()
        assert _download_sha(page, f"{row} a") == shown

    # An external link for one download: it works once, then says it is used up.
    page.fill("#share input[name=max_downloads]", "1")
    page.click("button[name=share]")
    assert page.url.endswith("#share")  # back where it was made
    link = page.locator("input.new-link").input_value()
    assert link.startswith(live_server.url + "/shared/")  # the configured public address
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("button[data-copy]")
    page.wait_for_selector("button[data-copy]:has-text('Copied')")
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    with page.expect_download() as info:
        page.evaluate("url => { const a = document.createElement('a'); a.href = url; a.click(); }", link)
    assert open(info.value.path(), "rb").read() == b"Arbeidsavtale, signert"
    page.goto(link)
    assert "used as many times as it allows" in page.content()
