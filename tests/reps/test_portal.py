"""The reps' portal: a rep lands on it, sees the figures of their own node by the same rule as the lists behind
them, and nothing of another node; every link they are shown opens."""

import csv
import io

import pytest
from django.urls import reverse

from tests import factories
from tillit.reps import kpis

pytestmark = pytest.mark.django_db
PAGES = ["reps_home", "reps_members", "reps_tree", "reps_reps", "reps_notices", "reps_coverage"]


def test_a_rep_lands_on_the_portal_and_its_numbers_are_the_lists_behind_them(client, world):
    kpis.recount()
    client.force_login(world.a.rep)
    assert client.get("/").url == reverse("reps_home")
    page = client.get(reverse("reps_home"))
    rows = {r["kpi"]: r for r in page.context["rows"]}
    assert rows["members"]["now"] == 3 and not page.context["live"]
    for kpi, row in rows.items():
        listed = client.get(row["url"])
        assert listed.status_code == 200 and listed.context["total"] == row["now"], kpi
    names = client.get(rows["members"]["url"]).content.decode()
    assert all(p.first_name in names for p, _m in world.a.members)
    assert all(p.first_name not in names for p, _m in world.b.members)


def test_a_rep_reaches_no_node_of_another_workplace(client, world):
    client.force_login(world.a.rep)
    for name in PAGES:
        for other in (world.b.workplace, world.b.company):
            assert client.get(reverse(name) + f"?node=employer-{other.pk}").status_code == 404, name
        assert client.get(reverse(name) + f"?node=org-{world.b.region.pk}").status_code == 404, name
        assert client.get(reverse(name) + "?node=employer-x").status_code == 404, name
    export = client.get(reverse("reps_members_export", args=["csv"]) + f"?node=employer-{world.b.workplace.pk}")
    assert export.status_code == 404
    # staff without a rep role have no portal
    client.force_login(world.a.staff)
    assert client.get(reverse("reps_home")).status_code == 404


