import pytest

from tests import factories
from tillit.registry import services
from tillit.registry.models import Person
from tillit.registry.search import edit_distance, name_score, search_people

pytestmark = pytest.mark.django_db


def test_the_name_index_follows_creates_renames_and_anonymisation(world):
    person = factories.person(first_name="Gunnhild", last_name="Kvamsdal")
    everyone = Person.objects.all()
    assert search_people(everyone, "kvamsdal") == [person]
    services.update_person(person, {"last_name": "Rognstad"}, actor=world.admin)
    assert search_people(everyone, "kvamsdal") == []
    assert search_people(everyone, "rognstad") == [person]
    services.anonymise_person(person, actor=world.admin, reason="erasure")
    assert search_people(everyone, "gunnhild") == []


@pytest.mark.parametrize("typed", ["kvamsdla", "kvamdsal", "kvamsdl", "gunhild kvamsdal", "kvamsdal gunnhild"])
def test_it_forgives_one_slip_of_the_finger(world, typed):
    person = factories.person(first_name="Gunnhild", last_name="Kvamsdal")
    factories.person(first_name="Kari", last_name="Kvalheim")
    assert search_people(Person.objects.all(), typed)[0] == person


def test_it_finds_by_member_number_email_phone_and_national_id(world):
    person, membership = world.a.members[1]
    services.update_person(person, {"phone": "+4791112222"}, actor=world.admin)
    everyone = Person.objects.all()
    for text in [membership.member_number, person.email.upper(), "911 12 222",
                 person.national_id[:6] + " " + person.national_id[6:], person.national_id[:6]]:
        assert person in search_people(everyone, text), text


def test_search_stays_inside_the_given_scope(world):
    theirs = world.b.members[1][0]
    assert search_people(Person.objects.visible_to(world.a.staff), theirs.last_name) == []
    assert search_people(Person.objects.visible_to(world.a.staff), theirs.email) == []


def test_the_scores_rank_a_swap_above_a_stranger():
    assert edit_distance("hansen", "hnasen") == 1
    assert name_score("hnasen", "kari hansen") > name_score("hnasen", "kari olsen")
    assert name_score("ola", "ola nordmann") == 1.0
