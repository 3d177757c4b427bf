"""'With outstanding dues' is the member's own arrears: what they pay themselves and have not paid, with the amount,
never a payroll deduction the employer has not reported yet. The figure, its list and the message merge field
agree."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tillit.dues.ledger import own_arrears, refresh_accounts
from tillit.dues.models import LedgerEntry
from tillit.messaging.models import MessageTemplate
from tillit.reps import kpis

pytestmark = pytest.mark.django_db


def _entry(person, amount, *, method="", source="run", due_days_ago=None, kind="charge"):
    today = timezone.localdate()
    LedgerEntry.objects.create(person=person, kind=kind, amount=amount, method=method, source=source,
                               due_on=today - datetime.timedelta(days=due_days_ago) if due_days_ago else None)


@pytest.fixture
def owing(world):
    """Member 0 pays by deduction, not reported yet; member 1 owes an invoice of 400 kr; member 2 paid 150 of
    one."""
    (deducted, _m0), (invoiced, _m1), (partly, _m2) = world.a.members
    _entry(deducted, 40_000, method="deduction", due_days_ago=10)
    _entry(invoiced, 40_000, method="invoice", due_days_ago=10)
    _entry(partly, 40_000, method="invoice", due_days_ago=10)
    _entry(partly, -15_000, kind="payment", source="giro")
    _entry(invoiced, 40_000, method="invoice", due_days_ago=None)  # not yet due: not owed
    refresh_accounts([p.pk for p, _m in world.a.members])
    return world


def test_own_arrears_leave_out_what_the_employer_has_not_reported(owing):
    (deducted, _m0), (invoiced, _m1), (partly, _m2) = owing.a.members
    today = timezone.localdate()
    assert own_arrears([deducted.pk, invoiced.pk, partly.pk], today) == {invoiced.pk: 40_000, partly.pk: 25_000}
    assert kpis.live("employer", owing.a.workplace, today)["outstanding"] == 2
    kpis.recount([today])
    assert kpis.kept("employer", owing.a.workplace.pk, [today])[today]["outstanding"] == 2


def test_the_reps_list_shows_the_amount_and_a_message_can_name_it(client, owing):
    (_deducted, _m0), (invoiced, _m1), (partly, _m2) = owing.a.members
    client.force_login(owing.a.rep)
    page = client.get(reverse("reps_members"), {"kpi": "outstanding", "node": f"employer-{owing.a.workplace.pk}"})
    rows = {r["person_id"]: r["owed"] for r in page.context["rows"]}
    assert rows == {invoiced.pk: "400,00", partly.pk: "250,00"}
    assert page.context["total"] == 2
    MessageTemplate.objects.create(code="owed", language="en", subject="Dues", for_selection=True,
                                   body="You owe {{ amount_owed }} kr.")
    preview = client.post(reverse("compose_mailing") + f"?source=reps&kpi=outstanding&node=employer-"
                          f"{owing.a.workplace.pk}", {"channel": "email", "template": "owed", "action": "preview"})
    assert preview.context["preview"]["body"].startswith("You owe 400,00 kr.") or \
        preview.context["preview"]["body"].startswith("You owe 250,00 kr.")


def test_choosing_a_template_fills_empty_fields_and_never_replaces_what_was_typed(client, world):
    MessageTemplate.objects.create(code="meeting", language="en", subject="Annual meeting", for_selection=True,
                                   body="Welcome, {{ first_name }}.")
    client.force_login(world.a.rep)
    url = reverse("compose_mailing") + "?source=reps"
    typed = client.post(url, {"channel": "email", "template": "meeting", "subject": "Club night",
                              "body": "Pizza on Friday.", "action": "fill"})
    assert typed.context["data"]["subject"] == "Club night" and typed.context["data"]["body"] == "Pizza on Friday."
    assert "what you wrote is kept" in typed.content.decode()
    empty = client.post(url, {"channel": "email", "template": "meeting", "subject": "", "body": "", "action": "fill"})
    assert empty.context["data"]["subject"] == "Annual meeting"
    edited = client.post(url, {"channel": "email", "template": "meeting", "subject": "Annual meeting",
                               "body": "Welcome, {{ first_name }}. Bring a friend.", "action": "preview"})
    assert "Bring a friend." in edited.context["preview"]["body"]  # the edited text goes, not the template


def test_the_organisations_staff_see_coverage_for_their_units_and_the_national_staff_for_the_country(client, world):
    from tests import factories
    from tillit.core.services import grant_access

    national = factories.user()
    grant_access(national, "case_handler", "org", world.national, actor=None, channel="system")
    client.force_login(national)
    page = client.get(reverse("reps_coverage"))
    assert page.status_code == 200 and page.context["node"].obj == world.national
    assert reverse("reps_members") not in page.content.decode()  # no rep links for staff
    assert 'href="/reps/coverage/"' in client.get(reverse("home")).content.decode()  # in the staff menu
    client.force_login(world.b.staff)
    assert client.get(reverse("reps_coverage"), {"node": f"org-{world.b.region.pk}"}).status_code == 200
    assert client.get(reverse("reps_coverage"), {"node": f"org-{world.a.region.pk}"}).status_code == 404
    export = client.get(reverse("reps_coverage_export", args=["lacking", "csv"]), {"node": f"org-{world.b.region.pk}"})
    assert export.status_code == 200