def test_the_export_has_only_the_fields_reps_may_take_and_is_logged(client, world, settings):
    from tillit.core.models import AccessLogEntry

    settings.TILLIT_REP_EXPORT_FIELDS = ["name", "member_number"]
    client.force_login(world.a.rep)
    response = client.get(reverse("reps_members_export", args=["csv"]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Name", "Member number"] and len(rows) == 4
    logged = set(AccessLogEntry.objects.filter(action="reps.members.exported", user=world.a.rep).values_list(
        "person_id", flat=True))
    assert logged == {p.pk for p, _m in world.a.members[1:]}  # everyone but the rep, whose own record it is


def test_a_regional_rep_sees_a_workplace_without_a_rep_and_one_that_lost_theirs(client, world, settings):
    settings.TILLIT_REP_MINIMUM_MEMBERS = 3
    regional, lone = factories.lost_and_lone(world)
    client.force_login(regional)
    page = client.get(reverse("reps_coverage"))
    lacking = [r["e"].pk for r in page.context["lacking"]]
    lost = {r["e"].pk: r for r in page.context["lost"]}
    assert lone.pk in lacking and world.a.workplace.pk in lost and world.a.workplace.pk in lacking
    assert lost[world.a.workplace.pk]["who"] == world.a.rep_person
    assert world.b.workplace.pk not in lacking and world.b.workplace.pk not in lost


def test_every_link_a_rep_is_shown_opens(client, world):
    kpis.recount()
    client.force_login(world.a.rep)
    assert len(factories.every_link_opens(client, "/")) >= 10


def test_the_api_gives_a_rep_the_figures_and_lists_of_their_own_node_only(client, world):
    from tillit.core.services import create_token

    kpis.recount()
    _token, raw = create_token(world.a.rep)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    (node,) = client.get("/api/v1/reps/nodes", **auth).json()
    assert node["key"] == f"employer-{world.a.workplace.pk}"
    figures = client.get("/api/v1/reps/dashboard", **auth).json()
    assert figures["today"]["members"] == 3 and not figures["counted_live"] and len(figures["trend"]) == 24
    listed = client.get("/api/v1/reps/members?kpi=members", **auth).json()
    assert listed["total"] == 3 and {i["member_number"] for i in listed["items"]} == {
        m.member_number for _p, m in world.a.members}
    assert client.get("/api/v1/reps/members?sort=-name&pct_min=200", **auth).status_code == 422
    assert client.get("/api/v1/reps/members?status=resigning", **auth).json()["total"] == 0
    cover = client.get("/api/v1/reps/coverage", **auth).json()
    assert cover["node"]["key"] == node["key"] and cover["minimum"] == 5 and isinstance(cover["entitlement"], list)
    assert client.get("/api/v1/reps/corrections", **auth).json() == []
    tree = client.get("/api/v1/reps/tree", **auth).json()
    assert [r["key"] for r in tree["rows"]] == [f"employer-{world.a.workplace.pk}"] and tree["rows"][0]["members"] == 3
    others = client.get("/api/v1/reps/reps", **auth).json()
    assert [r["person"] for r in others["own"]] == [f"{world.a.rep_person.first_name} {world.a.rep_person.last_name}"]
    assert client.get("/api/v1/reps/notices", **auth).json() == []
    for path in (f"/api/v1/reps/dashboard?node=employer-{world.b.workplace.pk}",
                 f"/api/v1/reps/members?node=org-{world.b.region.pk}",
                 f"/api/v1/reps/coverage?node=employer-{world.b.workplace.pk}",
                 f"/api/v1/reps/tree?node=employer-{world.b.workplace.pk}",
                 f"/api/v1/reps/notices?node=org-{world.b.region.pk}"):
        assert client.get(path, **auth).status_code == 404, path
    _token, raw = create_token(world.a.staff)
    assert client.get("/api/v1/reps/nodes", HTTP_AUTHORIZATION=f"Bearer {raw}").json() == []


def test_member_lists_open_only_after_the_current_declaration_is_signed(client, world):
    from tillit.core.models import AuditEntry
    from tillit.reps import declaration

    declaration.publish({"nb": "Jeg har taushetsplikt.", "en": "I keep members' data confidential."},
                        actor=world.admin, expected_version=0)
    client.force_login(world.a.rep)
    assert client.get(reverse("reps_home")).status_code == 200  # the figures, nothing personal
    for name in ("reps_members", "reps_reps", "reps_notices", "reps_coverage"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("reps_declaration")), name
    assert client.get(reverse("reps_members_export", args=["csv"])).status_code == 302
    page = client.get(reverse("reps_declaration"))
    assert "I keep members" in page.content.decode() and "Jeg har" not in page.content.decode()
    response = client.post(reverse("reps_declaration"), {"name": "", "version": 1})
    assert response.status_code == 422
    response = client.post(reverse("reps_declaration"), {"name": "Kari Tillitsvalgt", "version": 1,
                                                         "next": "/reps/members/"})
    assert response.status_code == 302 and response.url == "/reps/members/"
    assert client.get(reverse("reps_members")).status_code == 200
    signed = AuditEntry.objects.get(action="reps.declaration.signed")
    assert signed.changes["name"] == [None, "Kari Tillitsvalgt"] and signed.actor == world.a.rep
    # a new version: sign again
    declaration.publish({"en": "New text."}, actor=world.admin, expected_version=1)
    assert client.get(reverse("reps_members")).status_code == 302
    assert client.post(reverse("reps_declaration"), {"name": "Kari", "version": 1}).status_code == 422  # old text
    # only the system owner writes it
    assert client.get(reverse("reps_declaration_edit")).status_code == 404
    client.force_login(world.admin)
    assert client.post(reverse("reps_declaration_edit"), {"text_en": "Again", "version": 1}).status_code == 422
    assert client.post(reverse("reps_declaration_edit"), {"text_en": "Again", "version": 2}).status_code == 302


def test_the_declaration_guards_every_path_to_member_data_not_only_the_reps_list(client, world):
    """Unsigned, a rep's grant opens nothing personal anywhere: the staff people list, a person page, the export,
    the API and the one search; once signed, the same doors open. A rep of the other side never sees A's members."""
    from tillit.core.services import create_token
    from tillit.reps import declaration

    declaration.publish({"en": "I keep members' data confidential."}, actor=world.admin, expected_version=0)
    member = world.a.members[2][0]
    marker = member.first_name  # the rep's own record (which they always see) has another
    _token, raw = create_token(world.a.rep, "t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def doors():
        client.force_login(world.a.rep)
        return {
            "list": marker in client.get(reverse("people")).content.decode(),
            "page": client.get(reverse("person", args=[member.pk])).status_code == 200,
            "export": marker in b"".join(client.get(reverse("people_export", args=["csv"])).streaming_content
                                         ).decode(),
            "api": client.get(f"/api/v1/persons/{member.pk}", **auth).status_code == 200,
            "search": reverse("person", args=[member.pk]) in client.get(reverse("search"), {"q": member.first_name}
                                                                        ).content.decode(),
        }

    assert doors() == dict.fromkeys(("list", "page", "export", "api", "search"), False)
    declaration.sign(world.a.rep, name="Kari Tillitsvalgt", version=1, language="en")
    assert doors() == dict.fromkeys(("list", "page", "export", "api", "search"), True)
    client.force_login(world.b.rep)
    declaration.sign(world.b.rep, name="Ola", version=1, language="en")
    assert client.get(reverse("person", args=[member.pk])).status_code == 404
