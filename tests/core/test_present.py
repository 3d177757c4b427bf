"""The top bar: its menu kept in the fragments cache, the request's own values written each time."""

import re

import pytest


@pytest.mark.django_db
def test_the_top_bar_writes_each_requests_own_values_escaped(world):
    """The menu is kept per language and rights; the token, address, search text and name are each request's
    own, escaped, and the token is one the CSRF check accepts."""

    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.a.staff)
    world.a.staff.username = "<b>staff</b>"
    world.a.staff.save(update_fields=["username"])
    html = client.get("/people/?q=%3Ci%3EHansen").content.decode()
    bar = html[html.index('<header class="top">'):html.index("</header>")]
    assert 'value="&lt;i&gt;Hansen"' in bar and ">&lt;b&gt;staff&lt;/b&gt;</a>" in bar
    assert 'name="next" value="/people/?q=%3Ci%3EHansen"' in bar
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', bar).group(1)
    response = client.post("/i18n/setlang/", {"language": "sv", "next": "/people/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert '<html lang="sv">' in client.get("/people/").content.decode()


@pytest.mark.django_db
def test_the_languages_are_named_in_their_own_language_whatever_the_page_speaks(client, world):
    client.force_login(world.a.staff)
    for language in ("nb", "sv", "en"):
        client.cookies["django_language"] = language
        bar = client.get("/people/").content.decode()
        chooser = bar[bar.index('<select name="language"'):].split("</select>")[0]
        assert ">Norsk (bokmål)</option>" in chooser and ">Svenska</option>" in chooser
        assert ">English</option>" in chooser and "Engelsk" not in chooser and "Svensk<" not in chooser


def test_english_dates_are_day_first_on_the_24_hour_clock():
    import datetime

    from django.template.defaultfilters import date
    from django.utils import translation

    moment = datetime.datetime(2026, 12, 7, 16, 8)
    with translation.override("en"):
        assert date(moment, "SHORT_DATETIME_FORMAT") == "07/12/2026 16:08"
        assert date(moment.date(), "DATE_FORMAT") == "7 December 2026"
    with translation.override("nb"):
        assert date(moment, "SHORT_DATETIME_FORMAT") == "07.12.2026 16:08"
