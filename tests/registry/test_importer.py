import csv
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from tests import factories
from tillit.core.models import AuditEntry
from tillit.registry.importer import ImportFileError, parse_mapping, run_import
from tillit.registry.models import Employment, Membership, Person

pytestmark = pytest.mark.django_db


def write_csv(tmp_path, rows, name="people.csv", delimiter=","):
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerows(rows)
    return path


def good_rows(world, n=3):
    header = ["first_name", "last_name", "national_id", "email", "membership_type", "branch", "joined_on",
              "workplace", "employment_starts_on", "payroll_deduction"]
    rows = [header]
    for i in range(n):
        rows.append([f"Imp{i}", "Ortert", factories.national_id(), f"imp{i}@example.no", "ordinary",
                     str(world.a.branch.pk), "01.02.2024", str(world.a.workplace.pk), "2023-05-01", "ja"])
    return rows


def test_a_clean_file_imports_people_memberships_and_employments_with_audit(world, tmp_path):
    factories.membership_type()
    path = write_csv(tmp_path, good_rows(world), delimiter=";")
    result = run_import(path, actor=world.a.staff)
    assert (result.applied, result.created, result.memberships_created, result.employments_created) == (
        True, 3, 3, 3)
    person = Person.objects.get(email="imp0@example.no")
    assert person.memberships.get().branch == world.a.branch
    assert person.employments.get().payroll_deduction is True
    assert AuditEntry.objects.filter(person_id=person.pk, channel="import").count() == 3


def test_reimporting_the_same_file_changes_nothing(world, tmp_path):
    factories.membership_type()
    path = write_csv(tmp_path, good_rows(world))
    run_import(path, actor=world.a.staff)
    counts = (Person.objects.count(), Membership.objects.count(), Employment.objects.count(),
              AuditEntry.objects.count())
    result = run_import(path, actor=world.a.staff)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert counts == (Person.objects.count(), Membership.objects.count(), Employment.objects.count(),
                      AuditEntry.objects.count())


def test_one_bad_row_means_nothing_changes_and_every_error_is_named(world, tmp_path):
    factories.membership_type()
    rows = good_rows(world)
    rows.append(["", "Mangler", "12345678901", "nope", "gold", "999999", "2024-13-01", "", "", ""])
    rows.append(["Dup", "Licate", rows[1][2], "", "", "", "", "", "", ""])
    before = Person.objects.count()
    result = run_import(write_csv(tmp_path, rows), actor=world.a.staff)
    assert not result.applied and Person.objects.count() == before
    found = {(e.row, e.column) for e in result.errors}
    assert {(5, "first_name"), (5, "national_id"), (5, "email"), (5, "membership_type"), (5, "branch"),
            (5, "joined_on"), (6, "national_id")} <= found
    assert all(e.message for e in result.errors)
    assert result.rejected == 2


def test_skip_invalid_imports_the_good_rows_and_returns_the_bad_ones(world, tmp_path):
    factories.membership_type()
    rows = good_rows(world, 2)
    rows.append(["Bad", "Row", "01010100000", "", "", "", "", "", "", ""])
    result = run_import(write_csv(tmp_path, rows), actor=world.a.staff, skip_invalid=True)
    assert result.applied and result.created == 2 and result.rejected == 1
    rejects = list(csv.DictReader(io.StringIO(result.reject_csv())))
    assert [r["first_name"] for r in rejects] == ["Bad"] and "national_id" in rejects[0]["error"]


def test_a_column_mapping_reads_the_files_own_headings(world, tmp_path):
    path = write_csv(tmp_path, [["Fornavn", "Etternavn", "E-post"], ["Åse", "Øvrebø", "ase@example.no"]])
    result = run_import(path, actor=world.a.staff, mapping=parse_mapping("Fornavn=first_name\nEtternavn=last_name,"
                                                                         "E-post=email"))
    assert result.created == 1 and Person.objects.filter(last_name="Øvrebø").exists()
    with pytest.raises(ImportFileError, match="unknown_field"):
        parse_mapping("Fornavn=unknown_field")


