"""Every change to the registry: validated, audited in the same transaction, conflict-checked."""

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tillit.core import audit
from tillit.core.errors import ConflictError, DomainError, InvalidInput
from tillit.core.models import Grant
from tillit.core.scopes import VIEW, forget_grants_of, scope_for
from tillit.core.services import grant_access, next_numbers, save_versioned
from tillit.registry import access
from tillit.registry import fields as person_fields
from tillit.registry.identity import parse_org_number
from tillit.registry.models import (
    DuplicateReview,
    Employer,
    Employment,
    LeavePeriod,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    MembershipType,
    OrgUnit,
    Person,
    Role,
    RoleType,
)
from tillit.registry.validation import Errors, clean_line, clean_person, parse_bool, parse_date, parse_decimal

PERSON_AUDIT_FIELDS = person_fields.AUDITED


def _person_values(cleaned: dict) -> dict:
    values = dict(cleaned)
    for key in ("unit", "registered_at"):
        if key in values:
            node = values.pop(key)
            values[f"{key}_id"] = getattr(node, "pk", node)
    return values


# --- trees -------------------------------------------------------------------------------------

@transaction.atomic
def create_org_unit(name: str, kind: str, *, parent: OrgUnit | None = None, code: str = "", country: str = "NO",
                    actor=None, channel: str = "ui") -> OrgUnit:
    """A new org unit under `parent` (a new root when None); audited."""
    if _person(actor):
        access.check(access.may_add_node(actor, parent))
    errors = Errors()
    if kind not in OrgUnit.Kind.values:
        errors.add("kind", _("Unknown kind."))
    if country not in ("NO", "SE"):
        errors.add("country", _("Country must be NO or SE."))
    name = clean_line(name, "name", errors, max_length=200, required=True)
    code = clean_line(code, "code", errors, max_length=20)
    errors.raise_if_any()
    values = {"name": name, "kind": kind, "code": code, "country": country}
    unit = OrgUnit.objects.add_child(parent, values) if parent else OrgUnit.objects.add_root(values)
    audit.record("registry.orgunit.created", unit, actor=actor, channel=channel,
                 changes=audit.snapshot(unit, ["name", "kind", "code", "country", "path"]))
    return unit


@transaction.atomic
def create_employer(name: str, kind: str, *, parent: Employer | None = None, org_number: str = "",
                    country: str = "NO", region: OrgUnit | None = None, address: str = "", actor=None,
                    channel: str = "ui") -> Employer:
    """A group, company or workplace. Companies need a valid organisation number; workplaces a region."""
    if _person(actor):
        access.check(access.may_add_node(actor, parent) and (region is None or access.may_change_node(actor, region)))
    errors = Errors()
    if kind not in Employer.Kind.values:
        errors.add("kind", _("Unknown kind."))
    if kind == Employer.Kind.COMPANY:
        try:
            org_number, country = parse_org_number(org_number)
        except ValueError as exc:
            errors.add("org_number", str(exc))
    if kind == Employer.Kind.WORKPLACE and region is None:
        errors.add("region", _("A workplace lies in one region."))
    if kind == Employer.Kind.WORKPLACE and (parent is None or parent.kind != Employer.Kind.COMPANY):
        errors.add("parent", _("A workplace belongs to a company."))
    if country not in ("NO", "SE"):
        errors.add("country", _("Country must be NO or SE."))
    name = clean_line(name, "name", errors, max_length=200, required=True)
    address = clean_line(address, "address", errors, max_length=200)
    errors.raise_if_any()
    values = {"name": name, "kind": kind, "org_number": org_number, "country": country, "region": region,
              "address": address}
    node = Employer.objects.add_child(parent, values) if parent else Employer.objects.add_root(values)
    audit.record("registry.employer.created", node, actor=actor, channel=channel,
                 changes=audit.snapshot(node, ["name", "kind", "org_number", "country", "region_id", "path"]))
    return node


