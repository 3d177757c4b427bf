"""The one declaration of a person's fields (registry.fields) and the lists it drives."""

import datetime

from tests import factories
from tillit.api.registry import PersonIn, PersonOut
from tillit.core.models import AuditEntry
from tillit.portal.export import data_of
from tillit.registry import fields, services
from tillit.registry.forms import PersonForm
from tillit.registry.models import Person


def test_every_field_of_a_person_is_declared_once():
    model_fields = {f.name for f in Person._meta.concrete_fields}
    declared = [f.name for f in fields.PERSON]
    assert len(declared) == len(set(declared))
    assert not set(declared) & set(fields.BOOKKEEPING)
    assert model_fields == set(declared) | set(fields.BOOKKEEPING), "declare the new field in registry.fields"


def test_the_api_form_and_export_read_what_is_declared(world):
    assert set(PersonOut.model_fields) == {"id", "version", *fields.SHOWN}
    entered = {f for f in fields.ENTERED if f not in fields.FOREIGN_KEYS}
    assert set(PersonIn.model_fields) == entered
    assert entered <= set(PersonForm.base_fields)
    person = world.a.members[0][0]
    assert set(data_of(person.user or world.admin, person)["person"]) == set(fields.SHOWN)


def _filled(**extra):
    """A person with a value in every identifying field."""
    return factories.person(birth_date=datetime.date(1971, 4, 5), national_id=factories.national_id(
        datetime.date(1971, 4, 5)), phone="+4791234567", address_line="Storgata 12", postal_code="0155",
        city="Oslo", **extra)


def test_erasure_leaves_no_identifying_value_on_the_row_or_in_the_trail(world):
    person = _filled()
    services.update_person(person, {"city": "Bergen"}, actor=world.admin)
    before = {f: getattr(person, f) for f in fields.IDENTIFYING}
    assert all(before.values())
    services.anonymise_person(person, actor=world.admin, reason="asked to be forgotten")
    person.refresh_from_db()
    for field, value in before.items():
        assert getattr(person, field) != value, field
    trail = str(list(AuditEntry.objects.filter(person_id=person.pk).values_list("changes", flat=True)))
    for value in before.values():
        shown = value.isoformat() if hasattr(value, "isoformat") else str(value)
        assert shown not in trail
    assert "Oslo" not in trail


def test_a_merge_fills_every_merged_field_the_survivor_lacks(world):
    survivor = factories.person(email="")
    duplicate = _filled(unit=world.a.branch)
    services.merge_persons(survivor, duplicate, actor=world.admin)
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    for field in fields.MERGED:
        assert getattr(survivor, field) not in (None, ""), field
    assert duplicate.national_id is None and duplicate.merged_into_id == survivor.pk
