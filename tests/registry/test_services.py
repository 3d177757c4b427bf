import datetime

import pytest

from tests import factories
from tillit.core.errors import ConflictError, DomainError, InvalidInput
from tillit.core.models import AuditEntry, Grant
from tillit.core.scopes import scope_for
from tillit.registry import services
from tillit.registry.models import Membership, MembershipStatus, Person

pytestmark = pytest.mark.django_db


def test_it_creates_a_person_and_audits_every_field(world):
    p = services.create_person({"first_name": "Ola", "last_name": "Nordmann", "email": "OLA@Example.no",
                                "phone": "41234567"}, actor=world.admin, channel="ui")
    entry = AuditEntry.objects.get(action="registry.person.created", object_id=p.pk)
    assert entry.actor == world.admin and entry.channel == "ui" and entry.person_id == p.pk
    assert entry.changes["email"] == [None, "ola@example.no"]
    assert entry.changes["phone"] == [None, "+4741234567"]


def test_it_names_every_bad_field_and_saves_nothing(world):
    before = Person.objects.count()
    with pytest.raises(InvalidInput) as caught:
        services.create_person({"first_name": "", "last_name": "X", "national_id": "12345678901",
                                "email": "not-an-email", "phone": "12", "birth_date": "31.02.1990"},
                               actor=world.admin)
    assert set(caught.value.field_errors) == {"first_name", "national_id", "email", "phone", "birth_date"}
    assert Person.objects.count() == before


def test_it_derives_the_birth_date_from_the_national_id_and_refuses_a_contradiction(world):
    nid = factories.national_id(datetime.date(1990, 3, 4))
    p = services.create_person({"first_name": "A", "last_name": "B", "national_id": nid}, actor=world.admin)
    assert p.birth_date == datetime.date(1990, 3, 4)
    with pytest.raises(InvalidInput) as caught:
        services.create_person({"first_name": "C", "last_name": "D", "national_id": factories.national_id(),
                                "birth_date": "1970-01-01"}, actor=world.admin)
    assert "birth_date" in caught.value.field_errors


@pytest.mark.parametrize("field", ["national_id", "email", "phone", "name_and_birth_date"])
def test_it_warns_of_a_duplicate_by_each_rule(world, field):
    nid = factories.national_id(datetime.date(1980, 5, 5))
    original = services.create_person({"first_name": "Per", "last_name": "Hansen", "national_id": nid,
                                       "email": "per@example.no", "phone": "+4791234567"}, actor=world.admin)
    data = {"first_name": "Other", "last_name": "Name"}
    if field == "national_id":
        data["national_id"] = nid
    elif field == "email":
        data["email"] = "PER@example.no"
    elif field == "phone":
        data["phone"] = "912 34 567"
    else:
        data.update(first_name="per", last_name="hansen", birth_date="1980-05-05")
    with pytest.raises(ConflictError) as caught:
        services.create_person(data, actor=world.admin)
    assert [(p.pk, field in reasons) for p, reasons in caught.value.matches] == [(original.pk, True)]


def test_a_likely_duplicate_can_be_registered_on_purpose_but_never_the_same_national_id(world):
    nid = factories.national_id()
    services.create_person({"first_name": "A", "last_name": "B", "email": "same@example.no", "national_id": nid},
                           actor=world.admin)
    twin = services.create_person({"first_name": "C", "last_name": "D", "email": "same@example.no"},
                                  actor=world.admin, allow_duplicate=True)
    assert twin.pk
    with pytest.raises(ConflictError):
        services.create_person({"first_name": "E", "last_name": "F", "national_id": nid}, actor=world.admin,
                               allow_duplicate=True)


def test_it_records_old_and_new_values_and_the_channel_on_change(world):
    p = world.a.members[1][0]
    services.update_person(p, {"phone": "+4791234567"}, actor=world.a.rep, channel="rep", expected_version=p.version)
    entry = AuditEntry.objects.filter(object_id=p.pk, action="registry.person.changed").latest("id")
    assert entry.changes == {"phone": ["", "+4791234567"]} and entry.channel == "rep" and entry.actor == world.a.rep


def test_a_rep_changes_only_what_reps_may_correct_and_only_in_their_scope(world):
    from tillit.core.policy import Refused

    p = world.a.members[1][0]
    for data in ({"city": "Bergen"}, {"national_id": factories.national_id()}, {"first_name": "Other"}):
        with pytest.raises(Refused):
            services.update_person(p, data, actor=world.a.rep, channel="rep", expected_version=p.version)
    outsider = world.b.members[1][0]
    with pytest.raises(Refused):
        services.update_person(outsider, {"phone": "+4791234567"}, actor=world.a.rep, channel="rep")
    assert not AuditEntry.objects.filter(object_id__in=[p.pk, outsider.pk], action="registry.person.changed").exists()


def test_a_second_editor_with_a_stale_version_gets_a_conflict_and_the_first_edit_stays(world):
    p = world.a.members[1][0]
    stale_version = p.version
    first = Person.objects.get(pk=p.pk)
    second = Person.objects.get(pk=p.pk)
    services.update_person(first, {"city": "Tromsø"}, actor=world.admin, expected_version=stale_version)
    with pytest.raises(ConflictError):
        services.update_person(second, {"city": "Bodø"}, actor=world.admin, expected_version=stale_version)
    assert Person.objects.get(pk=p.pk).city == "Tromsø"