@transaction.atomic
def update_node(node, data: dict, *, actor, channel: str = "ui"):
    """Rename or re-describe an org unit or employer (not move it); audited."""
    if _person(actor):
        access.check(access.may_change_node(actor, node))
    data = dict(data)
    allowed = {"name", "code", "address", "region", "support_contact"} & {f.name for f in node._meta.fields}
    unknown = set(data) - allowed
    errors = Errors()
    for field in unknown:
        errors.add(field, _("This field cannot be changed here."))
    for field, max_length in (("name", 200), ("code", 20), ("address", 200), ("support_contact", 300)):
        if field in data and field in allowed:
            data[field] = clean_line(data[field], field, errors, max_length=max_length, required=field == "name")
    if isinstance(node, Employer) and node.kind == Employer.Kind.WORKPLACE and "region" in data and \
            data["region"] is None:
        errors.add("region", _("A workplace lies in one region."))
    errors.raise_if_any()
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    changes = audit.diff(node, values)
    if changes:
        node.save(update_fields=[k for k in values if k in changes])
        audit.record(f"registry.{node._meta.model_name}.changed", node, actor=actor, channel=channel, changes=changes)
    return node


def _person(actor) -> bool:
    """Whether a person acts (the system itself, `actor` None, is not checked: see core.policy)."""
    return bool(getattr(actor, "pk", None))


# --- people ------------------------------------------------------------------------------------

def find_duplicates(cleaned: dict, *, exclude_pk=None, limit: int = 10) -> list[tuple[Person, list[str]]]:
    """Existing people matching by national id, email, phone, or name and birth date."""
    q = Q()
    if cleaned.get("national_id"):
        q |= Q(national_id=cleaned["national_id"])
    if cleaned.get("email"):
        q |= Q(email=cleaned["email"])
    if cleaned.get("phone"):
        q |= Q(phone=cleaned["phone"])
    if cleaned.get("birth_date") and cleaned.get("first_name") and cleaned.get("last_name"):
        q |= Q(search_name=Person.make_search_name(cleaned["first_name"], cleaned["last_name"]),
               birth_date=cleaned["birth_date"])
    if not q:
        return []
    people = Person.objects.current().filter(q)
    if exclude_pk:
        people = people.exclude(pk=exclude_pk)
    found = []
    for person in people[:limit]:
        reasons = []
        if cleaned.get("national_id") and person.national_id == cleaned["national_id"]:
            reasons.append("national_id")
        if cleaned.get("email") and person.email == cleaned["email"]:
            reasons.append("email")
        if cleaned.get("phone") and person.phone == cleaned["phone"]:
            reasons.append("phone")
        if person.birth_date and person.birth_date == cleaned.get("birth_date") and person.search_name == \
                Person.make_search_name(cleaned.get("first_name", ""), cleaned.get("last_name", "")):
            reasons.append("name_and_birth_date")
        found.append((person, reasons))
    return found


def _split_by_sight(matches, actor) -> tuple[list, list]:
    """(matches the actor may see, matches outside their scope). The system and a user who sees
    everything see all."""
    if not matches or not getattr(actor, "pk", None) or scope_for(actor, VIEW).everything:
        return matches, []
    seen = set(Person.objects.visible_to(actor).filter(pk__in=[p.pk for p, _r in matches])
               .values_list("pk", flat=True))
    return [m for m in matches if m[0].pk in seen], [m for m in matches if m[0].pk not in seen]


def _review(person: Person, hidden, *, actor) -> None:
    DuplicateReview.objects.create(person=person, matches=[[p.pk, reasons] for p, reasons in hidden],
                                   created_by=actor if getattr(actor, "pk", None) else None)


