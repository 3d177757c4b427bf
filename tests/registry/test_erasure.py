"""Erasure erases: after `anonymise_person`, none of the person's values (as they are and as they were) is in any
text or JSON column of any table, nor found by the one search, except where docs/operations.md says it stays."""

import json

import pytest
from django.apps import apps
from django.db import models

from tests import factories
from tillit.registry import services

pytestmark = pytest.mark.django_db

# Kept on purpose (docs/operations.md, "Erasure"): deduction notices as sent to the payroll office, for the
# bookkeeping period the accounting acts ask.
KEPT = {"dues.deductionnotice"}

OLD = {"first_name": "Quorvald", "last_name": "Zentrifax", "email": "qz.gammel@example.no"}
NEW = {"email": "quorvald.zentrifax@example.no", "phone": "+4791234567", "address_line": "Zentrifaxveien 12",
       "city": "Quorbyen"}


def _every_text(scrub_values):
    """(table, row id, column, value) of every text or JSON column of every Tillit table holding an erased value."""
    hits = []
    wanted = [v.lower() for v in scrub_values]
    for model in apps.get_models():
        label = model._meta.label_lower
        if not model.__module__.startswith("tillit") or label in KEPT:
            continue
        fields = [f for f in model._meta.concrete_fields
                  if isinstance(f, (models.CharField, models.TextField, models.JSONField))]
        if not fields:
            continue
        for row in model.objects.values("pk", *[f.attname for f in fields]):
            for field in fields:
                value = row[field.attname]
                text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
                for erased in wanted:
                    if erased in (text or "").lower():
                        hits.append((label, row["pk"], field.name, erased))
    return hits


def test_an_erased_person_is_nowhere_but_where_the_law_keeps_them(world, tmp_path, settings, smtp):
    from django.core.files.base import ContentFile

    from tillit.cases.services import add_note
    from tillit.documents.services import create_document
    from tillit.documents.text import extract_text
    from tillit.messaging.inbound import ingest_email
    from tillit.messaging.services import send_case_message
    from tillit.portal.services import submit_anonymous
    from tillit.registry.erasure import Scrub, values_of
    from tillit.registry.importer import run_import
    from tillit.registry.models import Person
    from tillit.workspace.search import search_all

    # registered by an import, then changed: their old email is in the history
    national_id = factories.national_id()
    upload = tmp_path / "people.csv"
    upload.write_text(f"first_name,last_name,email,national_id\n{OLD['first_name']},{OLD['last_name']},"
                      f"{OLD['email']},{national_id}\n")
    run_import(upload, actor=world.admin)
    person = Person.objects.get(national_id=national_id)
    person = services.update_person(person, NEW, actor=world.admin)
    login = factories.user(username="quorvald.zentrifax", email=NEW["email"], first_name=OLD["first_name"],
                           last_name=OLD["last_name"])
    services.link_user(person, login, actor=None)
    services.add_membership(person, membership_type=factories.membership_type(), branch=world.a.branch,
                            joined_on=factories.datetime.date(2024, 1, 1), actor=None)
    # a case about them with notes and mail both ways, a document with their national id in its text
    case = factories.case(world.a, title=f"Spørsmål fra {OLD['first_name']} {OLD['last_name']}", subjects=[person])
    add_note(case, f"Ringte {NEW['phone']}, fnr {national_id}", actor=world.a.staff)
    send_case_message(case, body=f"Hei {OLD['first_name']}!", actor=world.a.staff)
    ingest_email((f"From: {OLD['first_name']} {OLD['last_name']} <{NEW['email']}>\r\nTo: post@tillit.example\r\n"
                  f"Subject: [{case.number}] Svar fra {OLD['last_name']}\r\n\r\nMvh {OLD['first_name']}, "
                  f"{NEW['address_line']}\r\n").encode())
    document = create_document(file=ContentFile(f"Notat om {OLD['last_name']}, {national_id}".encode()),
                               filename=f"{OLD['last_name']}.txt", unit=world.a.branch, actor=None,
                               channel="system", title=f"Notat {OLD['last_name']}", persons=[person])
    extract_text.call(document.current_id)
    submit_anonymous(factories_service(world), name=f"{OLD['first_name']} {OLD['last_name']}", email=NEW["email"],
                     answers=[{"key": "f_where", "label": "Hvor", "value": NEW["address_line"]}], language="nb",
                     base_url="http://testserver/")
    erased = Scrub(values_of(person)).values
    assert {OLD["last_name"], OLD["email"], NEW["email"], national_id} <= set(erased)
    assert {h[0] for h in _every_text(erased)} >= {  # the person is everywhere before
        "cases.case", "cases.caseevent", "core.auditentry", "core.user", "documents.documentversion",
        "messaging.message", "portal.pendingrequest", "registry.person"}

    services.anonymise_person(person, actor=world.admin, reason=f"Asked by {OLD['first_name']} on the phone")

    assert _every_text(erased) == []
    found = search_all(world.admin, OLD["last_name"])
    assert not any(found.values()), found
    assert not any(search_all(world.admin, national_id).values())
    case.refresh_from_db()
    assert case.number and case.events.count() >= 4  # the case, its steps and its timeline stay, anonymous
    login.refresh_from_db()
    assert not login.is_active and not login.has_usable_password()


def factories_service(world):
    from tillit.portal.models import Service

    return Service.objects.create(case_type=factories.case_type(world.a.region, name="Kontakt"),
                                  titles={"nb": "Kontakt oss"}, audience=Service.Audience.ANYONE)
