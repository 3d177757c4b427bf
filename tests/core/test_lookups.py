"""`field__among` answers exactly what `field__in` answers, for text, integer, foreign-key and date columns, on
both databases (the suite runs on each)."""

import datetime

import pytest

from tillit.registry.models import Membership, Person

pytestmark = pytest.mark.django_db


def test_among_matches_in_for_every_kind_of_column(world):
    people = list(Person.objects.order_by("pk"))
    assert len(people) > 4
    picked = people[::2]
    for field, values in [
        ("email", [p.email for p in picked] + ["nobody@example.invalid", "o'brien@example.no"]),
        ("pk", [p.pk for p in picked] + [10**12]),
        ("national_id", [p.national_id for p in picked if p.national_id] + ["1' OR '1'='1"]),
        ("birth_date", [p.birth_date for p in picked if p.birth_date] + [datetime.date(1801, 1, 1)]),
    ]:
        got = set(Person.objects.filter(**{f"{field}__among": values}).values_list("pk", flat=True))
        expected = set(Person.objects.filter(**{f"{field}__in": values}).values_list("pk", flat=True))
        assert got == expected, field
        assert got, field
    persons = [p.pk for p in picked]
    assert set(Membership.objects.filter(person_id__among=persons).values_list("pk", flat=True)) == set(
        Membership.objects.filter(person_id__in=persons).values_list("pk", flat=True))


def test_among_an_empty_list_matches_nothing(world):
    assert not Person.objects.filter(pk__among=[]).exists()
    assert not Person.objects.filter(email__among=set()).exists()