@transaction.atomic
def create_person(data: dict, *, actor, channel: str = "ui", allow_duplicate: bool = False) -> Person:
    """Validate and create a person; refuses a likely duplicate the actor can see unless `allow_duplicate`.

    The same national id is never allowed twice among the records the actor can see. Matches outside
    the actor's scope never change the answer (that would tell who is a member elsewhere): the person
    is created all the same and the match goes to member service for review; a national id already
    held elsewhere makes the new record provisional until member service merges the two.
    """
    if _person(actor) and channel != "portal":
        unit, place = data.get("unit"), data.get("registered_at")
        access.check(access.may_register(actor, unit=unit if isinstance(unit, OrgUnit) else None,
                                         registered_at=place if isinstance(place, Employer) else None))
    cleaned = clean_person(data)
    matches, hidden = _split_by_sight(find_duplicates(cleaned), actor)
    same_id = [p for p, reasons in matches if "national_id" in reasons]
    if same_id or (matches and not allow_duplicate):
        raise ConflictError(_("This person may already be registered."), matches=matches)
    person = Person(**_person_values(cleaned))
    person.search_name = Person.make_search_name(person.first_name, person.last_name)
    person.provisional = any("national_id" in reasons for _p, reasons in hidden)
    person.save()
    if hidden:
        _review(person, hidden, actor=actor)
    audit.record("registry.person.created", person, actor=actor, channel=channel, person_id=person.pk,
                 changes=audit.snapshot(person, PERSON_AUDIT_FIELDS))
    return person


@transaction.atomic
def update_person(person: Person, data: dict, *, actor, channel: str = "ui", expected_version: int | None = None
                  ) -> Person:
    """Change the given fields; refused with ConflictError if someone changed the person meanwhile.

    A national id held by another person the actor can see is refused; one held outside their scope is
    accepted, the record made provisional and the match sent to member service (the same answer as for
    a free id)."""
    if _person(actor) and channel != "portal":
        access.check(access.may_edit_person(actor, person, data.keys()))
    if person.anonymised_at:
        raise DomainError(_("This person has been anonymised and cannot be changed."))
    cleaned = clean_person(data, partial=True)
    hidden = []
    if cleaned.get("national_id") and cleaned["national_id"] != person.national_id:
        holders = [(p, ["national_id"]) for p in Person.objects.current().filter(
            national_id=cleaned["national_id"], provisional=False).exclude(pk=person.pk)]
        seen, hidden = _split_by_sight(holders, actor)
        if seen:
            raise ConflictError(_("Another person has this national identity number."),
                                field_errors={"national_id": [_("Another person has this national identity "
                                                                "number.")]})
    values = _person_values(cleaned)
    if hidden:
        values["provisional"] = True
    changes = audit.diff(person, values)
    if "first_name" in changes or "last_name" in changes:
        person.search_name = Person.make_search_name(person.first_name, person.last_name)
        changes["search_name"] = [None, person.search_name]
    save_versioned(person, changes, expected_version)
    if hidden:
        _review(person, hidden, actor=actor)
    if not changes:
        return person
    changes.pop("search_name", None)
    audit.record("registry.person.changed", person, actor=actor, channel=channel, person_id=person.pk,
                 changes=changes)
    return person


@transaction.atomic
def merge_persons(survivor: Person, duplicate: Person, *, actor, channel: str = "ui") -> Person:
    """Move every link of `duplicate` to `survivor`, fill the survivor's blank fields, retire the duplicate.

    The duplicate row stays (pointing at the survivor) so old references and the audit trail still resolve.
    """
    if _person(actor):
        access.check(access.may_merge(actor, survivor, duplicate))
    if survivor.pk == duplicate.pk:
        raise DomainError(_("A person cannot be merged with themselves."))
    if duplicate.merged_into_id or survivor.merged_into_id:
        raise DomainError(_("One of these people has already been merged."))
    moved = {
        "memberships": list(Membership.objects.filter(person=duplicate).values_list("pk", flat=True)),
        "employments": list(Employment.objects.filter(person=duplicate).values_list("pk", flat=True)),
        "roles": list(Role.objects.filter(person=duplicate).values_list("pk", flat=True)),
    }
    Membership.objects.filter(person=duplicate).update(person=survivor)
    Employment.objects.filter(person=duplicate).update(person=survivor)
    Role.objects.filter(person=duplicate).update(person=survivor)
    fill = {field: getattr(duplicate, field) for field in person_fields.MERGED
            if getattr(survivor, field) in (None, "") and getattr(duplicate, field) not in (None, "")}
    if duplicate.user_id and not survivor.user_id:
        fill["user_id"] = duplicate.user_id
    # The national id and the login are unique: the duplicate lets go of them before the survivor takes them.
    Person.objects.filter(pk=duplicate.pk).update(merged_into=survivor, national_id=None, user=None,
                                                  version=duplicate.version + 1)
    changes = audit.diff(survivor, fill)
    if changes:
        save_versioned(survivor, changes, None)
    for review in DuplicateReview.objects.filter(person__in=[survivor, duplicate], resolved_at__isnull=True):
        if review.person_id == duplicate.pk or any(pk == duplicate.pk for pk, _r in review.matches):
            review.resolved_at, review.resolved_by, review.outcome = timezone.now(), actor, "merged"
            review.save(update_fields=["resolved_at", "resolved_by", "outcome"])
    audit.record("registry.person.merged", survivor, actor=actor, channel=channel, person_id=survivor.pk,
                 changes={"merged_from": [None, duplicate.pk], **changes, **{k: [None, v] for k, v in moved.items()}})
    audit.record("registry.person.merged_into", duplicate, actor=actor, channel=channel, person_id=duplicate.pk,
                 changes={"merged_into": [None, survivor.pk]})
    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    return survivor


