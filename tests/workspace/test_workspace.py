"""The staff workspace: the one search (in scope, typo-tolerant), notifications, bulk actions, saved views,
configured texts per language, the home page and imports in the background."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from tests import factories
from tillit.cases import services as case_services
from tillit.cases.bulk import apply
from tillit.cases.models import Case, CaseEvent
from tillit.core.errors import InvalidInput
from tillit.core.models import AuditEntry, Job, Notification
from tillit.core.services import create_token
from tillit.messaging.models import Message
from tillit.messaging.notifications import email_round
from tillit.registry.models import SavedView
from tillit.workspace.search import search_all

pytestmark = pytest.mark.django_db


def _titles(results, kind):
    return [h.title for h in results.get(kind, [])]


def test_the_search_finds_a_case_by_a_misspelt_name_and_a_document_by_a_word_and_nothing_out_of_scope(world):
    from tillit.documents.text import extract_text

    mine = factories.case(world.a, title="Lønn mangler")  # about world.a.members[1]: "ZqAlfamarker1 Alfasen"
    theirs = factories.case(world.b, title="Lønn mangler også")
    for side, title in ((world.a, "Referat A"), (world.b, "Referat B")):
        doc = factories.document(side, content=b"Referat fra forhandlingsmotet om turnus", title=title)
        assert extract_text.call(doc.current_id) == "done"  # the worker reads the file's text
    staff = world.a.staff
    by_name = search_all(staff, "Aflasen")  # two letters swapped
    assert f"{mine.number} {mine.title}" in _titles(by_name, "cases")
    assert not [t for t in _titles(by_name, "cases") if theirs.number in t]
    docs = search_all(staff, "forhandlingsmotet")
    assert _titles(docs, "documents") == ["Referat A"]
    case_services.add_note(mine, "Ringte arbeidsgiver om 100% stilling_ og nattillegg", actor=staff)
    case_services.add_note(theirs, "Beta ringte om nattillegg", actor=world.b.staff)
    assert _titles(search_all(staff, "nattillegg"), "cases") == [f"{mine.number} {mine.title}"]
    assert _titles(search_all(staff, "100% stilling_"), "cases") == [f"{mine.number} {mine.title}"]
    assert _titles(search_all(staff, "Ringte arbeidsgiver"), "cases") == [f"{mine.number} {mine.title}"]
    assert _titles(search_all(staff, "Alfa Verksetd"), "employers") == ["Alfa Verksted"]
    assert _titles(search_all(staff, "Region Alfa"), "units") == ["Region Alfa", "Region Alfa avdeling"]
    assert _titles(search_all(staff, "Region"), "units") == ["Region Alfa", "Region Alfa avdeling"]  # not Beta
    for probe in (world.b.marker, theirs.number, "Betasen", "Beta Verksted", "Region Beta", "Referat B"):
        found = [h for hits in search_all(staff, probe).values() for h in hits]
        assert not [h for h in found if "Beta" in h.title or h.title.endswith(("Referat B", "også"))], (probe, found)
    assert all(not hits for hits in search_all(staff, theirs.number).values())
    # A rep searches people only: their own members
    assert set(search_all(world.a.rep, "Alfasen")) == {"people"}


def test_the_search_page_and_api_answer_the_same_and_log_who_was_shown(client, world):
    from tillit.core.models import AccessLogEntry

    factories.case(world.a, title="Permisjon")
    client.force_login(world.a.staff)
    page = client.get(reverse("search"), {"q": "Alfasen"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-kind="people"' in html and 'data-kind="cases"' in html
    assert AccessLogEntry.objects.filter(user=world.a.staff, action="person.search").exists()
    _token, raw = create_token(world.a.staff)
    answer = client.get("/api/v1/search", {"q": "Alfasen", "kind": "cases"}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert answer.status_code == 200
    groups = answer.json()
    assert [g["kind"] for g in groups] == ["cases"] and groups[0]["hits"][0]["title"].endswith("Permisjon")
    bad = client.get("/api/v1/search", {"q": "x", "kind": "secrets"}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert bad.status_code == 422


def test_the_handler_hears_of_assignment_answer_transfer_mention_and_a_deadline_tomorrow(world, settings):
    staff, colleague = world.a.staff, factories.user("colleague_alfa", email="colleague@example.no")
    from tillit.core.services import grant_access

    grant_access(colleague, "case_handler", "org", world.b.branch, actor=None, channel="system")
    outsider = factories.user("outsider", email="outsider@example.no")
    staff.email = "staff@example.no"
    staff.save()
    case = factories.case(world.a, title="Oppsigelse av Zq")
    case_services.assign_case(case, staff, actor=world.admin)
    case_services.record_event(case, CaseEvent.Kind.MESSAGE_IN, actor=None, body="Svar fra medlemmet", public=True)
    case_services.add_note(case, f"@{outsider.username} og @{world.b.staff.username} se på dette", actor=staff)
    kinds = list(Notification.objects.filter(user=staff).values_list("kind", flat=True))
    assert sorted(kinds) == ["answered", "assigned"]
    assert not Notification.objects.filter(user__in=[outsider, world.b.staff]).exists()  # cannot open the case
    case_services.transfer_case(case, world.b.branch, reason="Hører til Beta", actor=staff)
    assert Notification.objects.filter(user=colleague, kind="transferred").count() == 1
    assert not Notification.objects.filter(user=staff, kind="transferred").exists()
    case_services.add_note(case, f"Hei @{colleague.username}.", actor=world.admin)
    assert Notification.objects.filter(user=colleague, kind="mentioned").count() == 1

    other = factories.case(world.a, title="Frist i morgen")
    case_services.assign_case(other, staff, actor=staff)  # by oneself: no notification
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    Case.objects.filter(pk=other.pk).update(due_on=tomorrow)
    from tillit.cases.notify import deadlines_tomorrow

    assert deadlines_tomorrow() == 1 and deadlines_tomorrow() == 0  # once per case and deadline
    assert Notification.objects.filter(user=staff, kind="deadline", object_id=other.pk).count() == 1

    sent = email_round()
    assert sent == 2  # staff (assigned, answered; deadline is not chosen by default) and the colleague
    mail = Message.objects.get(address="staff@example.no")
    assert case.number in mail.body and "Oppsigelse" not in mail.body and "Svar fra" not in mail.body
    assert email_round() == 0
    assert not Message.objects.filter(address="outsider@example.no").exists()


def test_notifications_page_reads_a_case_when_opened_and_hides_cases_out_of_sight(client, world):
    staff = world.a.staff
    case = factories.case(world.a)
    case_services.assign_case(case, staff, actor=world.admin)
    client.force_login(staff)
    page = client.get(reverse("notifications")).content.decode()
    assert case.number in page and 'class="count"' in page
    client.get(reverse("case", args=[case.pk]))
    assert not Notification.objects.filter(user=staff, read_at__isnull=True).exists()
    case_services.transfer_case(case, world.b.branch, reason="bort", actor=world.admin)
    page = client.get(reverse("notifications")).content.decode()
    assert case.title not in page and "no longer open" in page
    assert client.post(reverse("notification_settings"), {"email": ["deadline", "nonsense"]}).status_code == 302
    from tillit.core.notify import email_kinds

    assert email_kinds(staff) == ["deadline"]


def test_a_bulk_transfer_is_one_audited_change_per_case_and_names_what_it_refused(client, world):
    cases = [factories.case(world.a, title=f"Bulk {i}") for i in range(3)]
    theirs = factories.case(world.b, title="Not mine")
    client.force_login(world.a.staff)
    with pytest.raises(InvalidInput):
        apply(world.a.staff, [c.pk for c in cases], "transfer", {"unit": world.b.branch.pk, "reason": " "})
    assert not CaseEvent.objects.filter(kind="transfer").exists()
    response = client.post(reverse("case_bulk"), {"case": [c.pk for c in cases] + [theirs.pk], "action": "transfer",
                                                  "unit": world.b.branch.pk, "reason": "Beta tar dem"}, follow=True)
    flashes = [str(m) for m in response.context["messages"]]
    assert any("3 cases" in m for m in flashes) and any(f"#{theirs.pk}" in m for m in flashes)
    for case in cases:
        assert case.events.filter(kind="transfer", body="Beta tar dem").count() == 1
        assert AuditEntry.objects.filter(object_id=case.pk, action="cases.case.transferred").count() == 1
    theirs.refresh_from_db()
    assert theirs.events.filter(kind="transfer").count() == 0


def test_bulk_close_tag_and_assign(world):
    staff = world.a.staff
    cases = [factories.case(world.a, title=f"C{i}") for i in range(2)]
    assert apply(staff, [c.pk for c in cases], "tag", {"tags": "lønn, hast"}).done == [c.number for c in cases]
    assert apply(staff, [c.pk for c in cases], "assign_me", {}).refused == []
    cases[0].refresh_from_db()
    case_services.transition_case(cases[0], "start", actor=staff)
    result = apply(staff, [c.pk for c in cases], "close", {"reason": "Løst på telefon"})
    assert result.done == [cases[0].number] and result.refused[0][0] == cases[1].number  # "new" cannot close
    cases[0].refresh_from_db()
    assert cases[0].closed_at and cases[0].events.filter(kind="state", body="Løst på telefon").exists()
    assert sorted(Case.objects.get(pk=cases[1].pk).tags) == ["hast", "lønn"]


def test_a_saved_view_is_the_users_own_or_shared_with_a_unit(client, world):
    client.force_login(world.a.staff)
    response = client.post(reverse("saved_view_save"), {"page": "cases", "name": "Mine forfalt",
                                                        "query": "queue=overdue&page=3&sort=due",
                                                        "share": world.a.region.pk})
    view = SavedView.objects.get()
    assert response.status_code == 302 and view.query == "queue=overdue&sort=due" and view.shared_with == world.a.region
    assert "Mine forfalt" in client.get(reverse("cases")).content.decode()
    colleague = factories.user("colleague_a")
    from tillit.core.services import grant_access

    grant_access(colleague, "case_handler", "org", world.a.branch, actor=None, channel="system")
    client.force_login(colleague)
    assert "Mine forfalt" in client.get(reverse("cases")).content.decode()
    assert client.post(reverse("saved_view_delete", args=[view.pk])).status_code == 404  # not theirs
    client.force_login(world.b.staff)
    assert "Mine forfalt" not in client.get(reverse("cases")).content.decode()
    refused = client.post(reverse("saved_view_save"), {"page": "cases", "name": "x", "share": world.a.region.pk})
    assert refused.status_code == 302 and SavedView.objects.count() == 1
    assert client.post(reverse("saved_view_save"), {"page": "nope", "name": "x"}).status_code == 404


def test_case_types_read_in_the_readers_language_and_are_offered_where_they_belong(client, world):
    ctype = factories.case_type(world.a.branch, name="Lønnskrav")
    client.force_login(world.admin)
    url = reverse("case_type_texts", args=[ctype.pk])
    response = client.post(url, {"t:type:sv": "Lönekrav", "t:type:en": "Wage claim", "t:state:new:sv": "Ny",
                                 "t:state:open:sv": "Under handläggning", "t:state:open:en": "Being handled",
                                 "t:transition:start:sv": "Påbörja", "country": ["SE"]})
    assert response.status_code == 302
    ctype.refresh_from_db()
    assert ctype.countries == ["SE"] and ctype.translations == {"sv": "Lönekrav", "en": "Wage claim"}
    case = factories.case(world.a, case_type=ctype)
    case_services.transition_case(case, "start", actor=world.admin)
    client.cookies["django_language"] = "sv"
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    assert "Under handläggning" in page and "Lönekrav" in page
    with translation.override("en"):
        assert case.state.shown_name == "Being handled"
    with translation.override("nb"):
        assert case.state.shown_name == "In progress"  # as written
    # a Norwegian region is not offered a Swedish type
    client.force_login(world.a.staff)
    form = client.get(reverse("case_new")).content.decode()
    assert "Lönekrav" not in form and "Lønnskrav" not in form
    before = AuditEntry.objects.count()
    bad = case_services.translate_case_type
    with pytest.raises(InvalidInput):
        bad(ctype, {"type": {"de": "Lohn"}}, actor=world.admin)
    with pytest.raises(InvalidInput):
        bad(ctype, {"type": {"sv": "x" * 121}}, countries=["XX"], actor=world.admin)
    ctype.refresh_from_db()
    assert ctype.translations["sv"] == "Lönekrav" and AuditEntry.objects.count() == before


def test_the_home_page_shows_the_handlers_work_and_the_owners_checks(client, world):
    case = factories.case(world.a, title="Forfalt sak")
    Case.objects.filter(pk=case.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=2))
    given = factories.case(world.a, title="Gitt i dag")
    case_services.assign_case(given, world.a.staff, actor=world.admin)
    client.force_login(world.a.staff)
    page = client.get(reverse("home"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Forfalt sak" in html and 'data-home="overdue"' in html and "Configuration" not in html
    sections = {name: [c["title"] for c in page.context[name]] for name in ("overdue", "mine", "assigned_today")}
    assert sections == {"overdue": ["Forfalt sak"], "mine": ["Gitt i dag"], "assigned_today": ["Gitt i dag"]}
    client.force_login(world.admin)
    html = client.get(reverse("home")).content.decode()
    assert 'data-ok="no"' in html and "worker" in html
    client.force_login(world.a.rep)
    assert client.get(reverse("home")).url == reverse("reps_home")


def test_an_import_runs_in_the_background_once_per_form_and_shows_its_result(client, world, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.a.staff)
    form = client.get(reverse("import_upload"))
    token = form.context["token"]
    branch = world.a.branch.pk
    rows = (f"first_name,last_name,national_id,email,membership_type,branch,joined_on\n"
            f"Kari,Nordmann,{factories.national_id()},kari@example.no,ordinary,{branch},2024-01-01\n"
            f"Ola,,,,ordinary,{branch},2024-01-01\n")
    data = {"token": token, "skip_invalid": "on"}
    first = client.post(reverse("import_upload"), {**data, "file": SimpleUploadedFile("people.csv", rows.encode())})
    again = client.post(reverse("import_upload"), {**data, "file": SimpleUploadedFile("people.csv", rows.encode())})
    job = Job.objects.get()
    assert first.url == again.url == reverse("job", args=[job.pk]) and job.status == "queued"
    assert 'data-poll="' in client.get(reverse("job_progress", args=[job.pk])).content.decode()
    from tillit.registry.importer import import_task

    assert import_task.call(job.pk) == "done"  # what the worker runs
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert (job.result["created"], job.result["rejected"]) == (1, 1), job.result
    page = client.get(reverse("job", args=[job.pk])).content.decode()
    assert 'data-poll' not in page and 'data-created="1"' in page
    rejects = client.get(reverse("import_rejects", args=[job.pk]))
    assert rejects.status_code == 200 and b"Ola" in rejects.content
    client.force_login(world.b.staff)
    assert client.get(reverse("job", args=[job.pk])).status_code == 404
    assert client.get(reverse("import_rejects", args=[job.pk])).status_code == 404


def test_membership_and_role_types_read_in_the_readers_language(client, world):
    from tillit.registry.models import MembershipType

    client.force_login(world.a.staff)
    assert client.get(reverse("type_texts")).status_code == 404  # configuring is the system owner's
    client.force_login(world.admin)
    kind = MembershipType.objects.get(code="ordinary")
    response = client.post(reverse("type_texts"), {"t:membership:ordinary:sv": "Ordinarie medlem",
                                                   "t:role:workplace_rep:en": "Workplace rep"})
    assert response.status_code == 302
    kind.refresh_from_db()
    assert kind.translations == {"sv": "Ordinarie medlem"}
    with translation.override("sv"):
        assert str(kind) == "Ordinarie medlem"
    with translation.override("en"):
        assert str(kind) == kind.name
    assert AuditEntry.objects.filter(action="registry.membershiptype.translated").count() == 1
    too_long = client.post(reverse("type_texts"), {"t:membership:ordinary:sv": "x" * 101})
    assert too_long.status_code == 422 and "membership:ordinary" in too_long.content.decode()
    kind.refresh_from_db()
    assert kind.translations == {"sv": "Ordinarie medlem"}


def test_a_large_export_is_made_in_the_background_and_downloaded_by_its_owner_only(client, world, settings):
    from tillit.core.models import AccessLogEntry
    from tillit.registry.export import export_task

    settings.TILLIT_EXPORT_INLINE_ROWS = 2  # A's three members are a "large" list here
    client.force_login(world.a.staff)
    first = client.get(reverse("people_export", args=["csv"]))
    again = client.get(reverse("people_export", args=["csv"]))
    job = Job.objects.get(kind="export")
    assert first.url == again.url == reverse("job", args=[job.pk])  # the same job for the same click
    assert export_task.call(job.pk) == "done"
    job.refresh_from_db()
    assert job.result["rows"] == 3 and job.percent == 100
    page = client.get(reverse("job", args=[job.pk])).content.decode()
    assert reverse("job_file", args=[job.pk]) in page
    data = b"".join(client.get(reverse("job_file", args=[job.pk])).streaming_content).decode("utf-8-sig")
    assert all(p.email in data for p, _m in world.a.members) and world.b.members[0][0].email not in data
    assert AccessLogEntry.objects.filter(user=world.a.staff, action="person.export").count() == 3
    client.force_login(world.b.staff)
    assert client.get(reverse("job_file", args=[job.pk])).status_code == 404
    import time

    from tillit.core.jobs import purge_files

    assert purge_files(now=time.time() + 25 * 3600) >= 1  # a day later the file is gone
    client.force_login(world.a.staff)
    assert client.get(reverse("job_file", args=[job.pk])).status_code == 404
    settings.TILLIT_EXPORT_INLINE_ROWS = 5000
    small = client.get(reverse("people_export", args=["csv"]))
    assert small.status_code == 200 and Job.objects.count() == 1  # small lists still download at once


def test_the_queue_finds_a_case_by_the_persons_misspelt_name_and_says_how_many(client, world):
    mine = factories.case(world.a, title="Permisjon")  # about "ZqAlfamarker1 Alfasen"
    other = factories.case(world.a, title="Annet", subjects=[world.a.members[2][0]])  # "ZqAlfamarker2 Alfasen"
    factories.case(world.b, title="Permisjon")
    client.force_login(world.a.staff)
    page = client.get(reverse("cases"), {"q": "Aflasen"})
    assert sorted(r["number"] for r in page.context["rows"]) == [mine.number, other.number]
    assert page.context["total"] == 2
    one = client.get(reverse("cases"), {"q": mine.number})
    assert [r["number"] for r in one.context["rows"]] == [mine.number]
    both = client.get(reverse("cases"), {"q": "Permisjon"})
    assert [r["number"] for r in both.context["rows"]] == [mine.number]  # B's is out of sight
    picked = client.get(reverse("cases"), {"workplace_name": "Alfa Verksetd"})
    assert picked.status_code == 200 and picked.context["workplace"][1] == "Alfa Verksted"
    nothing = client.get(reverse("cases"), {"workplace_name": "Finnes ikke AS"})
    assert nothing.context["rows"] == [] and "No case matches" in nothing.content.decode()


def test_the_people_list_says_how_many_it_holds(client, world):
    client.force_login(world.a.staff)
    everyone = client.get(reverse("people"))
    assert (everyone.context["total"], everyone.context["more"]) == (3, False)
    active = client.get(reverse("people"), {"status": "active"})  # told from the page, not counted apart
    assert (active.context["total"], active.context["more"]) == (3, False)
    assert 'data-total="3"' in active.content.decode()
    assert client.get(reverse("people"), {"q": "Alfasen"}).context["total"] is None  # best matches, no total


@pytest.mark.django_db(transaction=True)
def test_a_jobs_progress_shows_while_its_work_writes_inside_one_transaction(client):
    # The page reads the progress the work reports from inside its transaction: on PostgreSQL written through
    # a connection of its own, on SQLite (one writer) kept in the shared cache. Once done, the row has it.
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from tillit.core import jobs

    user = get_user_model().objects.create_user("worker-watcher", password="x")
    client.force_login(user)
    job, _created = jobs.start(user, "count", token=jobs.new_token())
    seen = []

    def work(job, progress):
        with transaction.atomic():
            progress(5, 10, "writing")
            seen.append(client.get(reverse("job_progress", args=[job.pk])).content.decode())
        return {}

    assert jobs.run(job.pk, work).status == "done"
    assert "5 / 10" in seen[0]
    job.refresh_from_db()
    assert (job.done, job.total, job.stage) == (5, 10, "writing")
    from django.core.cache import cache

    assert cache.get(jobs.progress_key(job.pk)) is None  # what the work reported is the row's now
