"""Importing people, memberships and employments from CSV or XLSX.

One pass over the file, in one transaction: each batch of rows is validated (format, lookups,
duplicates in the file, matching to the register) and written. A bad row stops the writing but
not the checking, so every error is named, and what was written is rolled back: nothing changes
(with `skip_invalid`, the good rows are written and the bad ones returned). Rows are matched to
existing people by national id, then member number, so re-importing a file changes nothing.
"""

import collections
import csv
import dataclasses
import io
import itertools
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tillit.core.bulk import insert_dicts
from tillit.core.models import AuditEntry
from tillit.core.scopes import EDIT, IMPORT, scope_for
from tillit.registry.models import (
    DuplicateReview,
    Employer,
    Employment,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    MembershipType,
    OrgUnit,
    Person,
)
from tillit.registry.services import PERSON_AUDIT_FIELDS, allocate_member_numbers, clean_employment
from tillit.registry.validation import PERSON_FIELDS, Errors, clean_person, parse_date

FIELDS = [f for f in PERSON_FIELDS if f != "unit"] + [
    "member_number", "membership_type", "branch", "joined_on",
    "workplace", "employment_starts_on", "employment_ends_on", "position", "percentage", "payroll_deduction",
]
BATCH = 2000


class ImportFileError(Exception):
    """The file itself cannot be read (format, encoding, header)."""


@dataclasses.dataclass
class RowError:
    row: int
    column: str
    value: str
    message: str


