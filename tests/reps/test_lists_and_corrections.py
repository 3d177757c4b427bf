"""The rep's member list filters, saved filters and the coverage lists; corrections applied at once or approved
by member service, never over a newer change; the term-end reminder once per term."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tillit.core.models import AuditEntry
from tillit.registry.models import Employment
from tillit.registry.services import update_employment
from tillit.reps import coverage, kpis
from tillit.reps.models import Correction, SavedFilter, TermReminder

pytestmark = pytest.mark.django_db


def _names(response):
    return {r["name"] for r in response.context["rows"]}


def test_filters_narrow_the_list_by_the_rule_and_a_bad_filter_names_its_field(client, world):
    side = world.a
    client.force_login(side.rep)
    everyone = client.get(reverse("reps_members"))
    assert everyone.context["total"] == 3
    person, _m = side.members[1]
    Employment.objects.filter(person=person).update(percentage=50)
    half = client.get(reverse("reps_members") + "?pct_max=60")
    assert _names(half) == {f"{person.last_name}, {person.first_name}"}
    resigning = client.get(reverse("reps_members") + "?status=resigning")
    assert resigning.status_code == 200 and resigning.context["total"] == 0
    assert client.get(reverse("reps_members") + f"?workplace={side.workplace.name[:5]}").context["total"] == 3
    assert client.get(reverse("reps_members") + "?workplace=no-such-place").context["total"] == 0
    descending = client.get(reverse("reps_members") + "?sort=-name").context["rows"]
    assert [r["name"] for r in descending] == sorted((r["name"] for r in descending), reverse=True)
    for bad, field in [("pct_min=abc", "pct_min"), ("age=7-8", "age"), ("sort=evil", "sort"),
                       ("status=gone", "status"), ("pct_min=80&pct_max=20", "pct_max")]:
        response = client.get(reverse("reps_members") + "?" + bad)
        assert response.status_code == 400, bad
        assert field in response.content.decode(), bad
        assert client.get(reverse("reps_members_export", args=["csv"]) + "?" + bad).status_code == 400


def test_age_bands_count_birthdays_exactly(client, world):
    side = world.a
    today = timezone.localdate()
    young, old = side.members[1][0], side.members[2][0]
    young.birth_date = today.replace(year=today.year - 30)  # 30 today
    old.birth_date = today.replace(year=today.year - 30) + datetime.timedelta(days=1)  # 29 until tomorrow
    young.save(update_fields=["birth_date"])
    old.save(update_fields=["birth_date"])
    client.force_login(side.rep)
    assert _names(client.get(reverse("reps_members") + "?age=30-39")) == {f"{young.last_name}, {young.first_name}"}
    assert _names(client.get(reverse("reps_members") + "?age=-29")) == {f"{old.last_name}, {old.first_name}"}


def test_a_saved_filter_comes_back_for_its_owner_only(client, world):
    client.force_login(world.a.rep)
    response = client.post(reverse("reps_save_filter") + "?pct_max=60&sort=-name", {"name": "Part-time"})
    saved = SavedFilter.objects.get(user=world.a.rep)
    assert response.status_code == 302 and saved.query["pct_max"] == "60.00" and saved.query["sort"] == "-name"
    page = client.get(reverse("reps_members"))
    assert "Part-time" in page.content.decode()
    assert client.post(reverse("reps_save_filter"), {"name": ""}).status_code == 302
    assert SavedFilter.objects.count() == 1
    client.force_login(world.b.rep)
    assert client.post(reverse("reps_delete_filter", args=[saved.pk])).status_code == 404
    assert "Part-time" not in client.get(reverse("reps_members")).content.decode()
    client.force_login(world.a.rep)
    assert client.post(reverse("reps_delete_filter", args=[saved.pk])).status_code == 302
    assert not SavedFilter.objects.exists()


def _form(person, job, **changes):
    data = {"version": person.version, "phone": person.phone, "email": person.email,
            f"employment-{job.pk}-version": job.version, f"employment-{job.pk}-workplace": job.workplace_id,
            f"employment-{job.pk}-position": job.position, f"employment-{job.pk}-percentage": str(job.percentage),
            f"employment-{job.pk}-ends_on": job.ends_on.isoformat() if job.ends_on else ""}
    for key, value in changes.items():
        data[key if key in ("phone", "email") else f"employment-{job.pk}-{key}"] = value
    return data


def test_a_correction_applies_at_once_or_waits_for_member_service(client, world, settings):
    settings.TILLIT_REP_APPROVAL_FIELDS = ["percentage"]
    side = world.a
    person, _m = side.members[1]
    job = Employment.objects.get(person=person)
    url = reverse("reps_correct", args=[person.pk])
    client.force_login(side.rep)
    response = client.post(url, _form(person, job, phone="+4791234567", percentage="60", position="Welder"))
    assert response.status_code == 302
    person.refresh_from_db()
    job.refresh_from_db()
    assert person.phone == "+4791234567" and job.position == "Welder" and job.percentage == 100
    changed = AuditEntry.objects.filter(person_id=person.pk, action="registry.person.changed").latest("pk")
    assert changed.channel == "rep" and changed.actor == side.rep
    waiting = Correction.objects.get(person=person)
    assert waiting.field == "percentage" and waiting.state == Correction.State.PENDING
    # the same field again while one waits: refused, nothing changed
    again = client.post(url, _form(person, job, percentage="70"))
    assert again.status_code == 409 and Correction.objects.count() == 1
    # a rep cannot approve; member service sees it and approves
    assert client.get(reverse("correction_queue")).status_code == 404
    client.force_login(side.staff)
    queue = client.get(reverse("correction_queue"))
    assert waiting in list(queue.context["waiting"])
    client.force_login(world.b.staff)
    assert waiting not in list(client.get(reverse("correction_queue")).context["waiting"])
    assert client.post(reverse("correction_queue"), {"correction": waiting.pk, "decision": "approve"}
                       ).status_code == 404
    client.force_login(side.staff)
    client.post(reverse("correction_queue"), {"correction": waiting.pk, "decision": "approve"})
    job.refresh_from_db()
    waiting.refresh_from_db()
    assert job.percentage == 60 and waiting.state == Correction.State.APPROVED and waiting.decided_by == side.staff
    entry = AuditEntry.objects.filter(person_id=person.pk, action="registry.employment.changed").latest("pk")
    assert entry.channel == "rep" and entry.actor == side.rep and "percentage" in entry.changes
    assert AuditEntry.objects.filter(action="reps.correction.approved", actor=side.staff).exists()
    client.force_login(side.rep)
    assert "approved" in client.get(reverse("reps_corrections")).content.decode()
    Employment.objects.filter(person=person).update(ends_on=datetime.date(2021, 1, 1))  # no longer in the rep's sight
    assert person.last_name + ", " + person.first_name not in client.get(reverse("reps_corrections")).content.decode()


def test_an_approval_never_overwrites_a_newer_change_and_a_rejection_needs_a_reason(client, world, settings):
    settings.TILLIT_REP_APPROVAL_FIELDS = ["percentage", "workplace"]
    side = world.a
    person, _m = side.members[2]
    job = Employment.objects.get(person=person)
    client.force_login(side.rep)
    client.post(reverse("reps_correct", args=[person.pk]), _form(person, job, percentage="40"))
    waiting = Correction.objects.get(person=person)
    update_employment(job, {"position": "Foreman"}, actor=side.staff)  # someone else, meanwhile
    client.force_login(side.staff)
    response = client.post(reverse("correction_queue"), {"correction": waiting.pk, "decision": "approve"})
    assert response.status_code == 409
    job.refresh_from_db()
    waiting.refresh_from_db()
    assert job.percentage == 100 and job.position == "Foreman" and waiting.state == Correction.State.PENDING
    assert client.post(reverse("correction_queue"), {"correction": waiting.pk, "decision": "reject"}
                       ).status_code == 422
    client.post(reverse("correction_queue"), {"correction": waiting.pk, "decision": "reject",
                                              "reason": "Changed since; ask again"})
    waiting.refresh_from_db()
    assert waiting.state == Correction.State.REJECTED and waiting.reason == "Changed since; ask again"
    # a workplace outside the rep's node is refused by field name; a stale version is a conflict
    client.force_login(side.rep)
    outside = client.post(reverse("reps_correct", args=[person.pk]), _form(person, job,
                                                                             workplace=world.b.workplace.pk))
    assert outside.status_code == 422 and f"employment-{job.pk}-workplace" in outside.content.decode()
    stale = _form(person, job, position="Boss")
    stale[f"employment-{job.pk}-version"] = job.version - 1
    assert client.post(reverse("reps_correct", args=[person.pk]), stale).status_code == 409
    job.refresh_from_db()
    assert job.position == "Foreman"
    # another workplace's member cannot be corrected at all
    assert client.get(reverse("reps_correct", args=[world.b.members[1][0].pk])).status_code == 404


def test_coverage_lists_entitlement_and_exports(client, world, settings):
    side = world.a
    kpis.recount()
    settings.TILLIT_REP_MINIMUM_MEMBERS = 2
    assert coverage.entitled(3, coverage.bands()) == 1 and coverage.entitled(30, coverage.bands()) == 3
    client.force_login(side.rep)
    page = client.get(reverse("reps_coverage"))
    gap = {r["e"].pk: r for r in page.context["entitlement"]}
    assert side.workplace.pk not in gap  # three members may elect one rep, and it has one
    for which in ("lacking", "lost", "ending", "entitlement"):
        response = client.get(reverse("reps_coverage_export", args=[which, "csv"]))
        assert response.status_code == 200
        assert list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))[0]
    assert client.get(reverse("reps_coverage_export", args=["nothing", "csv"])).status_code == 404
    client.force_login(world.admin)
    response = client.post(reverse("reps_entitlement"), {"min_members": ["1", "3", ""], "reps": ["1", "2", ""]})
    assert response.status_code == 302 and coverage.bands() == [(1, 1), (3, 2)]
    bad = client.post(reverse("reps_entitlement"), {"min_members": ["1", "x"], "reps": ["1", "2"]})
    assert bad.status_code == 422 and "row 2" in bad.content.decode() and coverage.bands() == [(1, 1), (3, 2)]
    client.force_login(side.rep)
    gap = {r["e"].pk: r for r in client.get(reverse("reps_coverage")).context["entitlement"]}
    assert gap[side.workplace.pk]["entitled"] == 2 and gap[side.workplace.pk]["gap"] == 1
    assert client.get(reverse("reps_entitlement")).status_code == 404


def test_a_term_ending_soon_opens_one_case_for_the_regional_office(world):
    from tillit.cases.models import Case
    from tillit.registry.models import Role

    factories.case_type(world.a.region, name="Intake", is_intake=True)
    role = Role.objects.get(person=world.a.rep_person)
    role.ends_on = timezone.localdate() + datetime.timedelta(days=30)
    role.save(update_fields=["ends_on"])
    assert coverage.remind_terms() == 1
    assert coverage.remind_terms() == 0
    reminder = TermReminder.objects.get(role=role)
    case = Case.objects.get(pk=reminder.case_id)
    assert case.responsible_unit == world.a.region and world.a.rep_person in case.subjects.all()


def test_a_list_that_is_one_figure_takes_its_total_from_todays_count(client, world):
    from django.utils import timezone

    from tillit.registry.models import Membership
    from tillit.reps import kpis

    kpis.recount([timezone.localdate()])
    client.force_login(world.a.rep)
    node = f"employer-{world.a.workplace.pk}"
    Membership.objects.filter(person=world.a.members[2][0]).update(ends_on=timezone.localdate().replace(year=2000))
    kept = client.get(reverse("reps_members"), {"node": node})
    assert kept.context["total"] == 3 and kept.context["exact"] and kept.context["counted"]  # as counted today
    assert len(kept.context["rows"]) == 2  # the rows are live; the page says when the figure was counted
    assert "as counted today" in kept.content.decode()
    filtered = client.get(reverse("reps_members"), {"node": node, "status": "active"})
    assert filtered.context["total"] == 2 and filtered.context["counted"] is None  # a filter: counted now
