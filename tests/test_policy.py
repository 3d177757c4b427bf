"""One rule per action: every role × every declared action × an object inside and one outside the role's scope,
performed through the service, and the same requests through the API and the staff pages.

The expected answer comes from the rights table (core.policy), the one the "who may do what" page shows: a role may
take an action inside its grant's subtree when the table lists the role for it, and never outside. A declared
action without a way to perform it here, or a service taking an `actor` that no action guards, fails the suite.
"""

import datetime
import importlib
import inspect

import pytest
from django.urls import reverse

from tests import factories
from tillit.core.policy import ACTIONS, Refused, roles_for
from tillit.core.scopes import ROLES
from tillit.core.services import create_token, grant_access

pytestmark = pytest.mark.django_db

# Actions that concern the whole organisation: a grant anywhere decides, so "outside" is the same as "inside".
ORGANISATION_WIDE = {"cases.configure", "registry.configure"}
# Actions that need a grant over the whole organisation: no role given over one region may take them.
WHOLE_ORGANISATION = {"portal.publish", "dues.run", "dues.settings"}


def _login(world, role):
    """A login with one grant of `role` where that role is given in practice: reps over a workplace (and signed),
    payroll offices over a company, everyone else over side A's region."""
    user = factories.user(f"{role}_matrix")
    if role == "rep":
        grant_access(user, role, "employer", world.a.workplace, actor=None, channel="system")
    elif role == "payroll":
        grant_access(user, role, "employer", world.a.company, actor=None, channel="system")
    else:
        grant_access(user, role, "org", world.a.region, actor=None, channel="system")
    return user


def _open(world, side, actor):
    from tillit.cases.services import open_case

    return open_case(factories.case_type(side.branch, name=f"Type {side.marker}"), title="Matrix", actor=actor,
                     unit=side.branch)


def _work(world, side, actor):
    from tillit.cases.services import add_note

    return add_note(factories.case(side), "A note", actor=actor)


def _configure_cases(world, side, actor):
    return factories.case_type(side.branch, name="Configured", actor=actor)


def _edit(world, side, actor):
    from tillit.registry.services import update_person

    return update_person(side.members[1][0], {"city": "Bergen"}, actor=actor)


def _correct(world, side, actor):
    from tillit.registry.services import update_person

    return update_person(side.members[1][0], {"phone": "+4791234567"}, actor=actor, channel="rep")


def _merge(world, side, actor):
    from tillit.registry.services import merge_persons

    return merge_persons(side.members[1][0], side.members[2][0], actor=actor)


def _roles(world, side, actor):
    from tillit.registry.services import assign_role

    observer = factories.role_type("observer", grant_role="viewer")
    return assign_role(side.members[2][0], observer, side.branch, starts_on=datetime.date(2026, 1, 1), actor=actor)


def _users(world, side, actor):
    from tillit.registry.access import give_role

    return give_role(actor, factories.user(), "viewer", "org", side.branch)


def _nodes(world, side, actor):
    from tillit.registry.services import create_org_unit

    return create_org_unit("Matrix team", "team", parent=side.branch, actor=actor)


def _publish(world, side, actor):
    from tillit.portal.knowledge import save_article
    from tillit.portal.models import Article

    return save_article(Article(), {"title": "Help", "body": "How to", "language": "en", "state": "published"},
                        actor=actor)


def _add_document(world, side, actor):
    return factories.document(side, actor=actor, persons=[side.members[1][0]])


def _change_document(world, side, actor):
    from tillit.documents.services import update_document

    document = factories.document(side)
    return update_document(document, {"title": "Renamed"}, actor=actor, expected_version=document.version)


def _release_document(world, side, actor):
    from tillit.documents.services import check_out, force_release

    document = factories.document(side)
    check_out(document, actor=side.staff)
    return force_release(document, actor=actor, reason="On leave")


def _run_dues(world, side, actor):
    from tillit.dues.run import start_run

    return start_run(datetime.date(2027, 1, 1), actor=actor)


def _set_dues(world, side, actor):
    from tillit.dues.settings_services import update_policy

    return update_policy({"kid_method": "mod10", "partial_month": "full", "bank_account": "15032012345"},
                         actor=actor)


