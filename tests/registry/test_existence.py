"""Who is a member stays private: registering or correcting a person gives a user the same answer
whether or not someone outside their scope already holds the national id, email or name and birth
date; duplicates still never become two confirmed records, and what a user registers stays visible
to them."""

import pytest

from tests import factories
from tillit.core.services import create_token
from tillit.registry.models import DuplicateReview, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    def call(user, method, path, data=None):
        _token, raw = create_token(user, "t")
        return getattr(client, method)(f"/api/v1{path}", data, content_type="application/json",
                                       HTTP_AUTHORIZATION=f"Bearer {raw}")
    return call


def _shape(response) -> tuple:
    body = response.json()
    return response.status_code, sorted(body), body.get("national_id") is not None


def test_a_rep_registers_no_one_whatever_the_national_id(as_user, world):
    """A rep corrects members through the reps' portal; registering people is member service's."""
    taken = as_user(world.a.rep, "post", "/persons", {"first_name": "Kari", "last_name": "Nord",
                                                      "national_id": world.b.members[1][0].national_id})
    free = as_user(world.a.rep, "post", "/persons", {"first_name": "Kari", "last_name": "Sør",
                                                     "national_id": factories.national_id()})
    assert _shape(taken) == _shape(free) and taken.status_code == 404


def test_an_outsiders_national_id_gets_the_same_answer_as_a_free_one(as_user, world):
    user = world.a.staff
    outsider = world.b.members[1][0]
    taken = as_user(user, "post", "/persons", {"first_name": "Kari", "last_name": "Nord",
                                               "national_id": outsider.national_id})
    free = as_user(user, "post", "/persons", {"first_name": "Kari", "last_name": "Sør",
                                              "national_id": factories.national_id()})
    assert _shape(taken) == _shape(free) and taken.status_code == 201
    assert as_user(user, "get", f"/persons/{taken.json()['id']}").status_code == 200  # it stays visible
    provisional = Person.objects.get(pk=taken.json()["id"])
    assert provisional.provisional and not Person.objects.get(pk=free.json()["id"]).provisional
    review = DuplicateReview.objects.get(person=provisional)
    assert review.matches == [[outsider.pk, ["national_id"]]] and review.created_by == user  # for member service
    assert Person.objects.filter(national_id=outsider.national_id, provisional=False).count() == 1


def test_an_insiders_national_id_is_a_conflict_naming_the_match(as_user, world):
    user = world.a.staff
    insider = world.a.members[1][0]
    response = as_user(user, "post", "/persons", {"first_name": "X", "last_name": "Y",
                                                  "national_id": insider.national_id})
    assert response.status_code == 409 and response.json()["matches"] == [insider.pk]
    assert not DuplicateReview.objects.exists()


def test_name_birth_date_and_email_of_an_outsider_get_the_same_answer_as_a_stranger(as_user, world):
    outsider = world.b.members[1][0]
    Person.objects.filter(pk=outsider.pk).update(birth_date="1980-05-05")
    same = as_user(world.a.staff, "post", "/persons", {"first_name": outsider.first_name,
                                                     "last_name": outsider.last_name, "birth_date": "1980-05-05",
                                                     "email": outsider.email})
    stranger = as_user(world.a.staff, "post", "/persons", {"first_name": "Ola", "last_name": "Ukjent",
                                                         "birth_date": "1980-05-05", "email": "ola@example.no"})
    assert _shape(same) == _shape(stranger) and same.status_code == 201
    assert DuplicateReview.objects.filter(person_id=same.json()["id"]).exists()


def test_correcting_to_an_outsiders_national_id_answers_like_a_free_one(as_user, world):
    user = world.a.staff
    mine, other = world.a.members[1][0], world.a.members[2][0]
    outsider = world.b.members[1][0]
    taken = as_user(user, "patch", f"/persons/{mine.pk}", {"national_id": outsider.national_id,
                                                           "version": mine.version})
    free = as_user(user, "patch", f"/persons/{other.pk}", {"national_id": factories.national_id(),
                                                           "version": other.version})
    assert taken.status_code == free.status_code == 200
    assert Person.objects.get(pk=mine.pk).provisional and DuplicateReview.objects.filter(person=mine).exists()
    clash = as_user(user, "patch", f"/persons/{other.pk}", {"national_id": world.a.members[0][0].national_id,
                                                            "version": free.json()["version"]})
    assert clash.status_code == 409  # a holder the user can see is named as before


def test_member_service_merges_the_provisional_record_into_the_one_it_duplicates(world):
    from tillit.registry import services

    outsider = world.b.members[1][0]
    provisional = services.create_person({"first_name": "Kari", "last_name": "Nord",
                                          "national_id": outsider.national_id}, actor=world.a.staff)
    services.merge_persons(outsider, provisional, actor=world.admin)
    review = DuplicateReview.objects.get(person=provisional)
    assert review.outcome == "merged" and review.resolved_by == world.admin
    assert Person.objects.filter(national_id=outsider.national_id).count() == 1


def test_member_service_sees_the_review_and_the_author_does_not(client, world):
    from django.urls import reverse

    from tillit.registry import services

    outsider = world.b.members[1][0]
    Person.objects.filter(pk=outsider.pk).update(birth_date="1980-05-05")
    services.create_person({"first_name": outsider.first_name, "last_name": outsider.last_name,
                            "birth_date": "1980-05-05"}, actor=world.a.staff)
    client.force_login(world.a.rep)
    assert "Possible duplicates" not in client.get(reverse("people")).content.decode()
    assert client.get(reverse("duplicate_reviews")).status_code == 404
    client.force_login(world.admin)
    page = client.get(reverse("duplicate_reviews")).content.decode()
    assert outsider.full_name in page and "Compare and merge" in page
    review = DuplicateReview.objects.get()
    client.post(reverse("duplicate_review_dismiss", args=[review.pk]))
    review.refresh_from_db()
    assert review.outcome == "distinct" and review.resolved_by == world.admin