@transaction.atomic
def anonymise_person(person: Person, *, actor, channel: str = "ui", reason: str) -> Person:
    """Erasure: replace every identifying field, and remove the person's values (now and as the history shows
    them) from the audit trail, their login and, through the apps' erasers, every text and index that names them
    (registry.erasure); memberships and history stay as anonymous statistics."""
    from tillit.registry import erasure

    if _person(actor):
        access.check(access.may_configure(actor))
    if not reason.strip():
        raise InvalidInput(_("Give a reason for the erasure."), field_errors={"reason": [_("Required.")]})
    scrub = erasure.Scrub(erasure.values_of(person))
    erasure.erase_history(person, scrub)
    erasure.erase_login(person)
    for erase in erasure.ERASERS:
        erase(person, scrub)
    values = person_fields.erased_values(person)
    changes = {k: [None, None] for k in audit.diff(person, values)}  # no personal data in the trail either
    person.search_name = ""
    person.anonymised_at = timezone.now()
    save_versioned(person, {**changes, "search_name": 1, "anonymised_at": 1}, None)
    audit.record("registry.person.anonymised", person, actor=actor, channel=channel, person_id=person.pk,
                 changes={**changes, "reason": [None, scrub.text(reason)]})
    return person


# --- memberships -------------------------------------------------------------------------------

def allocate_member_numbers(count: int) -> list[str]:
    return [str(n) for n in next_numbers("registry.member_number", count, start=100001)]


@transaction.atomic
def add_membership(person: Person, *, membership_type: MembershipType, branch: OrgUnit, joined_on: datetime.date,
                   member_number: str | None = None, actor, channel: str = "ui") -> Membership:
    """A new active membership from `joined_on`, with its first status period."""
    if _person(actor):
        access.check(access.may_edit_person(actor, person) and access.may_change_node(actor, branch))
    if Membership.objects.filter(person=person).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=joined_on)).exists():
        raise ConflictError(_("This person already has a membership in force."))
    if member_number and Membership.objects.filter(member_number=member_number).exists():
        raise ConflictError(_("Member number %(n)s is taken.") % {"n": member_number},
                            field_errors={"member_number": [_("This member number is taken.")]})
    membership = Membership.objects.create(
        person=person, membership_type=membership_type, branch=branch, joined_on=joined_on,
        member_number=member_number or allocate_member_numbers(1)[0], status=MembershipStatus.ACTIVE)
    MembershipPeriod.objects.create(membership=membership, status=MembershipStatus.ACTIVE, valid_from=joined_on)
    audit.record("registry.membership.created", membership, actor=actor, channel=channel, person_id=person.pk,
                 changes=audit.snapshot(membership, ["member_number", "membership_type_id", "branch_id", "joined_on",
                                                     "status"]))
    return membership


