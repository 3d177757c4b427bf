import datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from tillit.core.models import Grant
from tillit.registry.identity import parse_national_id, parse_org_number
from tillit.registry.models import Employer, Membership, MembershipStatus, Person, Role

pytestmark = pytest.mark.django_db


def _fingerprint():
    return list(Person.objects.order_by("pk").values_list("first_name", "last_name", "national_id", "email",
                                                          "birth_date")[:100])


def test_the_same_seed_gives_the_same_people():
    with transaction.atomic():
        call_command("demo", members=120, seed=7)
        first = _fingerprint()
        transaction.set_rollback(True)
    call_command("demo", members=120, seed=7)
    assert first and _fingerprint() == first


def test_demo_data_covers_what_users_meet():
    call_command("demo", members=300, seed=7)
    assert set(Membership.objects.values_list("status", flat=True)) == set(MembershipStatus.values)
    for nid in Person.objects.exclude(national_id=None).values_list("national_id", flat=True)[:100]:
        assert parse_national_id(nid)[0] == nid
    for org in Employer.objects.filter(kind="company").values_list("org_number", flat=True):
        assert parse_org_number(org)[0] == org
    assert set(Person.objects.values_list("country", flat=True)) == {"NO", "SE"}
    today = datetime.date.today()
    reps = Role.objects.filter(role_type__code="workplace_rep")
    assert reps.current_on(today).exists()
    assert reps.filter(ends_on__lt=today).exists()  # workplaces that lost their rep
    assert Grant.objects.filter(user__username="rep", source__startswith="registry.role:").exists()
    assert Membership.objects.resigning_in_month(today.year, today.month).exists() or \
        Membership.objects.filter(status="resigning", ends_on__gt=today).exists()
    _routes_reach_a_demo_login()


def _routes_reach_a_demo_login():
    """Intake lands where the demo handler works; the municipality's services in its own departments, worked by its
    own handler; a member's booking goes to their branch."""
    from django.contrib.auth import get_user_model

    from tillit.cases.models import Case, CaseType
    from tillit.cases.services import open_case
    from tillit.portal.services import home_unit
    from tillit.registry.models import OrgUnit

    users = get_user_model().objects
    handler, municipal = users.get(username="handler"), users.get(username="kommun")
    intake = CaseType.objects.get(is_intake=True)
    assert intake.default_unit.name == "Medlemsservice"
    mail = open_case(intake, title="Et spørsmål på e-post", actor=None, channel="system", body="")
    assert Case.objects.visible_to(handler).filter(pk=mail.pk).exists()
    cats = CaseType.objects.get(name="Anmäl en hittekatt")
    assert cats.default_unit.name == "Miljö- och hälsoskyddsförvaltningen"
    assert OrgUnit.objects.get(path=cats.default_unit.path[:OrgUnit.steplen]).name == "Strömstads kommun"
    found = Case.objects.filter(case_type=cats)
    assert found.exists() and set(found.values_list("responsible_unit", flat=True)) == {cats.default_unit.pk}
    assert Case.objects.visible_to(municipal).filter(case_type=cats).count() == found.count()
    assert not Case.objects.visible_to(municipal).filter(case_type__name="Medlemsspørsmål").exists()
    legal = CaseType.objects.get(name="Juridisk bistand")
    member = Membership.objects.member_on(datetime.date.today()).filter(branch__country="NO").first().person
    assert home_unit(legal, member) == member.memberships.order_by("-joined_on").first().branch


def test_demo_data_goes_only_into_an_empty_registry():
    call_command("demo", members=20, seed=1)
    with pytest.raises(CommandError):
        call_command("demo", members=20, seed=1)
    call_command("demo", members=20, seed=1, if_empty=True)  # what `make run` does the second time
    assert Person.objects.count() == 21  # the members and the demo's citizen, once


def test_the_banks_demo_file_holds_at_most_a_files_worth_of_payments(monkeypatch):
    # A demo of a million members has more invoices than one OCR Giro file may hold (50 MB): the demo's bank
    # file stops at OCR_PAYMENTS, and the demo completes.
    from tillit.dues import demo
    from tillit.dues.models import GiroFile, Invoice, LedgerEntry

    monkeypatch.setattr(demo, "OCR_PAYMENTS", 5)
    call_command("demo", members=120, seed=7)
    assert Invoice.objects.count() > 6
    payments = LedgerEntry.objects.filter(source="giro")
    assert GiroFile.objects.count() == 1 and 1 <= payments.count() <= 5


def test_the_demo_logins_can_be_walked_through_with_their_authenticator(client, settings):
    import io

    settings.TILLIT_SECOND_FACTOR_ROLES = "grants"  # as shipped
    call_command("demo", members=20, seed=1, stdout=io.StringIO())
    out = io.StringIO()
    call_command("demo", code="handler", stdout=out, stderr=io.StringIO())
    response = client.post("/login/", {"username": "handler", "password": "tillit-demo"})
    assert response.url == "/login/factor/"
    assert client.post("/login/factor/", {"code": out.getvalue().strip()}).status_code == 302
    assert client.get("/account/").status_code == 200
    with pytest.raises(CommandError):  # only demo logins: a member has no demo authenticator
        call_command("demo", code="member", stdout=io.StringIO())