def test_xlsx_files_import_like_csv(world, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["first_name", "last_name", "birth_date", "phone", "country"])
    import datetime

    sheet.append(["Sven", "Svensson", datetime.datetime(1970, 1, 2), "070-123 45 67", "SE"])
    path = tmp_path / "people.xlsx"
    book.save(path)
    result = run_import(path, actor=world.a.staff)
    assert result.created == 1
    assert Person.objects.get(last_name="Svensson").birth_date == datetime.date(1970, 1, 2)


def test_a_row_matching_a_person_outside_the_importers_scope_is_answered_like_a_new_person(world, tmp_path):
    from tillit.registry.models import DuplicateReview, Person

    theirs = world.b.members[1][0]
    taken = run_import(write_csv(tmp_path, [["first_name", "last_name", "national_id", "city"],
                                            ["X", "Y", theirs.national_id, "Narvik"]], name="a.csv"),
                       actor=world.a.staff)
    free = run_import(write_csv(tmp_path, [["first_name", "last_name", "national_id", "city"],
                                           ["Z", "W", factories.national_id(), "Narvik"]], name="b.csv"),
                      actor=world.a.staff)
    assert (taken.applied, taken.created, taken.errors) == (free.applied, free.created, free.errors) == (True, 1, [])
    theirs.refresh_from_db()
    assert theirs.city != "Narvik"  # the outsider is not touched
    new = Person.objects.get(national_id=theirs.national_id, provisional=True)
    assert DuplicateReview.objects.get(person=new).matches == [[theirs.pk, ["national_id"]]]


def test_a_row_looking_like_an_outsider_is_imported_and_reviewed_not_refused(world, tmp_path):
    from tillit.registry.models import DuplicateReview

    theirs = world.b.members[1][0]
    result = run_import(write_csv(tmp_path, [["first_name", "last_name", "email"],
                                             ["Kari", "Nord", theirs.email]]), actor=world.a.staff)
    assert result.applied and result.created == 1 and not result.errors
    assert DuplicateReview.objects.get().matches[0][0] == theirs.pk


def test_an_unreadable_file_is_refused_with_a_message(world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ImportFileError):
        run_import(path, actor=world.a.staff)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ImportFileError, match="empty"):
        run_import(empty, actor=world.a.staff)


def test_the_import_command_writes_a_reject_file(world, tmp_path):
    path = write_csv(tmp_path, [["first_name", "last_name", "email"], ["A", "B", "a@example.no"], ["", "C", ""]])
    with pytest.raises(CommandError, match="Nothing imported"):
        call_command("import", str(path), user=world.admin.username)
    reject = tmp_path / "rejects.csv"
    call_command("import", str(path), user=world.admin.username, skip_invalid=True, reject_file=reject)
    assert "first_name" in reject.read_text() and Person.objects.filter(email="a@example.no").exists()


def test_a_bad_row_in_a_later_batch_leaves_nothing_written(world, tmp_path, monkeypatch):
    from tillit.registry import importer

    monkeypatch.setattr(importer, "BATCH", 2)  # the good rows' batches are written before the bad one is read
    factories.membership_type()
    rows = good_rows(world, 5)
    rows.append(["Bad", "Row", "01010100000", "", "", "", "", "", "", ""])
    counts = (Person.objects.count(), Membership.objects.count(), Employment.objects.count(),
              AuditEntry.objects.count())
    result = run_import(write_csv(tmp_path, rows), actor=world.a.staff)
    assert not result.applied and result.rejected == 1 and [e.row for e in result.errors] == [7]
    assert (result.created, result.memberships_created, result.employments_created) == (0, 0, 0)
    assert counts == (Person.objects.count(), Membership.objects.count(), Employment.objects.count(),
                      AuditEntry.objects.count())
    # With skip_invalid the same file writes its good rows.
    result = run_import(write_csv(tmp_path, rows), actor=world.a.staff, skip_invalid=True)
    assert result.applied and result.created == 5 and result.rejected == 1