@dataclasses.dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    memberships_created: int = 0
    employments_created: int = 0
    rejected: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)
    applied: bool = False
    reject_rows: list[dict] = dataclasses.field(default_factory=list)
    header: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self):
        data = dataclasses.asdict(self)
        data.pop("reject_rows")
        data.pop("header")
        return data

    def reject_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=[*self.header, "error"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(self.reject_rows)
        return out.getvalue()


def parse_mapping(text: str) -> dict[str, str]:
    """`column in file = tillit field` per line (or comma-separated)."""
    mapping = {}
    for part in (text or "").replace(",", "\n").splitlines():
        if not part.strip():
            continue
        if "=" not in part:
            raise ImportFileError(_("Mapping “%(line)s” should read: column = field.") % {"line": part.strip()})
        column, field = (s.strip() for s in part.split("=", 1))
        if field not in FIELDS:
            raise ImportFileError(_("Unknown Tillit field “%(field)s” in the mapping. Known fields: %(known)s.")
                                  % {"field": field, "known": ", ".join(FIELDS)})
        mapping[column] = field
    return mapping


def read_rows(path: Path, filename: str = "") -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """The header and an iterator of (row number, {column: value}) for a CSV or XLSX file."""
    name = (filename or path.name).lower()
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if name.endswith(".xlsx") or magic == b"PK\x03\x04":
        return _read_xlsx(path)
    return _read_csv(path)


def _read_csv(path: Path):
    try:
        with open(path, encoding="utf-8-sig") as fh:
            sample = fh.read(64 * 1024)
    except UnicodeDecodeError:
        raise ImportFileError(_("The file is not UTF-8 text. Save it as CSV UTF-8 or XLSX.")) from None
    if not sample.strip():
        raise ImportFileError(_("The file is empty."))
    delimiter = max([",", ";", "\t"], key=lambda d: sample.splitlines()[0].count(d))
    fh = open(path, encoding="utf-8-sig", newline="")  # closed when the iterator ends
    reader = csv.reader(fh, delimiter=delimiter)
    header = [h.strip() for h in next(reader)]

    def rows():
        try:
            for number, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue
                yield number, dict(zip(header, values, strict=False))
        except UnicodeDecodeError:
            raise ImportFileError(_("The file is not UTF-8 text. Save it as CSV UTF-8 or XLSX.")) from None
        finally:
            fh.close()

    return header, rows()


def _read_xlsx(path: Path):
    from tillit.core.sheets import open_workbook, rows_present

    try:
        book = open_workbook(path)
    except Exception:  # any parse failure means the same to the user
        raise ImportFileError(_("The file could not be read as an XLSX workbook.")) from None
    it = rows_present(book.worksheets[0])
    try:
        _first, values = next(it)
        header = [str(h).strip() if h is not None else "" for h in values]
    except StopIteration:
        raise ImportFileError(_("The file is empty.")) from None

    def rows():
        try:
            for number, values in it:
                yield number, {h: ("" if v is None else v) for h, v in zip(header, values, strict=False)}
        finally:
            book.close()

    return header, rows()


class _Lookups:
    """Reference data resolved once per import: types, branches and workplaces in the actor's scope."""

    def __init__(self, actor):
        self.types = {t.code: t for t in MembershipType.objects.all()}
        self.scope = scope_for(actor, EDIT)
        self.branches = {}
        for unit in OrgUnit.objects.all():
            if self.scope.covers_node("org", unit.path):
                self.branches[str(unit.pk)] = unit
                if unit.code:
                    self.branches[unit.code] = unit
        self._workplaces = {}

    def load_workplaces(self, keys):
        """Resolve a batch's workplace ids in one query; ones outside the scope resolve to None."""
        wanted = {str(k).strip() for k in keys} - set(self._workplaces)
        ids = [int(k) for k in wanted if k.isdigit()]
        found = {str(node.pk): node for node in Employer.objects.filter(pk__among=ids).select_related("region")}
        for key in wanted:
            node = found.get(key)
            ok = node is not None and node.kind == Employer.Kind.WORKPLACE and node.in_scope(self.scope)
            self._workplaces[key] = node if ok else None

    def workplace(self, key: str):
        key = str(key).strip()
        if key not in self._workplaces:
            self.load_workplaces([key])
        return self._workplaces[key]


def _clean_row(raw: dict, mapping: dict, lookups: _Lookups, number: int) -> tuple[dict, list[RowError]]:
    data = {}
    columns = {}
    for column, value in raw.items():
        field = mapping.get(column, column if column in FIELDS else None)
        if field:
            data[field] = value if not isinstance(value, str) else value.strip()
            columns[field] = column
    errors = Errors()
    person = clean_person({k: data.get(k) for k in PERSON_FIELDS if k != "unit"}, errors=errors)
    person.pop("unit", None)
    row = {"person": person, "member_number": str(data.get("member_number") or "").strip(), "membership": None,
           "employment": None}
    if data.get("membership_type") or data.get("branch") or data.get("joined_on"):
        mtype = lookups.types.get(str(data.get("membership_type") or "").strip())
        if mtype is None:
            errors.add("membership_type", _("Unknown membership type. Known: %(known)s.")
                       % {"known": ", ".join(lookups.types)})
        branch = lookups.branches.get(str(data.get("branch") or "").strip())
        if branch is None:
            errors.add("branch", _("Unknown org unit, or outside your scope."))
        joined = parse_date(data.get("joined_on"), "joined_on", errors)
        if joined is None and "joined_on" not in errors.by_field:
            errors.add("joined_on", _("This field is required with a membership."))
        row["membership"] = {"membership_type": mtype, "branch": branch, "joined_on": joined}
    if data.get("workplace"):
        workplace = lookups.workplace(data["workplace"])
        if workplace is None:
            errors.add("workplace", _("Unknown workplace, or outside your scope."))
        else:
            try:
                row["employment"] = clean_employment({
                    "workplace": workplace, "starts_on": data.get("employment_starts_on"),
                    "ends_on": data.get("employment_ends_on"), "position": data.get("position"),
                    "percentage": data.get("percentage"), "payroll_deduction": data.get("payroll_deduction")})
            except Exception as exc:  # InvalidInput from the shared validator
                for field, messages in getattr(exc, "field_errors", {}).items():
                    for message in messages:
                        errors.add({"starts_on": "employment_starts_on", "ends_on": "employment_ends_on"}.get(
                            field, field), message)
    row_errors = [RowError(number, columns.get(field, field), str(data.get(field, "")), message)
                  for field, messages in errors.by_field.items() for message in messages]
    return row, row_errors


def _batches(iterator, size=None):
    while batch := list(itertools.islice(iterator, size or BATCH)):
        yield batch


_helper_lookups = None  # what a helper process, forked from the importing one, cleans rows with


def _clean_batch(batch, mapping, lookups):
    return [(number, *_clean_row(raw, mapping, lookups, number)) for number, raw in batch]


def _clean_in_helper(batch, mapping, workplaces):
    _helper_lookups._workplaces.update(workplaces)
    return _clean_batch(batch, mapping, _helper_lookups)


def _cleaned_batches(batches, mapping, lookups):
    """(batch, [(row number, cleaned row, its errors)]) for each batch of the file, in order. When the file has
    more than one batch, a helper process (forked, so it holds the reference data already) cleans each batch
    while the caller matches and writes the one before: the checks run on a second core. The helper never
    touches the database; the batch's workplaces are looked up here and sent with it."""
    global _helper_lookups
    column = next((c for c, f in mapping.items() if f == "workplace"), "workplace")

    def workplaces_of(batch):
        keys = {str(raw[column]).strip() for _n, raw in batch if raw.get(column)}
        lookups.load_workplaces(keys)
        return {k: lookups._workplaces[k] for k in keys}

    first = list(itertools.islice(batches, 2))
    batches = itertools.chain(first, batches)
    if len(first) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for batch in batches:
            workplaces_of(batch)
            yield batch, _clean_batch(batch, mapping, lookups)
        return
    _helper_lookups = lookups
    try:
        with multiprocessing.get_context("fork").Pool(1) as helper:
            waiting = collections.deque()
            for batch in batches:
                waiting.append((batch, helper.apply_async(_clean_in_helper, (batch, mapping, workplaces_of(batch)))))
                if len(waiting) > 1:
                    done, result = waiting.popleft()
                    yield done, result.get()
            for done, result in waiting:
                yield done, result.get()
    finally:
        _helper_lookups = None


def _validate_batch(batch, seen_ids, seen_numbers, actor, created):
    """Duplicates within the file and matching to the register for a cleaned batch (see _cleaned_batches);
    return {row number: cleaned row} and the errors."""
    cleaned, errors = {}, []
    for number, row, row_errors in batch:
        nid = row["person"].get("national_id")
        if nid:
            if nid in seen_ids:
                row_errors.append(RowError(number, "national_id", nid, _("Same national identity number as row "
                                                                        "%(row)d.") % {"row": seen_ids[nid]}))
            seen_ids.setdefault(nid, number)
        email = row["person"].get("email")
        if email and not nid and not row["member_number"]:
            if email in seen_ids:
                row_errors.append(RowError(number, "email", email, _("Same email as row %(row)d; give the "
                                                                     "national identity number to tell them "
                                                                     "apart.") % {"row": seen_ids[email]}))
            seen_ids.setdefault(email, number)
        if row["member_number"]:
            if row["member_number"] in seen_numbers:
                row_errors.append(RowError(number, "member_number", row["member_number"],
                                           _("Same member number as row %(row)d.")
                                           % {"row": seen_numbers[row["member_number"]]}))
            seen_numbers.setdefault(row["member_number"], number)
        if row_errors:
            errors.extend(row_errors)
        else:
            cleaned[number] = row
    _match_batch(cleaned, errors, actor, created)
    return cleaned, errors


def _match_batch(cleaned: dict, errors: list, actor, created=frozenset()):
    """Attach the existing person to each row; refuse rows that only look like someone already there."""
    ids = [r["person"]["national_id"] for r in cleaned.values() if r["person"].get("national_id")]
    numbers = [r["member_number"] for r in cleaned.values() if r["member_number"]]
    by_id = {p.national_id: p for p in Person.objects.filter(national_id__among=ids, provisional=False)} if ids else {}
    memberships = {m.member_number: m for m in Membership.objects.select_related("person").filter(
        member_number__among=numbers)} if numbers else {}
    unmatched = {}
    for number, row in list(cleaned.items()):
        nid = row["person"].get("national_id")
        person = by_id.get(nid) if nid else None
        membership = memberships.get(row["member_number"])
        if membership and person and membership.person_id != person.pk:
            errors.append(RowError(number, "member_number", row["member_number"],
                                   _("This member number belongs to another person.")))
            del cleaned[number]
            continue
        row["existing"] = person or (membership.person if membership else None)
        row["existing_membership"] = membership
        if row["existing"] is None:
            unmatched[number] = row
    matched = {r["existing"].pk for r in cleaned.values() if r["existing"] is not None}
    editable = set(Person.objects.visible_to(actor, EDIT).filter(pk__among=matched).values_list("pk", flat=True)) \
        if matched else set()
    seen = set(Person.objects.visible_to(actor).filter(pk__among=matched).values_list("pk", flat=True)) \
        if matched else set()
    for number, row in list(cleaned.items()):
        existing = row["existing"]
        if existing is None or existing.pk in editable:
            continue
        if existing.pk not in seen and row["existing_membership"] is None:
            # The national id is held by someone the importer cannot see: the answer must not say so.
            # The row becomes a provisional new person for member service to review (as a registration).
            row["existing"] = None
            row["review"] = [(existing, ["national_id"])]
            unmatched[number] = row
            continue
        errors.append(RowError(number, "national_id", row["person"].get("national_id") or row["member_number"],
                               _("You may not change this person; ask the registry to update them.")))
        del cleaned[number]
    emails = {r["person"]["email"] for r in unmatched.values() if r["person"].get("email")}
    names = {Person.make_search_name(r["person"]["first_name"], r["person"]["last_name"])
             for r in unmatched.values() if r["person"].get("birth_date")}
    like = {}
    if emails:
        for pk, email in Person.objects.current().filter(email__among=emails).values_list("pk", "email"):
            if pk not in created:
                like[("email", email)] = pk
    if names:
        births = {r["person"]["birth_date"] for r in unmatched.values() if r["person"].get("birth_date")}
        for pk, name, birth in Person.objects.current().filter(search_name__among=names, birth_date__among=births
                                                               ).values_list("pk", "search_name", "birth_date"):
            if pk not in created:
                like[("name", name, birth)] = pk
    hits = {like.get(("email", r["person"].get("email"))) or like.get(
        ("name", Person.make_search_name(r["person"]["first_name"], r["person"]["last_name"]),
         r["person"].get("birth_date"))) for r in unmatched.values()} - {None}
    visible = set(Person.objects.visible_to(actor).filter(pk__among=hits).values_list("pk", flat=True)) \
        if hits else set()
    for number, row in unmatched.items():
        p = row["person"]
        hit = like.get(("email", p.get("email"))) or like.get(
            ("name", Person.make_search_name(p["first_name"], p["last_name"]), p.get("birth_date")))
        if hit and hit not in visible:  # a look-alike out of sight: imported, and reviewed by member service
            row.setdefault("review", []).append((Person(pk=hit), ["email_or_name"]))
        elif hit:
            errors.append(RowError(number, "national_id", p.get("national_id") or "", _(
                "Looks like person #%(pk)d already registered (same email, or name and birth date). Add the "
                "national identity number or member number to match, or register the person by hand.")
                % {"pk": hit}))
            del cleaned[number]


def count_rows(path: Path, filename: str = "") -> int:
    """About how many data rows the file has (lines after the header; an XLSX sheet's declared extent, never more
    than one row per 10 bytes of the file, since the extent is the file's word only): for progress."""
    name = (filename or path.name).lower()
    with open(path, "rb") as fh:
        if name.endswith(".xlsx") or fh.read(4) == b"PK\x03\x04":
            import openpyxl

            try:
                book = openpyxl.load_workbook(path, read_only=True)
                rows = max((book.worksheets[0].max_row or 1) - 1, 0)
                book.close()
                return min(rows, path.stat().st_size // 10)
            except Exception:  # read_rows reports an unreadable file properly
                return 0
        fh.seek(0)
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return max(lines - 1, 0)


def run_import(path: Path, *, actor, mapping: dict | None = None, skip_invalid: bool = False,
               filename: str = "", progress=None) -> ImportResult:
    """Import the file; all-or-nothing unless `skip_invalid`. Returns counts and every row error.

    One pass, in one transaction: each batch is checked (format, lookups, duplicates, matching) and written at
    once. The first bad row stops the writing (unless `skip_invalid`) but not the checking, so every error is
    named; at the end what was written is rolled back. `progress(done, total, stage)` is called after each
    batch: stage "writing" while rows are saved, "checking" once a bad row has stopped the saving."""
    if not scope_for(actor, IMPORT).everything and scope_for(actor, IMPORT).empty:
        raise ImportFileError(_("You are not allowed to import."))
    mapping = mapping or {}
    result = ImportResult()
    header, rows = read_rows(path, filename)
    result.header = header
    missing = [c for c in mapping if c not in header]
    if missing:
        raise ImportFileError(_("The mapping names columns the file does not have: %(cols)s.")
                              % {"cols": ", ".join(missing)})
    mapped = {mapping.get(h, h) for h in header}
    for required in ("first_name", "last_name"):
        if required not in mapped:
            raise ImportFileError(_("The file has no column for the field “%(field)s”.") % {"field": required})
    lookups = _Lookups(actor)
    seen_ids, seen_numbers = {}, {}
    created = set()  # people this import made: a later row is never held to look like one of them
    total = count_rows(path, filename) if progress else 0
    report = progress or (lambda done, total=None, stage="": None)
    report(0, total, "writing")
    try:
        with transaction.atomic():
            writing = True
            for batch, checked in _cleaned_batches(_batches(rows), mapping, lookups):
                result.rows += len(batch)
                cleaned, errors = _validate_batch(checked, seen_ids, seen_numbers, actor, created)
                result.errors.extend(errors)
                if errors and skip_invalid:
                    by_row = {}
                    for e in errors:
                        by_row.setdefault(e.row, []).append(f"{e.column}: {e.message}")
                    result.reject_rows.extend({**raw, "error": "; ".join(by_row[n])} for n, raw in batch
                                              if n in by_row)
                writing = writing and (skip_invalid or not errors)
                if writing:
                    _write_batch(cleaned, actor, result, created)
                report(result.rows, max(total, result.rows), "writing" if writing else "checking")
            result.rejected = len({e.row for e in result.errors})
            if not writing:
                transaction.set_rollback(True)
    except IntegrityError:
        # Someone registered one of these people (or took a member number) while the import ran.
        raise ImportFileError(_("Someone changed the register while the file was imported (a national identity "
                                "number or member number in the file was taken meanwhile). Nothing was "
                                "imported: run the import again.")) from None
    if not writing:
        result.created = result.updated = result.unchanged = 0
        result.memberships_created = result.employments_created = 0
        result.reject_rows = []
        return result
    result.applied = True
    return result


def _audit_row(now, actor, action, object_type, object_id, person_id, changes):
    return {"at": now, "actor_id": actor.pk if actor else None, "channel": "import", "action": action,
            "object_type": object_type, "object_id": object_id, "person_id": person_id, "changes": changes}


def _write_batch(cleaned: dict, actor, result: ImportResult, created: set):
    """Write one batch of matched rows: plain row inserts (COPY on PostgreSQL), audited."""
    now = timezone.now()
    audits, new_people = [], []
    for row in cleaned.values():
        values = row["person"]
        person = row["existing"]
        if person is None:
            new = {**values, "search_name": Person.make_search_name(values["first_name"], values["last_name"]),
                   "created_at": now, "updated_at": now,
                   "provisional": any("national_id" in r for _p, r in row.get("review", []))}
            new_people.append(new)
            row["new_person"] = new
            continue
        row["person_id"] = person.pk
        changes = {}
        for field, value in values.items():
            old = getattr(person, field)
            if value not in (None, "") and old != value:
                changes[field] = [str(old) if old is not None else None, str(value)]
                setattr(person, field, value)
        if changes:
            person.search_name = Person.make_search_name(person.first_name, person.last_name)
            person.version += 1
            person.updated_at = now
            person.save(update_fields=[*changes, "search_name", "version", "updated_at"])
            audits.append(_audit_row(now, actor, "registry.person.changed", "registry.person", person.pk, person.pk,
                                     changes))
            result.updated += 1
        else:
            result.unchanged += 1
    insert_dicts(Person, new_people)
    result.created += len(new_people)
    for row in cleaned.values():
        if "new_person" in row:
            new = row.pop("new_person")
            row["person_id"] = new["id"]
            created.add(new["id"])
            audits.append(_audit_row(now, actor, "registry.person.created", "registry.person", new["id"], new["id"],
                                     {f: [None, str(new[f])] for f in PERSON_AUDIT_FIELDS
                                      if new.get(f) not in (None, "")}))
    reviews = [DuplicateReview(person_id=row["person_id"], matches=[[p.pk, r] for p, r in row["review"]],
                               created_by=actor if getattr(actor, "pk", None) else None, created_at=now)
               for row in cleaned.values() if row.get("review")]
    DuplicateReview.objects.bulk_create(reviews)
    _write_memberships(cleaned, actor, now, audits, result)
    _write_employments(cleaned, actor, now, audits, result)
    insert_dicts(AuditEntry, audits)


def _write_memberships(cleaned, actor, now, audits, result):
    wanted = [r for r in cleaned.values() if r["membership"] and not r["existing_membership"]]
    if not wanted:
        return
    # Only people who were there before the import can hold a membership already.
    known = [r["person_id"] for r in wanted if r["existing"] is not None]
    in_force = set(Membership.objects.filter(person_id__among=known, ends_on__isnull=True)
                   .values_list("person_id", flat=True)) if known else set()
    wanted = [r for r in wanted if r["person_id"] not in in_force]
    numbers = iter(allocate_member_numbers(sum(1 for r in wanted if not r["member_number"])))
    memberships = insert_dicts(Membership, [{
        "person_id": r["person_id"], "member_number": r["member_number"] or next(numbers),
        "status": MembershipStatus.ACTIVE, "membership_type_id": r["membership"]["membership_type"].pk,
        "branch_id": r["membership"]["branch"].pk, "joined_on": r["membership"]["joined_on"]} for r in wanted])
    insert_dicts(MembershipPeriod, [{"membership_id": m["id"], "status": MembershipStatus.ACTIVE,
                                     "valid_from": m["joined_on"]} for m in memberships])
    for m in memberships:
        audits.append(_audit_row(now, actor, "registry.membership.created", "registry.membership", m["id"],
                                 m["person_id"], {"member_number": [None, m["member_number"]],
                                                  "branch_id": [None, m["branch_id"]],
                                                  "joined_on": [None, m["joined_on"].isoformat()]}))
    result.memberships_created += len(memberships)


def _write_employments(cleaned, actor, now, audits, result):
    wanted = [r for r in cleaned.values() if r["employment"]]
    if not wanted:
        return
    known = [r["person_id"] for r in wanted if r["existing"] is not None]  # only they can hold one already
    existing = set(Employment.objects.filter(person_id__among=known).values_list(
        "person_id", "workplace_id", "starts_on")) if known else set()
    rows = []
    for r in wanted:
        e = dict(r["employment"])
        e["workplace_id"] = e.pop("workplace").pk
        if (r["person_id"], e["workplace_id"], e["starts_on"]) not in existing:
            rows.append({**e, "person_id": r["person_id"]})
    insert_dicts(Employment, rows)
    for e in rows:
        audits.append(_audit_row(now, actor, "registry.employment.created", "registry.employment", e["id"],
                                 e["person_id"], {"workplace_id": [None, e["workplace_id"]],
                                                  "starts_on": [None, e["starts_on"].isoformat()]}))
    result.employments_created += len(rows)


# --- in the background -------------------------------------------------------------------------------------

ERRORS_KEPT = 1000  # row errors kept with the job for its result page; the rejected-rows file has them all


def rejects_path(job) -> Path:
    from tillit.core.jobs import job_dir

    return job_dir() / f"import-{job.pk}-rejected.csv"


def _import_work(job, progress):
    """An import job (registry.views.import_upload): progress by rows, saving until a bad row stops it."""
    params = job.params
    path = Path(params["path"])
    try:
        result = run_import(path, actor=job.user, mapping=params.get("mapping") or {},
                            skip_invalid=bool(params.get("skip_invalid")), filename=params.get("filename", ""),
                            progress=progress)
    finally:
        path.unlink(missing_ok=True)
    data = result.as_dict()
    data["errors_total"] = len(result.errors)
    data["errors"] = data["errors"][:ERRORS_KEPT]
    if result.applied and result.reject_rows:
        rejects_path(job).write_text(result.reject_csv(), encoding="utf-8")
        data["rejects_file"] = True
    return data


@task()
def import_task(job_id: int) -> str:
    from tillit.core import jobs

    job = jobs.run(job_id, _import_work, known=(ImportFileError,))
    return job.status if job else "gone"