def _keep_account(world, side, actor):
    from tillit.dues.ledger import add_entry

    return add_entry(side.members[1][0], kind="correction", amount="10", reason="Matrix", actor=actor)


def _send_return(world, side, actor):
    from tillit.dues.returns import receive_return

    member = side.members[1][1]
    return receive_return(side.company, f"member_number;period;amount\n{member.member_number};2027-01;400\n".encode(),
                          filename="r.csv", actor=actor)


def _write(source):
    def write(world, side, actor):
        from tillit.messaging.mailings import clean_draft, create_mailing

        draft = clean_draft({"channel": "email", "subject": "Møte", "body": "Velkommen"})
        rows = [{"person_id": p.pk, "email": p.email, "language": "nb", "merge": {}} for p, _m in side.members[1:]]
        return create_mailing(draft, rows, user=actor, selection={"source": source}, base_url="http://testserver/")
    return write


def _configure_registry(world, side, actor):
    from tillit.registry.services import translate_types

    return translate_types({}, actor=actor)


PERFORM = {
    "cases.open": _open, "cases.work": _work, "cases.configure": _configure_cases,
    "registry.edit": _edit, "registry.correct": _correct, "registry.merge": _merge, "registry.roles": _roles,
    "core.users": _users, "registry.nodes": _nodes, "registry.configure": _configure_registry,
    "portal.publish": _publish, "documents.add": _add_document, "documents.change": _change_document,
    "documents.release": _release_document, "dues.run": _run_dues, "dues.settings": _set_dues,
    "dues.accounts": _keep_account, "dues.returns": _send_return, "messaging.people": _write("people"),
    "messaging.reps": _write("reps"),
}


def test_every_declared_action_is_performed_by_the_matrix():
    assert set(ACTIONS) == set(PERFORM)


def _guarded(module) -> list[str]:
    """The public functions of a services module that take an `actor`."""
    return sorted(name for name, fn in inspect.getmembers(module, inspect.isfunction)
                  if fn.__module__ == module.__name__ and not name.startswith("_")
                  and "actor" in inspect.signature(fn).parameters)


# Primitives other services build on, each caller checking its own action: a case's timeline entry.
PRIMITIVES = {"record_event"}
# The modules whose functions change state, by app.
SERVICE_MODULES = {"cases": ["services"], "registry": ["services"], "documents": ["services"],
                   "dues": ["run", "giro", "notices", "ledger", "deviations", "returns", "settings_services"],
                   "portal": ["config", "knowledge"], "messaging": ["services", "mailings"]}
CHECKS = ("access.", "_require", "require(", "may_force_release(")


@pytest.mark.parametrize("app", sorted(SERVICE_MODULES))
def test_every_service_that_acts_checks_the_policy(app):
    """Each service taking an actor asks the app's policy, itself or through another service of its module that
    does (run_period through start_run): a new service without a rule fails here."""
    unchecked = []
    for name in SERVICE_MODULES[app]:
        module = importlib.import_module(f"tillit.{app}.{name}")
        functions = {n: inspect.getsource(f) for n, f in inspect.getmembers(module, inspect.isfunction)
                     if f.__module__ == module.__name__}
        checked = {n for n, source in functions.items() if any(mark in source for mark in CHECKS)}
        while True:  # a function calling a checked one of the same module is checked through it
            more = {n for n, source in functions.items() if n not in checked
                    and any(f"{other}(" in source for other in checked)}
            if not more:
                break
            checked |= more
        unchecked += [f"{module.__name__}.{n}" for n in _guarded(module) if n not in checked | PRIMITIVES]
    assert unchecked == []


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("code", sorted(PERFORM))
def test_each_role_may_do_what_the_table_says_inside_its_scope_and_nothing_outside(world, role, code):
    actor = _login(world, role)
    for side, inside in ((world.a, True), (world.b, False)):
        expected = role in roles_for(ACTIONS[code]) and (inside or code in ORGANISATION_WIDE) and \
            code not in WHOLE_ORGANISATION
        try:
            PERFORM[code](world, side, actor)
            allowed = True
        except Refused:
            allowed = False
        assert allowed == expected, (role, code, "inside" if inside else "outside")