def test_merge_moves_every_link_to_the_survivor_and_is_audited(world):
    survivor = world.a.members[1][0]
    duplicate, membership = factories.member(world.a.branch, first_name="Dup", last_name="Licate",
                                             phone="+4790000001")
    services.add_employment(duplicate, {"workplace": world.a.workplace, "starts_on": "2022-02-02"}, actor=None)
    services.merge_persons(survivor, duplicate, actor=world.admin)
    membership.refresh_from_db()
    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert membership.person_id == survivor.pk
    assert survivor.employments.filter(starts_on="2022-02-02").exists()
    assert duplicate.merged_into_id == survivor.pk
    assert survivor.phone == "+4790000001"  # blank field filled from the duplicate
    assert AuditEntry.objects.filter(action="registry.person.merged", object_id=survivor.pk).exists()
    assert not Person.objects.current().filter(pk=duplicate.pk).exists()
    with pytest.raises(DomainError):
        services.merge_persons(survivor, duplicate, actor=world.admin)


def test_membership_status_history_answers_the_date_questions(world):
    p, m = factories.member(world.a.branch, joined_on=datetime.date(2024, 1, 10))
    services.change_membership_status(m, MembershipStatus.EXEMPT, on=datetime.date(2024, 3, 1),
                                      reason="parental leave", actor=world.admin)
    services.change_membership_status(m, MembershipStatus.ACTIVE, on=datetime.date(2024, 9, 1), actor=world.admin)
    services.change_membership_status(m, MembershipStatus.RESIGNING, on=datetime.date(2025, 1, 5),
                                      ends_on=datetime.date(2025, 2, 28), actor=world.admin)
    qs = Membership.objects.filter(pk=m.pk)
    assert qs.member_on(datetime.date(2024, 1, 10)).exists()
    assert not qs.member_on(datetime.date(2024, 1, 9)).exists()
    assert qs.exempt_on(datetime.date(2024, 5, 1)).exists()
    assert not qs.exempt_on(datetime.date(2024, 9, 1)).exists()
    assert qs.joined_in_month(2024, 1).exists() and not qs.joined_in_month(2024, 2).exists()
    assert qs.resigning_in_month(2025, 2).exists() and not qs.resigning_in_month(2025, 1).exists()
    assert qs.member_on(datetime.date(2025, 2, 28)).exists()
    assert not qs.member_on(datetime.date(2025, 3, 1)).exists()
    assert [p.status for p in m.periods.all()] == ["active", "exempt", "active", "resigning"]
    assert AuditEntry.objects.filter(action="registry.membership.status_changed", object_id=m.pk).count() == 3


def test_status_changes_refuse_impossible_input_by_field(world):
    _p, m = factories.member(world.a.branch, joined_on=datetime.date(2024, 1, 10))
    with pytest.raises(InvalidInput) as caught:
        services.change_membership_status(m, MembershipStatus.EXEMPT, on=datetime.date(2023, 1, 1),
                                          actor=world.admin)
    assert {"reason", "on"} <= set(caught.value.field_errors)
    with pytest.raises(InvalidInput) as caught:
        services.change_membership_status(m, MembershipStatus.RESIGNING, on=datetime.date(2024, 6, 1),
                                          actor=world.admin)
    assert "ends_on" in caught.value.field_errors


def test_ended_membership_stops_the_day_before(world):
    _p, m = factories.member(world.a.branch, joined_on=datetime.date(2024, 1, 10))
    services.change_membership_status(m, MembershipStatus.ENDED, on=datetime.date(2024, 6, 1), actor=world.admin)
    qs = Membership.objects.filter(pk=m.pk)
    assert qs.member_on(datetime.date(2024, 5, 31)).exists() and not qs.member_on(datetime.date(2024, 6, 1)).exists()


def test_a_reps_role_gives_access_for_its_term_only(world):
    rep = world.a.rep
    assert Grant.objects.filter(user=rep, source__startswith="registry.role:").count() == 1
    visible = set(Person.objects.visible_to(rep).values_list("pk", flat=True))
    assert {p.pk for p, _m in world.a.members} <= visible
    assert not visible & {p.pk for p, _m in world.b.members}
    role = world.a.rep_person.roles.get()
    services.end_role(role, on=datetime.date.today() - datetime.timedelta(days=1), actor=world.admin)
    rep = type(rep).objects.get(pk=rep.pk)  # a new request: no cached grants
    assert scope_for(rep).empty
    assert set(Person.objects.visible_to(rep).values_list("pk", flat=True)) == {world.a.rep_person.pk}


def test_member_numbers_are_unique_and_never_reused(world):
    first = services.allocate_member_numbers(3)
    second = services.allocate_member_numbers(2)
    assert len(set(first + second)) == 5 and int(second[0]) > int(first[-1])


def test_anonymising_removes_identifying_data_and_keeps_it_out_of_the_trail(world):
    p = world.a.members[2][0]
    services.anonymise_person(p, actor=world.admin, reason="erasure request 2026-11")
    p.refresh_from_db()
    assert p.national_id is None and p.email == "" and p.first_name == "—" and p.anonymised_at
    entry = AuditEntry.objects.get(action="registry.person.anonymised", object_id=p.pk)
    assert all(pair == [None, None] for f, pair in entry.changes.items() if f != "reason")
    with pytest.raises(DomainError):
        services.update_person(p, {"city": "X"}, actor=world.admin)


@pytest.mark.parametrize("large", [False, True])
def test_both_query_shapes_of_visible_to_give_the_same_people(world, monkeypatch, large):
    from tillit.registry import models

    monkeypatch.setattr(models, "LARGE_SCOPE", 1 if large else 10**9)
    staff = type(world.a.staff).objects.get(pk=world.a.staff.pk)
    visible = list(Person.objects.visible_to(staff).current().order_by("last_name", "first_name", "id")
                   .values_list("pk", flat=True))
    assert sorted(visible) == sorted(p.pk for p, _m in world.a.members)
    assert models._is_large_scope([world.a.branch.pk]) is large