def test_rows_are_not_held_to_look_like_people_the_same_file_made(world, tmp_path, monkeypatch):
    from tillit.registry import importer

    monkeypatch.setattr(importer, "BATCH", 1)
    header = ["first_name", "last_name", "national_id", "email"]
    rows = [header, ["Ola", "Tvilling", factories.national_id(), "tvilling@example.no"],
            ["Per", "Tvilling", factories.national_id(), "tvilling@example.no"]]
    result = run_import(write_csv(tmp_path, rows), actor=world.admin)
    assert (result.applied, result.created, result.errors) == (True, 2, [])
    # A later file's look-alike of them is still refused.
    again = [header, ["Kari", "Tvilling", factories.national_id(), "tvilling@example.no"]]
    result = run_import(write_csv(tmp_path, again, name="again.csv"), actor=world.admin)
    assert not result.applied and result.errors[0].message.startswith("Looks like person")


def test_imported_people_are_found_by_a_misspelt_name(world, tmp_path):
    # On SQLite the rows reach the full-text index through the staged insert (core.bulk); on PostgreSQL
    # through the trigram index.
    from tillit.registry.search import search_people

    rows = [["first_name", "last_name", "national_id"]] + [
        [f"Ingvild{i}", "Fjellheim", factories.national_id()] for i in range(3)]
    assert run_import(write_csv(tmp_path, rows), actor=world.a.staff).created == 3
    found = search_people(Person.objects.visible_to(world.admin), "fjelhleim")
    assert sorted(p.first_name for p in found) == ["Ingvild0", "Ingvild1", "Ingvild2"]


@pytest.mark.django_db(transaction=True)
def test_a_person_registered_elsewhere_during_the_import_is_a_clear_error_and_nothing_is_written(
        world, tmp_path, monkeypatch):
    # Another session registers a national id of the file's second batch after the import has checked that
    # batch against the register and before it writes it: the import's insert waits on the other's uncommitted
    # row, then meets the taken key. SQLite lets one writer at a time in, so there the race cannot happen.
    import threading

    from django.db import connection, transaction

    from tillit.registry import importer

    if connection.vendor != "postgresql":
        pytest.skip("needs two concurrent writers (PostgreSQL)")
    monkeypatch.setattr(importer, "BATCH", 2)
    factories.membership_type()
    rows = good_rows(world, 4)
    taken = rows[3][2]  # the third data row: the second batch
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        importing = cursor.fetchone()[0]
    inserted, failures = threading.Event(), []

    def other_session():
        from django.db import connection as own

        try:
            with transaction.atomic():
                factories.person(national_id=taken, first_name="Elsewhere")
                inserted.set()
                with own.cursor() as cursor:  # commit only once the import waits on this row
                    for _ in range(200):
                        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [importing])
                        if cursor.fetchone()[0] == "Lock":
                            break
                        threading.Event().wait(0.05)
                    else:
                        failures.append("the import never waited on the other session's row")
        except Exception as exc:  # reported by the test below
            failures.append(repr(exc))
            inserted.set()
        finally:
            own.close()

    other = threading.Thread(target=other_session)

    def progress(done, total, stage):
        if done == 2 and not other.is_alive() and not inserted.is_set():
            other.start()
            inserted.wait(10)

    counts = (Person.objects.count(), Membership.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ImportFileError, match="changed the register while the file was imported"):
        run_import(write_csv(tmp_path, rows), actor=world.a.staff, progress=progress)
    other.join(15)
    assert failures == []
    # Only the other session's person (and its audit entry) were written; none of the file's rows.
    assert Person.objects.filter(national_id=taken).get().first_name == "Elsewhere"
    assert (Person.objects.count(), Membership.objects.count()) == (counts[0] + 1, counts[1])
    assert not Person.objects.filter(email__startswith="imp").exists()