def _api(client, user):
    _token, raw = create_token(user, "matrix")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "content_type": "application/json"}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_api_and_the_staff_pages_give_the_services_answer(client, world, role):
    """Opening a case and changing a person, by API and by the staff pages, inside and outside: a change where the
    table allows it, and a refusal that changes nothing where it does not."""
    from tillit.cases.models import Case, CaseType
    from tillit.registry.models import Person

    actor = _login(world, role)
    may_open = role in roles_for(ACTIONS["cases.open"])
    may_edit = role in roles_for(ACTIONS["registry.edit"])
    headers = _api(client, actor)
    client.force_login(actor)
    for side, inside in ((world.a, True), (world.b, False)):
        case_type = factories.case_type(side.branch, name=f"API {side.marker}")
        # The unit named: refused outside the actor's units, nothing made.
        before = Case.objects.count()
        response = client.post("/api/v1/cases", {"case_type_id": case_type.pk, "title": "By API",
                                                 "unit_id": side.branch.pk}, **headers)
        assert (response.status_code == 201) == (may_open and inside), (role, inside, response.content)
        assert response.status_code in (201, 403) and Case.objects.count() == before + (response.status_code == 201)
        # No unit named: the same unit by API and by the page (the type's own when covered, else the actor's).
        response = client.post("/api/v1/cases", {"case_type_id": case_type.pk, "title": "By API"}, **headers)
        page = client.post(reverse("case_new"), {"case_type": case_type.pk, "title": "By page", "priority": 2})
        assert (response.status_code == 201) == (page.status_code == 302) == may_open, (role, inside)
        if may_open:
            by_api = Case.objects.get(pk=response.json()["id"])
            by_page = Case.objects.filter(title="By page").latest("pk")
            assert by_api.responsible_unit == by_page.responsible_unit == (world.a.branch if inside else world.a.region)
        else:
            assert response.status_code == 403 and not Case.objects.filter(title="By page").exists()
        CaseType.objects.filter(pk=case_type.pk).update(active=False)

        person = side.members[2][0]
        response = client.patch(f"/api/v1/persons/{person.pk}", {"city": "Hamar", "version": person.version},
                                **headers)
        assert (response.status_code == 200) == (may_edit and inside), (role, inside, response.content)
        assert response.status_code in (200, 403, 404)
        assert (Person.objects.get(pk=person.pk).city == "Hamar") == (may_edit and inside)

        # a note on a case of the side, by API and by the case page (cases.work)
        from tillit.cases.models import CaseEvent

        case = factories.case(side)
        may_work = role in roles_for(ACTIONS["cases.work"]) and inside
        response = client.post(f"/api/v1/cases/{case.pk}/events", {"body": "By API"}, **headers)
        assert (response.status_code == 201) == may_work, (role, inside, response.content)
        client.post(reverse("case_note", args=[case.pk]), {"body": "By page"})
        assert CaseEvent.objects.filter(case=case, kind="note").count() == 2 * may_work

        # a role that gives access is a grant: the roles action, by API
        factories.role_type("observer", grant_role="viewer")
        before = person.roles.count()
        response = client.post("/api/v1/roles", {"person_id": person.pk, "role_type": "observer",
                                                 "org_unit_id": side.branch.pk, "starts_on": "2026-01-01"}, **headers)
        allowed = role in roles_for(ACTIONS["registry.roles"]) and inside
        assert (response.status_code == 201) == allowed, (role, inside, response.content)
        assert response.status_code in (201, 403, 404) and person.roles.count() == before + allowed

        # a document filed in the side's unit, by API
        from django.core.files.uploadedfile import SimpleUploadedFile

        from tillit.documents.models import Document

        before = Document.objects.count()
        response = client.post("/api/v1/documents", {"file": SimpleUploadedFile("n.txt", b"Notat"),
                                                     "unit_id": side.branch.pk},
                               HTTP_AUTHORIZATION=headers["HTTP_AUTHORIZATION"])
        allowed = role in roles_for(ACTIONS["documents.add"]) and inside
        assert (response.status_code == 201) == allowed, (role, inside, response.content)
        assert Document.objects.count() == before + allowed