@transaction.atomic
def change_membership_status(membership: Membership, status: str, *, on: datetime.date, actor, channel: str = "ui",
                             reason: str = "", ends_on: datetime.date | None = None,
                             expected_version: int | None = None) -> Membership:
    """Close the current status period on `on` and open one with `status`.

    resigning: notice given on `on`, `ends_on` is the last day of membership; exempt: needs a reason;
    ended: no longer a member from `on` (the last day is the day before); active: back to active
    (ends an exemption or withdraws a notice).
    """
    if _person(actor) and channel != "portal":
        access.check(access.may_edit_person(actor, membership.person))
    errors = Errors()
    if status not in MembershipStatus.values:
        errors.add("status", _("Unknown status."))
    if membership.status == MembershipStatus.ENDED:
        errors.add("status", _("This membership has ended; register a new one."))
    if status == membership.status and status != MembershipStatus.EXEMPT:
        errors.add("status", _("The membership already has this status."))
    if status == MembershipStatus.EXEMPT and not reason.strip():
        errors.add("reason", _("Give the reason for the exemption."))
    if status == MembershipStatus.RESIGNING and (ends_on is None or ends_on < on):
        errors.add("ends_on", _("Give the last day of membership, on or after the notice date."))
    if on < membership.joined_on:
        errors.add("on", _("The date is before the member joined."))
    current = membership.periods.filter(valid_to__isnull=True).first()
    if current and on < current.valid_from:
        errors.add("on", _("The date is before the current status began (%(d)s).") % {"d": current.valid_from})
    errors.raise_if_any()
    if current:
        current.valid_to = on
        current.save(update_fields=["valid_to"])
    MembershipPeriod.objects.create(membership=membership, status=status, valid_from=on, reason=reason.strip())
    values = {"status": status}
    if status == MembershipStatus.RESIGNING:
        values.update(notice_on=on, ends_on=ends_on)
    elif status == MembershipStatus.ENDED:
        values.update(ends_on=on - datetime.timedelta(days=1))
    elif status == MembershipStatus.ACTIVE and membership.status == MembershipStatus.RESIGNING:
        values.update(notice_on=None, ends_on=None)
    changes = audit.diff(membership, values)
    save_versioned(membership, changes, expected_version)
    if reason:
        changes["reason"] = [None, reason.strip()]
    audit.record("registry.membership.status_changed", membership, actor=actor, channel=channel,
                 person_id=membership.person_id, changes=changes)
    return membership


@transaction.atomic
def update_membership(membership: Membership, *, membership_type: MembershipType | None = None,
                      branch: OrgUnit | None = None, actor, channel: str = "ui",
                      expected_version: int | None = None) -> Membership:
    """Move a membership to another type or branch; its status history stays as it is."""
    if _person(actor):
        access.check(access.may_edit_person(actor, membership.person)
                     and (branch is None or access.may_change_node(actor, branch)))
    values = {}
    if membership_type is not None:
        values["membership_type"] = membership_type
    if branch is not None:
        values["branch"] = branch
    changes = audit.diff(membership, values)
    save_versioned(membership, changes, expected_version)
    if changes:
        audit.record("registry.membership.changed", membership, actor=actor, channel=channel,
                     person_id=membership.person_id, changes=changes)
    return membership


# --- employments -------------------------------------------------------------------------------

def clean_employment(data: dict, *, partial: bool = False) -> dict:
    errors = Errors()
    out = {}
    if not partial or "workplace" in data:
        workplace = data.get("workplace")
        if workplace is None:
            errors.add("workplace", _("This field is required."))
        elif workplace.kind != Employer.Kind.WORKPLACE:
            errors.add("workplace", _("Choose a workplace, not a group or company."))
        out["workplace"] = workplace
    for key in ("starts_on", "ends_on"):
        if not partial or key in data:
            out[key] = parse_date(data.get(key), key, errors)
    if not partial and out.get("starts_on") is None and "starts_on" not in errors.by_field:
        errors.add("starts_on", _("This field is required."))
    if out.get("starts_on") and out.get("ends_on") and out["ends_on"] < out["starts_on"]:
        errors.add("ends_on", _("The end is before the start."))
    if not partial or "position" in data:
        out["position"] = clean_line(data.get("position"), "position", errors, max_length=100)
    if not partial or "percentage" in data:
        pct = parse_decimal(data.get("percentage"), "percentage", errors)
        out["percentage"] = 100 if pct is None else pct
    if not partial or "payroll_deduction" in data:
        out["payroll_deduction"] = bool(parse_bool(data.get("payroll_deduction"), "payroll_deduction", errors))
    errors.raise_if_any()
    return out


