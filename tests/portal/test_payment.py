"""The member's own page says how to pay what is open: each invoice's amount left, KID and due date, the account,
and where the dues are deducted from pay instead."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tillit.dues.models import DuesPolicy, Invoice, LedgerEntry
from tillit.registry.models import Employment
from tillit.registry.services import link_user

pytestmark = pytest.mark.django_db


def test_the_member_page_says_how_to_pay_what_is_open(client, world):
    DuesPolicy.objects.create(bank_account="15032012345")
    member, deducted = world.a.members[1][0], world.a.members[2][0]
    today = timezone.localdate()
    charge = LedgerEntry.objects.create(person=member, kind="charge", amount=45_000, method="invoice", source="run",
                                        due_on=today - datetime.timedelta(days=3))
    Invoice.objects.create(charge=charge, person=member, kid="1234567890128", amount=45_000, paid=10_000,
                           language="en", due_on=charge.due_on)
    login = factories.user()
    link_user(member, login, actor=None, channel="system")
    client.force_login(login)
    page = client.get(reverse("portal_me")).content.decode()
    assert "1234567890128" in page and "350,00" in page and "1503.20.12345" in page and "overdue" in page
    other = factories.user()
    link_user(deducted, other, actor=None, channel="system")
    Employment.objects.filter(person=deducted).update(payroll_deduction=True)
    LedgerEntry.objects.create(person=deducted, kind="charge", amount=45_000, method="deduction", source="run",
                               due_on=today)
    client.force_login(other)
    page = client.get(reverse("portal_me")).content.decode()
    assert "deducted from your pay at " + world.a.workplace.name in page and "1234567890128" not in page