def test_public_help_is_published_only_by_an_owner_of_the_whole_organisation(client, world):
    """A case handler or a local administrator (found publishing a phishing link on /help/) is refused, by the
    page and by the service; an administrator over the national unit publishes."""
    from tillit.portal.models import Article

    owner = factories.user("owner")
    grant_access(owner, "admin", "org", world.national, actor=None, channel="system")
    data = {"title": "Pay here", "body": "https://phish.example", "language": "en", "state": "published"}
    for role in ("case_handler", "local_admin", "admin"):  # the last over one region only
        client.force_login(_login(world, role))
        assert reverse("portal_manage_articles") not in client.get(reverse("home")).content.decode()
        assert client.post(reverse("portal_manage_article_new"), data).status_code == 404
    assert not Article.objects.exists()
    client.force_login(owner)
    assert reverse("portal_manage_articles") in client.get(reverse("cases")).content.decode()
    assert client.post(reverse("portal_manage_article_new"), data).status_code == 302
    assert Article.objects.get().title == "Pay here"


def test_a_case_type_offered_elsewhere_is_refused_alike_by_page_and_api(client, world):
    """The API opened a case in the type's default unit without checking its countries, while the page did not
    offer the type: now neither opens it, and the same request gives the same refusal."""
    from tillit.cases.models import Case
    from tillit.cases.services import translate_case_type

    swedish = factories.case_type(world.a.branch, name="Svensk ärendetyp")
    translate_case_type(swedish, {}, countries=["SE"], actor=None)  # the branch is Norwegian
    _token, raw = create_token(world.a.staff, "t")
    response = client.post("/api/v1/cases", {"case_type_id": swedish.pk, "title": "By API"},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 403
    client.force_login(world.a.staff)
    form = client.get(reverse("case_new"))
    assert swedish.pk not in [t.pk for t in form.context["form"].fields["case_type"].queryset]
    assert client.post(reverse("case_new"), {"case_type": swedish.pk, "title": "By page", "priority": 2}
                       ).status_code == 200
    assert not Case.objects.filter(case_type=swedish).exists()


def _door_merge(world, side):
    return "post", f"/persons/{side.members[1][0].pk}/merge", {"duplicate_id": side.members[2][0].pk}, 200


def _door_nodes(world, side):
    return "post", "/org-units", {"name": "Matrix team", "kind": "team", "parent_id": side.branch.pk}, 201


def _door_change_document(world, side):
    document = factories.document(side)
    return "patch", f"/documents/{document.pk}", {"title": "Renamed", "version": document.version}, 200


def _door_release_document(world, side):
    from tillit.documents.services import check_out

    document = factories.document(side)
    check_out(document, actor=side.staff)
    return "post", f"/documents/{document.pk}/release", {"reason": "On leave"}, 200


def _door_run_dues(world, side):
    return "post", "/dues/runs", {"period": "2027-01"}, 202


def _door_send_return(world, side):
    from django.core.files.uploadedfile import SimpleUploadedFile

    member = side.members[1][1]
    content = f"member_number;period;amount\n{member.member_number};2027-01;400\n".encode()
    body = {"file": SimpleUploadedFile("r.csv", content), "payroll_unit_id": side.company.pk}
    return "post", "/dues/returns", body, 200


DOORS = {"dues.returns": _door_send_return, "registry.merge": _door_merge, "registry.nodes": _door_nodes,
         "documents.change": _door_change_document, "documents.release": _door_release_document,
         "dues.run": _door_run_dues}


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("code", sorted(DOORS))
def test_the_api_answers_as_the_table_says(client, world, role, code):
    """More actions through the API, as every role, inside and outside its scope: the answer taken where the
    table allows it, a refusal (403 or 404) where it does not."""
    actor = _login(world, role)
    headers = _api(client, actor)
    for side, inside in ((world.a, True), (world.b, False)):
        method, path, body, taken = DOORS[code](world, side)
        expected = role in roles_for(ACTIONS[code]) and (inside or code in ORGANISATION_WIDE) and \
            code not in WHOLE_ORGANISATION
        if "file" in body:  # a multipart upload
            response = client.post(f"/api/v1{path}", body, HTTP_AUTHORIZATION=headers["HTTP_AUTHORIZATION"])
        else:
            response = getattr(client, method)(f"/api/v1{path}", body, **headers)
        assert (response.status_code == taken) == expected, (role, code, inside, response.content)
        assert response.status_code == taken or response.status_code in (403, 404), response.content


def _page_account(world, side):
    from tillit.dues.models import LedgerEntry

    return (reverse("dues_person_entry", args=[side.members[1][0].pk]),
            {"kind": "correction", "amount": "10", "reason": "Matrix"}, LedgerEntry.objects.count)


def _page_case_type(world, side):
    from tillit.cases.models import CaseType

    states = "new | New | new\nclosed | Closed | closed"
    return (reverse("case_type_new"), {"name": f"Matrix {side.marker}", "default_unit": world.a.branch.pk,
                                       "states": states, "transitions": "close | Close | new | closed |"},
            CaseType.objects.count)


def _page_dues_settings(world, side):
    from tillit.core.models import AuditEntry

    return (reverse("dues_policy"), {"kid_method": "mod10", "partial_month": "full", "bank_account": "15032012345"},
            AuditEntry.objects.filter(action="dues.policy.changed").count)


def _page_type_texts(world, side):
    from tillit.core.models import AuditEntry

    factories.membership_type()
    return (reverse("type_texts"), {"t:membership:ordinary:sv": f"Ordinarie {side.marker}"},
            AuditEntry.objects.filter(action="registry.membershiptype.translated").count)


def _page_correct(world, side, actor=None):
    """A rep corrects through the reps' portal; member service through the staff page (its edit covers it)."""
    from tillit.core.models import AuditEntry
    from tillit.core.scopes import held_roles
    from tillit.registry.models import Employment

    person = side.members[1][0]
    person.refresh_from_db()
    if "rep" in held_roles(actor):
        job = Employment.objects.get(person=person)
        data = {"version": person.version, "phone": "+4791234567", "email": person.email,
                f"employment-{job.pk}-version": job.version, f"employment-{job.pk}-workplace": job.workplace_id,
                f"employment-{job.pk}-position": job.position,
                f"employment-{job.pk}-percentage": str(job.percentage), f"employment-{job.pk}-ends_on": ""}
        url = reverse("reps_correct", args=[person.pk])
    else:
        data = {"first_name": person.first_name, "last_name": person.last_name, "email": person.email,
                "phone": "+4791234567", "country": person.country, "preferred_language": person.preferred_language,
                "national_id": person.national_id or "", "version": person.version}
        url = reverse("person_edit", args=[person.pk])
    return url, data, AuditEntry.objects.filter(action="registry.person.changed", object_id=person.pk).count


@pytest.mark.parametrize("role", sorted(ROLES))
def test_messages_to_a_list_are_sent_by_whom_the_table_says(client, world, role):
    """Member service writes to its people list, a rep to the members of its own node; a node of another side is
    no one's."""
    from tillit.messaging.models import Mailing

    actor = _login(world, role)
    client.force_login(actor)
    draft = {"action": "send", "channel": "email", "subject": "Møte", "body": "Velkommen"}
    for code, query in (("messaging.people", "source=people"),
                        ("messaging.reps", f"source=reps&node=employer-{world.a.workplace.pk}"),
                        (None, f"source=reps&node=employer-{world.b.workplace.pk}")):
        before = Mailing.objects.count()
        client.post(reverse("compose_mailing") + "?" + query, draft)
        expected = code is not None and role in roles_for(ACTIONS[code])
        assert (Mailing.objects.count() == before + 1) == expected, (role, code)


PAGES = {"registry.correct": _page_correct, "dues.accounts": _page_account, "cases.configure": _page_case_type,
         "dues.settings": _page_dues_settings, "registry.configure": _page_type_texts}


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("code", sorted(PAGES))
def test_the_staff_pages_change_what_the_table_says_and_nothing_else(client, world, role, code):
    actor = _login(world, role)
    client.force_login(actor)
    for side, inside in ((world.a, True), (world.b, False)):
        door = PAGES[code]
        url, data, count = door(world, side, actor) if code == "registry.correct" else door(world, side)
        expected = role in roles_for(ACTIONS[code]) and (inside or code in ORGANISATION_WIDE) and \
            code not in WHOLE_ORGANISATION
        before = count()
        response = client.post(url, data)
        assert response.status_code in (200, 302, 404, 422), response.status_code
        assert (count() == before + 1) == expected, (role, code, inside)