@transaction.atomic
def add_employment(person: Person, data: dict, *, actor, channel: str = "ui") -> Employment:
    if _person(actor):
        access.check(access.may_edit_person(actor, person))
    cleaned = clean_employment(data)
    employment = Employment.objects.create(person=person, **cleaned)
    audit.record("registry.employment.created", employment, actor=actor, channel=channel, person_id=person.pk,
                 changes=audit.snapshot(employment, ["workplace_id", "starts_on", "ends_on", "position", "percentage",
                                                     "payroll_deduction"]))
    return employment


@transaction.atomic
def update_employment(employment: Employment, data: dict, *, actor, channel: str = "ui",
                      expected_version: int | None = None) -> Employment:
    if _person(actor):
        access.check(access.may_edit_employment(actor, employment, data.keys()))
    cleaned = clean_employment(data, partial=True)
    starts = cleaned.get("starts_on", employment.starts_on)
    ends = cleaned.get("ends_on", employment.ends_on)
    if ends and ends < starts:
        raise InvalidInput(_("The end is before the start."), field_errors={"ends_on": [_("The end is before the "
                                                                                             "start.")]})
    changes = audit.diff(employment, cleaned)
    save_versioned(employment, changes, expected_version)
    if changes:
        audit.record("registry.employment.changed", employment, actor=actor, channel=channel,
                     person_id=employment.person_id, changes=changes)
    return employment


@transaction.atomic
def add_leave(employment: Employment, *, starts_on, ends_on=None, reason: str = "", actor, channel="ui") -> LeavePeriod:
    if _person(actor):
        access.check(access.may_edit_person(actor, employment.person))
    errors = Errors()
    starts = parse_date(starts_on, "starts_on", errors)
    ends = parse_date(ends_on, "ends_on", errors)
    if starts is None and "starts_on" not in errors.by_field:
        errors.add("starts_on", _("This field is required."))
    if starts and ends and ends < starts:
        errors.add("ends_on", _("The end is before the start."))
    errors.raise_if_any()
    leave = LeavePeriod.objects.create(employment=employment, starts_on=starts, ends_on=ends, reason=reason[:100])
    audit.record("registry.leave.created", leave, actor=actor, channel=channel, person_id=employment.person_id,
                 changes=audit.snapshot(leave, ["employment_id", "starts_on", "ends_on", "reason"]))
    return leave


# --- roles -------------------------------------------------------------------------------------

def _sync_role_grant(role: Role, *, actor, channel):
    """A rep's role gives the linked user access over the role's node for the term, and only then."""
    source = f"registry.role:{role.pk}"
    holders = list(Grant.objects.filter(source=source).values_list("user_id", flat=True))
    Grant.objects.filter(source=source).delete()
    forget_grants_of(holders)
    user = role.person.user
    if not role.role_type.grant_role or user is None:
        return
    tree, node = ("org", role.org_unit) if role.org_unit_id else ("employer", role.employer)
    grant_access(user, role.role_type.grant_role, tree, node, actor=actor, channel=channel,
                 valid_from=role.starts_on, valid_to=role.ends_on, source=source)


@transaction.atomic
def assign_role(person: Person, role_type: RoleType, node, *, starts_on: datetime.date,
                ends_on: datetime.date | None = None, actor, channel: str = "ui") -> Role:
    """Give `person` a role at an org unit or employer node for a term; a rep's role grants access."""
    if _person(actor):
        access.check(access.may_give_role(actor, person, role_type, node))
    if ends_on and ends_on < starts_on:
        raise InvalidInput(_("The end is before the start."), field_errors={"ends_on": [_("The end is before the "
                                                                                             "start.")]})
    role = Role.objects.create(
        person=person, role_type=role_type, starts_on=starts_on, ends_on=ends_on,
        org_unit=node if isinstance(node, OrgUnit) else None, employer=node if isinstance(node, Employer) else None)
    audit.record("registry.role.created", role, actor=actor, channel=channel, person_id=person.pk,
                 changes=audit.snapshot(role, ["role_type_id", "org_unit_id", "employer_id", "starts_on", "ends_on"]))
    _sync_role_grant(role, actor=actor, channel=channel)
    return role


