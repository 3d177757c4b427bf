import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tillit.core.models import AccessLogEntry, AuditEntry
from tillit.registry.models import Person

pytestmark = pytest.mark.django_db


def _form(person, **changes):
    data = {"first_name": person.first_name, "last_name": person.last_name, "email": person.email,
            "phone": person.phone, "country": person.country, "preferred_language": person.preferred_language,
            "birth_date": person.birth_date.isoformat() if person.birth_date else "",
            "national_id": person.national_id or "", "version": person.version}
    return data | changes


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client, world):
    wrong = client.post(reverse("login"), {"username": world.a.staff.username, "password": "nope-nope-nope"})
    unknown = client.post(reverse("login"), {"username": "nobody-here", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 200
    marker = "Wrong username or password"
    assert marker in wrong.content.decode() and marker in unknown.content.decode()


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, world, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": world.a.staff.username, "password": "wrong-password!"})
    response = client.post(reverse("login"), {"username": world.a.staff.username,
                                              "password": factories.PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Wrong username or password" in response.content.decode()


def test_viewing_a_person_is_in_the_access_log_but_looking_at_yourself_is_not(client, world):
    person = world.a.members[1][0]
    client.force_login(world.a.staff)
    assert client.get(reverse("person", args=[person.pk])).status_code == 200
    assert AccessLogEntry.objects.filter(user=world.a.staff, person_id=person.pk, action="person.view").count() == 1
    client.force_login(world.a.rep)
    client.get(reverse("person", args=[world.a.rep_person.pk]))
    assert not AccessLogEntry.objects.filter(user=world.a.rep, person_id=world.a.rep_person.pk).exists()


def test_the_national_id_is_masked_for_a_rep_and_shown_to_a_case_handler(client, world):
    person = world.a.members[1][0]
    client.force_login(world.a.rep)
    body = client.get(reverse("person", args=[person.pk])).content.decode()
    assert person.national_id not in body and person.national_id[:6] + "*****" in body
    client.force_login(world.a.staff)
    assert person.national_id in client.get(reverse("person", args=[person.pk])).content.decode()


def test_a_bad_field_is_shown_beside_the_field_and_nothing_is_saved(client, world):
    person = world.a.members[1][0]
    client.force_login(world.a.staff)
    response = client.post(reverse("person_edit", args=[person.pk]), _form(person, phone="12", city="Oslo"))
    body = response.content.decode()
    assert response.status_code == 200 and 'id="phone-error"' in body
    person.refresh_from_db()
    assert person.city == ""


def test_an_edit_based_on_an_old_version_is_refused_and_the_newer_edit_kept(client, world):
    person = world.a.members[1][0]
    client.force_login(world.a.staff)
    first = client.post(reverse("person_edit", args=[person.pk]), _form(person, city="Hamar"))
    assert first.status_code == 302
    second = client.post(reverse("person_edit", args=[person.pk]), _form(person, city="Gjøvik"))
    assert second.status_code == 200 and "Someone else changed" in second.content.decode()
    person.refresh_from_db()
    assert person.city == "Hamar"


def test_a_rep_edits_nothing_on_the_staff_pages_of_their_own_members(client, world):
    """A rep's rights on a member are the corrections of the reps' portal: the staff person page offers no edit, and
    posting to the staff forms changes nothing (name, membership, employment, a role that gives access)."""
    person = world.a.members[1][0]
    client.force_login(world.a.rep)
    page = client.get(reverse("person", args=[person.pk]))
    assert page.status_code == 200 and reverse("person_edit", args=[person.pk]) not in page.content.decode()
    assert client.post(reverse("person_edit", args=[person.pk]), _form(person, last_name="Changed")).status_code == 404
    for name in ("membership_new", "employment_new", "role_new"):
        assert client.post(reverse(name, args=[person.pk]), {}).status_code == 404
    person.refresh_from_db()
    assert person.last_name != "Changed"
    assert not AuditEntry.objects.filter(person_id=person.pk, actor=world.a.rep).exists()
    client.force_login(world.a.staff)  # member service, the insider
    client.post(reverse("person_edit", args=[person.pk]), _form(person, city="Lillehammer"))
    entry = AuditEntry.objects.filter(object_id=person.pk, action="registry.person.changed").latest("id")
    assert entry.channel == "ui" and entry.changes["city"] == ["", "Lillehammer"] and entry.actor == world.a.staff


def test_registering_a_likely_duplicate_shows_the_match_and_can_be_overridden(client, world):
    existing = world.a.members[1][0]
    client.force_login(world.a.staff)
    data = {"first_name": "Ny", "last_name": "Person", "email": existing.email, "country": "NO",
            "preferred_language": "nb"}
    response = client.post(reverse("person_new"), data)
    assert response.status_code == 200 and reverse("person", args=[existing.pk]) in response.content.decode()
    response = client.post(reverse("person_new"), data | {"allow_duplicate": "on"})
    assert response.status_code == 302 and Person.objects.filter(last_name="Person").exists()


def test_the_people_list_takes_a_fixed_number_of_queries(client, world):
    client.force_login(world.admin)
    client.get(reverse("people"))  # what every page reads and keeps (the user, the unit list) is kept now
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("people"))
    for _ in range(10):
        factories.member(world.a.branch)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("people"))
    assert len(many) == len(few) <= 12


def test_search_finds_a_name_with_a_typo_and_a_member_number(client, world):
    person, membership = world.a.members[1]
    client.force_login(world.a.staff)
    typo = person.last_name[0] + person.last_name[2] + person.last_name[1] + person.last_name[3:]
    assert person.first_name in client.get(reverse("people"), {"q": typo}).content.decode()
    body = client.get(reverse("people"), {"q": membership.member_number}).content.decode()
    assert person.first_name in body


def test_an_export_is_in_the_access_log_with_its_size(client, world):
    client.force_login(world.a.staff)
    response = client.get(reverse("people_export", args=["csv"]), {"status": "active"})
    body = b"".join(response.streaming_content).decode()
    assert world.a.members[0][0].email in body
    entry = AccessLogEntry.objects.get(action="people.export")
    assert entry.detail["count"] == 3 and entry.detail["filters"] == {"status": "active"}
    shown = AccessLogEntry.objects.filter(action="person.export", user=world.a.staff)
    assert sorted(shown.values_list("person_id", flat=True)) == sorted(p.pk for p, _m in world.a.members)


def test_every_person_on_a_list_or_search_page_is_in_the_access_log_once(client, world):
    client.force_login(world.a.staff)
    client.get(reverse("people"))
    listed = AccessLogEntry.objects.filter(action="person.list", user=world.a.staff, channel="ui")
    assert sorted(listed.values_list("person_id", flat=True)) == sorted(p.pk for p, _m in world.a.members)
    person = world.a.members[1][0]
    client.get(reverse("people"), {"q": person.last_name})
    found = AccessLogEntry.objects.filter(action="person.search", user=world.a.staff)
    assert person.pk in found.values_list("person_id", flat=True)
    assert not AccessLogEntry.objects.filter(person_id__in=[p.pk for p, _m in world.b.members]).exists()


def test_a_rep_looking_at_the_list_is_not_logged_viewing_themselves(client, world):
    client.force_login(world.a.rep)
    client.get(reverse("people"))
    logged = set(AccessLogEntry.objects.filter(user=world.a.rep).values_list("person_id", flat=True))
    assert world.a.rep_person.pk not in logged and world.a.members[1][0].pk in logged


def test_the_import_page_lists_the_rows_at_fault(client, world):
    client.force_login(world.a.staff)
    upload = SimpleUploadedFile("p.csv", b"first_name,last_name,birth_date\nA,B,1990-02-30\n")
    response = client.post(reverse("import_upload"), {"file": upload})
    from tillit.core.models import Job
    from tillit.registry.importer import import_task

    import_task.call(Job.objects.get().pk)  # what the worker runs
    body = client.get(response.url).content.decode()
    assert "1990-02-30" in body and "birth_date" in body and not Person.objects.filter(first_name="A").exists()


def test_the_tree_pages_count_members_per_node(client, world):
    client.force_login(world.admin)
    response = client.get(reverse("org_unit", args=[world.national.pk]))
    counts = {n.pk: c for n, c in response.context["rows"]}
    assert counts == {world.a.region.pk: 3, world.b.region.pk: 3}


def test_the_ui_speaks_swedish_after_switching(client, world):
    client.force_login(world.admin)
    client.post(reverse("set_language"), {"language": "sv", "next": "/people/"})
    body = client.get(reverse("people")).content.decode()
    assert 'lang="sv"' in body and "Personer" in body
    client.post(reverse("set_language"), {"language": "nb", "next": "/people/"})
    assert "Personer" in client.get(reverse("people")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/people/"})
    assert "People" in client.get(reverse("people")).content.decode()


def test_production_settings_hash_with_argon2_and_keep_sqlite_durable():
    import importlib

    import tillit.settings as production

    importlib.reload(production)
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert cursor.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_dates_follow_the_language(client, world):
    import datetime

    from tillit.registry.services import update_person

    person = world.a.members[1][0]
    update_person(person, {"birth_date": datetime.date(1985, 6, 15), "national_id": ""}, actor=world.admin)
    client.force_login(world.admin)
    client.post(reverse("set_language"), {"language": "nb", "next": "/"})
    assert "15.06.1985" in client.get(reverse("person", args=[person.pk])).content.decode()
    client.post(reverse("set_language"), {"language": "sv", "next": "/"})
    assert "1985-06-15" in client.get(reverse("person", args=[person.pk])).content.decode()


def test_a_rare_status_lists_exactly_those_members_in_name_order_within_scope(client, world):
    import datetime as _dt

    from tillit.registry.models import MembershipStatus
    from tillit.registry.services import change_membership_status

    today = _dt.date.today()
    chosen = [world.a.members[1], world.a.members[2], world.b.members[2]]
    for _person, membership in chosen:
        change_membership_status(membership, MembershipStatus.RESIGNING, on=today, actor=None,
                                 ends_on=today + _dt.timedelta(days=30))
    client.force_login(world.a.staff)
    response = client.get("/people/?status=resigning")
    assert response.status_code == 200
    html = response.content.decode()
    mine = sorted((p for p, _m in chosen[:2]), key=lambda p: (p.last_name, p.first_name, p.pk))
    positions = [html.find(f"/people/{p.pk}/") for p in mine]
    assert all(pos > 0 for pos in positions) and positions == sorted(positions)
    assert f"/people/{chosen[2][0].pk}/" not in html  # B's member, resigning too, is out of A's scope
    assert f"/people/{world.a.members[0][0].pk}/" not in html  # an active member is not listed