@transaction.atomic
def end_role(role: Role, *, on: datetime.date, actor, channel: str = "ui") -> Role:
    if _person(actor):
        access.check(access.may_end_role(actor, role))
    if on < role.starts_on:
        raise InvalidInput(_("The end is before the start."), field_errors={"ends_on": [_("The end is before the "
                                                                                             "start.")]})
    changes = audit.diff(role, {"ends_on": on})
    save_versioned(role, changes, None)
    audit.record("registry.role.ended", role, actor=actor, channel=channel, person_id=role.person_id, changes=changes)
    _sync_role_grant(role, actor=actor, channel=channel)
    return role


@transaction.atomic
def link_user(person: Person, user, *, actor, channel: str = "ui") -> Person:
    """Link a login to a person; their current rep roles start giving access."""
    if _person(actor):
        access.check(access.may_edit_person(actor, person) and access.may_reset(actor, user))
    changes = audit.diff(person, {"user_id": user.pk})
    save_versioned(person, changes, None)
    audit.record("registry.person.user_linked", person, actor=actor, channel=channel, person_id=person.pk,
                 changes=changes)
    for role in person.roles.select_related("role_type", "org_unit", "employer", "person"):
        _sync_role_grant(role, actor=actor, channel=channel)
    return person


@transaction.atomic
def dismiss_review(review: DuplicateReview, *, actor, channel: str = "ui") -> DuplicateReview:
    """Member service finds the people are not the same; a shared national id can only be merged."""
    if _person(actor):
        access.check(access.may_merge(actor, review.person))
    if review.resolved_at:
        raise DomainError(_("This review is already resolved."))
    if any("national_id" in reasons for _pk, reasons in review.matches):
        raise DomainError(_("The same national identity number is the same person: merge the records."))
    review.resolved_at, review.resolved_by, review.outcome = timezone.now(), actor, "distinct"
    review.save(update_fields=["resolved_at", "resolved_by", "outcome"])
    audit.record("registry.person.review_dismissed", review.person, actor=actor, channel=channel,
                 person_id=review.person_id, changes={"matches": [None, [pk for pk, _r in review.matches]]})
    return review


TYPE_TEXT_MAX = 100


@transaction.atomic
def translate_types(texts: dict, *, actor, channel: str = "ui") -> None:
    """Set the translations of membership types' and role types' names: {"membership" | "role": {code:
    {language: text}}}; an empty text removes one. All are checked before any is written; each change audited."""
    if _person(actor):
        access.check(access.may_configure(actor))
    from django.conf import settings

    from tillit.registry.models import MembershipType, RoleType

    models_by_kind = {"membership": MembershipType, "role": RoleType}
    languages = {code for code, _name in settings.LANGUAGES}
    errors = Errors()
    found = {}
    for kind, by_code in texts.items():
        model = models_by_kind.get(kind)
        if model is None:
            errors.add("texts", _("Unknown kind “%(k)s”.") % {"k": kind})
            continue
        types = {t.code: t for t in model.objects.filter(code__in=list(by_code))}
        for code, values in by_code.items():
            field = f"{kind}:{code}"
            if code not in types:
                errors.add(field, _("Unknown type “%(c)s”.") % {"c": code})
                continue
            for language, text in (values or {}).items():
                if language not in languages:
                    errors.add(field, _("Unknown language “%(l)s”.") % {"l": language})
                elif len(str(text or "").strip()) > TYPE_TEXT_MAX:
                    errors.add(field, _("At most %(n)d characters.") % {"n": TYPE_TEXT_MAX})
            found[field] = (types[code], values or {})
    errors.raise_if_any()
    for obj, values in found.values():
        new = dict(obj.translations)
        for language, text in values.items():
            text = str(text or "").strip()
            if text:
                new[language] = text
            else:
                new.pop(language, None)
        if new != obj.translations:
            audit.record(f"registry.{obj._meta.model_name}.translated", obj, actor=actor, channel=channel,
                         changes={"translations": [obj.translations, new]})
            obj.translations = new
            obj.save(update_fields=["translations"])
