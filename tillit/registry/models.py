"""The registry: the two trees, people, memberships, employments and roles.

Reads live here as QuerySet methods; every change goes through `services.py`.
"""

import datetime

from django.conf import settings
from django.db import connection, models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tillit.core.models import ScopedQuerySet, Translated, TreeNode
from tillit.core.scopes import EDIT, VIEW, VIEW_NATIONAL_ID, mark_shown, scope_for, was_shown

COUNTRIES = [("NO", _("Norway")), ("SE", _("Sweden"))]


def month_bounds(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    start = datetime.date(year, month, 1)
    end = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return start, end


class OrgUnit(TreeNode):
    """The organisation's own tree: national → region → branch → department/team."""

    class Kind(models.TextChoices):
        NATIONAL = "national", _("national")
        REGION = "region", _("region")
        BRANCH = "branch", _("branch")
        DEPARTMENT = "department", _("department")
        TEAM = "team", _("team")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=COUNTRIES, default="NO")
    # Whom the users of this part of the organisation ask when they are locked out (the nearest unit's up the tree).
    support_contact = models.CharField(_("support contact"), max_length=300, blank=True,
                                       help_text=_("Who helps with logins here: a name, phone or email."))

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")


def on_day(first: datetime.date, last: datetime.date | None = None, *, start: str = "starts_on",
           end: str = "ends_on") -> Q:
    """Dated rows — from `start` to `end`, both days included, `end` empty while open — in force on the day
    `first`, or with `last` on some day from `first` to `last`. The named QuerySet methods below use it."""
    return Q(**{f"{start}__lte": last or first}) & (Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gte": first}))


def units_in_scope(user, perm: str = VIEW) -> list["OrgUnit"]:
    """Org units the user covers for `perm`, in tree order."""
    scope = scope_for(user, perm)
    units = OrgUnit.objects.order_by("path")
    if scope.everything:
        return list(units)
    q = scope.tree_q("org", "")
    return list(units.filter(q)) if q is not None else []


def all_unit_options(including=()) -> list[tuple[int, str, str]]:
    """(id, name, path) of every org unit in tree order, for the drop-downs of the list and case pages: kept in
    the shared cache for five minutes, a new generation whenever a unit is saved or deleted (registry.apps), and
    read again when one of the ids in `including` is not among them."""
    from tillit.core.kept import kept_in

    def read():
        return kept_in("units", "options", 300,
                       lambda: list(OrgUnit.objects.order_by("path").values_list("pk", "name", "path")))

    units = read()
    if including and not set(including) <= {pk for pk, _name, _path in units}:
        forget_unit_scopes()
        units = read()
    return units


def unit_options(user, perm: str = VIEW) -> list[tuple[int, str]]:
    """(id, name) of the org units the user covers, in tree order: for drop-downs (no full rows)."""
    scope = scope_for(user, perm)
    if scope.everything:
        return [(pk, name) for pk, name, _path in all_unit_options()]
    paths = tuple(scope.paths["org"])
    if not paths:
        return []
    return [(pk, name) for pk, name, path in all_unit_options() if path.startswith(paths)]


def employers_in_scope(user, perm: str = VIEW):
    """Employer nodes the user covers: their employer subtrees, and workplaces in their regions."""
    scope = scope_for(user, perm)
    qs = Employer.objects.all()
    if scope.everything:
        return qs
    q, org = scope.tree_q("employer", ""), scope.tree_q("org", "region__")
    if q is None and org is None:
        return qs.none()
    return qs.filter(q | org if q is not None and org is not None else (q or org))


def default_unit_for(user) -> "OrgUnit | None":
    """The unit made responsible for a person someone registers: their first unit with edit rights."""
    units = units_in_scope(user, EDIT)
    return units[0] if units else None


def registration_home(user) -> dict:
    """Where a person `user` registers lands, so it stays in their scope: their first unit with edit
    rights, or (a rep, whose scope is workplaces) their first workplace."""
    unit = default_unit_for(user)
    if unit is not None:
        return {"unit": unit}
    workplace = employers_in_scope(user, EDIT).filter(kind=Employer.Kind.WORKPLACE).order_by("path").first()
    return {"unit": None, "registered_at": workplace}


def may(user, perm: str, person) -> bool:
    """Whether `user` has `perm` over `person`: no query when the scope for `perm` is everything, or when this
    request found the person through `visible_to(user)` and the scope for `perm` is the same subtrees as for
    viewing (the common case of one role); one query otherwise."""
    if not getattr(user, "is_authenticated", False):
        return False
    scope = scope_for(user, perm)
    if scope.everything or was_shown(user, person, perm):
        return True
    if scope.empty:
        return False
    # One's own record is visible without any grant, so it proves nothing about `perm`.
    if was_shown(user, person, VIEW) and scope.covers_as_much_as(scope_for(user, VIEW)) and \
            person.user_id != user.pk:
        return True
    found = Person.objects.visible_to(user, perm).filter(pk=person.pk).exists()
    if found:
        mark_shown(user, person, perm)
    return found


def shown_national_ids(user, people) -> dict[int, str]:
    """Each person's national id as `user` may see it: whole where a grant lets them see ids of that
    person, the birth-date half otherwise. One query for any number of people."""
    from tillit.registry.identity import format_national_id, mask_national_id

    with_id = [p for p in people if p.national_id]
    if not with_id:
        return {}
    if scope_for(user, VIEW_NATIONAL_ID).covers_as_much_as(scope_for(user, VIEW)):
        own = getattr(user, "pk", None)  # the user's own record is the one `may` must still query
        full = {p.pk for p in with_id if p.user_id != own or may(user, VIEW_NATIONAL_ID, p)}
    else:
        full = set(Person.objects.visible_to(user, VIEW_NATIONAL_ID).filter(pk__in=[p.pk for p in with_id])
                   .values_list("pk", flat=True))
    return {p.pk: format_national_id(p.national_id) if p.pk in full else mask_national_id(p.national_id)
            for p in with_id}


class Employer(TreeNode):
    """Employers' tree: group (konsern) → company (organisation number) → workplace."""

    class Kind(models.TextChoices):
        GROUP = "group", _("group")
        COMPANY = "company", _("company")
        WORKPLACE = "workplace", _("workplace")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    org_number = models.CharField(_("organisation number"), max_length=12, blank=True, db_index=True)
    country = models.CharField(_("country"), max_length=2, choices=COUNTRIES, default="NO")
    region = models.ForeignKey(
        OrgUnit, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="workplaces",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    # Where deduction notices go: a company's own payroll office unless a group above it handles payroll.
    handles_payroll = models.BooleanField(_("payroll office for everything below"), default=False)
    payroll_email = models.EmailField(_("payroll office email"), blank=True)

    class Meta:
        verbose_name = _("employer")
        verbose_name_plural = _("employers")

    def in_scope(self, scope) -> bool:
        """Covered by a grant on this employer subtree, or (a workplace) on the region it lies in."""
        return scope.covers_node("employer", self.path) or bool(
            self.region_id and scope.covers_node("org", self.region.path))


LARGE_SCOPE = 10_000


def _is_large_scope(units: list[int]) -> bool:
    """Whether the org units hold at least LARGE_SCOPE memberships (counting stops there). Only a query plan
    depends on it: it is kept with the scope's units (_resolved_scope)."""
    return Membership.objects.filter(branch_id__in=units)[:LARGE_SCOPE].count() >= LARGE_SCOPE


def _resolved_scope(user, scope) -> tuple[list[int], bool]:
    """The org unit ids a scope covers, and whether it is large; kept for the request (core.memo), since one
    page asks visible_to several times (view, edit, national id, panels), and for
    a minute in the shared cache (units are added rarely, and a new one holds no one yet)."""
    from tillit.core.kept import kept_in
    from tillit.core.memo import per_request

    def read():
        units = list(OrgUnit.objects.filter(scope.tree_q("org", "")).values_list("pk", flat=True))
        return units, _is_large_scope(units)

    key = tuple(sorted(scope.paths["org"]))
    return per_request(("scope-units", user.pk, key), lambda: kept_in("units", ",".join(key), 60, read))


def forget_unit_scopes() -> None:
    """Every remembered scope and unit list is read again (a new generation of keys; registry.apps starts one
    whenever a unit is saved or deleted)."""
    from tillit.core.kept import new_generation

    new_generation("units")


def unit_ids_in_scope(user, scope) -> list[int]:
    """The ids of the org units a partial scope covers (one subtree query per request at most)."""
    return _resolved_scope(user, scope)[0]


def _person_ref() -> Q:
    """The correlation of a per-row EXISTS with the person.

    On PostgreSQL the redundant `person_id IS NULL` (the column is NOT NULL) keeps the planner from
    turning the EXISTS into a hashed set of the whole scope: it must probe row by row, which is
    what lets a name-ordered page stop early. Measured on 1,100,000 people: 440 ms → 4 ms.
    """
    q = Q(person_id=OuterRef("pk"))
    if connection.vendor == "postgresql":
        q |= Q(person_id__isnull=True)
    return q


class PersonQuerySet(ScopedQuerySet):
    def within_scope(self, user, scope, perm):
        """The people a partial scope shows: members of its units, staff of its workplaces (and of
        workplaces in its regions) now, people its units are responsible for, and the user."""
        q = Q(user_id=user.pk) if perm == VIEW else Q(pk__in=[])
        today = timezone.localdate()
        current_job = Q(ends_on__isnull=True) | Q(ends_on__gte=today)
        org = scope.tree_q("org", "")
        if org is not None:
            units, large = _resolved_scope(user, scope)
            if large:
                # A large scope (a region): walk the requested order and test each row, so a page stops
                # after its 50 rows instead of collecting the whole scope first.
                q |= Exists(Membership.objects.filter(_person_ref(), branch_id__in=units))
                q |= Exists(Employment.objects.filter(current_job).filter(_person_ref(),
                                                                          workplace__region_id__in=units))
            else:
                # A small scope: collect its people first, then sort those few.
                q |= Q(pk__in=Membership.objects.filter(branch_id__in=units).values("person_id"))
                q |= Q(pk__in=Employment.objects.filter(current_job).filter(workplace__region_id__in=units)
                       .values("person_id"))
            q |= Q(unit_id__in=units)
        emp = scope.tree_q("employer", "")
        if emp is not None:
            # The subtrees' employer ids first (an indexed prefix scan of a small table), not a LIKE joined to
            # every employment.
            places = Employer.objects.filter(emp).values("pk")
            q |= Q(pk__in=Employment.objects.filter(current_job).filter(workplace_id__in=places).values("person_id"))
            q |= Q(registered_at__in=places)
        return self.filter(q)

    def current(self):
        """Leave out records merged into another person."""
        return self.filter(merged_into__isnull=True)


class Person(models.Model):
    """Anyone in the registry; a member is a Person with a Membership."""

    first_name = models.CharField(_("first name"), max_length=100)
    # Indexed by person_name_order (last name first); no index of its own.
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # Unique among confirmed records; a provisional one (registered by a user who cannot see the
    # record already holding this id) waits for member service to merge it.
    national_id = models.CharField(_("national identity number"), max_length=12, null=True, blank=True,
                                   db_index=True)
    provisional = models.BooleanField(default=False)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address_line = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=COUNTRIES, default="NO")
    preferred_language = models.CharField(_("preferred language"), max_length=5, choices=settings.LANGUAGES,
                                          default="nb")
    # The unit responsible for a person with no membership or employment (citizen, contact).
    unit = models.ForeignKey(OrgUnit, verbose_name=_("responsible unit"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    # The workplace responsible for a person a rep registered before any employment is known.
    registered_at = models.ForeignKey("Employer", verbose_name=_("registered at workplace"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="person")
    # Lower-case "first last", the column the typo-tolerant name search indexes.
    search_name = models.CharField(max_length=201, editable=False, db_index=True)
    # No index: merges are rare, and an index here tempts the planner away from the name order.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    db_index=False)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        # Email and phone are looked up whole, never by prefix: plain indexes, without PostgreSQL's extra
        # pattern index that db_index would add (every index is paid for on every insert of an import).
        indexes = [models.Index(fields=["last_name", "first_name", "id"], name="person_name_order"),
                   models.Index(fields=["email"], name="person_email"),
                   models.Index(fields=["phone"], name="person_phone")]
        constraints = [models.UniqueConstraint(fields=["national_id"], condition=Q(provisional=False),
                                               name="person_national_id_once")]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    @staticmethod
    def make_search_name(first_name: str, last_name: str) -> str:
        return f"{first_name} {last_name}".strip().lower()


class MembershipType(Translated):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("membership type")
        verbose_name_plural = _("membership types")

    def __str__(self):
        return self.shown_name


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    EXEMPT = "exempt", _("dues-exempt")
    RESIGNING = "resigning", _("resigning")
    ENDED = "ended", _("ended")


class MembershipQuerySet(models.QuerySet):
    def visible_to(self, user, perm: str = VIEW):
        return self.filter(person__in=Person.objects.visible_to(user, perm).values("pk"))

    def member_on(self, day: datetime.date):
        """Memberships in force on `day` (active, exempt or resigning; `ends_on` is the last day)."""
        return self.filter(on_day(day, start="joined_on"))

    def member_during(self, first: datetime.date, last: datetime.date):
        """Memberships in force on some day from `first` to `last`."""
        return self.filter(on_day(first, last, start="joined_on"))

    def exempt_on(self, day: datetime.date):
        return self.filter(pk__in=MembershipPeriod.objects.covering(day).filter(
            status=MembershipStatus.EXEMPT).values("membership_id"))

    def resigning_in_month(self, year: int, month: int):
        """Memberships under notice whose last day falls in the month."""
        start, end = month_bounds(year, month)
        return self.filter(ends_on__gte=start, ends_on__lt=end, notice_on__isnull=False)

    def joined_in_month(self, year: int, month: int):
        start, end = month_bounds(year, month)
        return self.filter(joined_on__gte=start, joined_on__lt=end)


class Membership(models.Model):
    """A person's membership; its status history is in MembershipPeriod."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    membership_type = models.ForeignKey(MembershipType, verbose_name=_("membership type"),
                                        on_delete=models.PROTECT)
    branch = models.ForeignKey(OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT,
                               related_name="memberships")
    member_number = models.CharField(_("member number"), max_length=20, unique=True)
    joined_on = models.DateField(_("joined on"))
    notice_on = models.DateField(_("notice given on"), null=True, blank=True)
    ends_on = models.DateField(_("last day"), null=True, blank=True)  # inclusive
    status = models.CharField(_("status"), max_length=12, choices=MembershipStatus.choices,
                              default=MembershipStatus.ACTIVE)
    version = models.PositiveIntegerField(default=1)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        indexes = [models.Index(fields=["branch", "status"]), models.Index(fields=["ends_on"]),
                   models.Index(fields=["joined_on"])]

    def __str__(self):
        return self.member_number


class PeriodQuerySet(models.QuerySet):
    def covering(self, day: datetime.date):
        return self.overlapping(day, day)

    def overlapping(self, first: datetime.date, last: datetime.date):
        """Periods in force on some day from `first` to `last` (a period's `valid_to` is its first day after)."""
        return self.filter(valid_from__lte=last).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=first))


class MembershipPeriod(models.Model):
    """One dated status of a membership: [valid_from, valid_to); the open one is current."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="periods")
    status = models.CharField(max_length=12, choices=MembershipStatus.choices)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        ordering = ["valid_from", "id"]
        indexes = [models.Index(fields=["membership", "valid_from"]),
                   models.Index(fields=["status", "valid_from"])]

    def __str__(self):
        return f"{self.status} {self.valid_from}–{self.valid_to or ''}"


class EmploymentQuerySet(models.QuerySet):
    def visible_to(self, user, perm: str = VIEW):
        return self.filter(person__in=Person.objects.visible_to(user, perm).values("pk"))

    def current_on(self, day: datetime.date):
        return self.filter(on_day(day))

    def current_during(self, first: datetime.date, last: datetime.date):
        return self.filter(on_day(first, last))

    def in_work_on(self, day: datetime.date):
        """Employed on `day` and not on leave."""
        return self.current_on(day).exclude(pk__in=LeavePeriod.objects.current_on(day).values("employment_id"))


class LeavePeriodQuerySet(models.QuerySet):
    def current_on(self, day: datetime.date):
        return self.filter(on_day(day))


class Employment(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="employments")
    workplace = models.ForeignKey(Employer, verbose_name=_("workplace"), on_delete=models.PROTECT,
                                  related_name="employments")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"), null=True, blank=True)
    position = models.CharField(_("position"), max_length=100, blank=True)
    percentage = models.DecimalField(_("percentage"), max_digits=5, decimal_places=2, default=100)
    payroll_deduction = models.BooleanField(_("payroll deduction"), default=False)
    monthly_salary = models.BigIntegerField(_("monthly salary (øre)"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = EmploymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("employment")
        verbose_name_plural = _("employments")
        indexes = [models.Index(fields=["workplace", "ends_on"])]

    def __str__(self):
        return f"{self.position} ({self.starts_on}–{self.ends_on or ''})"


class LeavePeriod(models.Model):
    employment = models.ForeignKey(Employment, on_delete=models.CASCADE, related_name="leaves")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=100, blank=True)

    objects = LeavePeriodQuerySet.as_manager()

    def __str__(self):
        return f"{self.starts_on}–{self.ends_on or ''}"


class RoleType(Translated):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # The access role a holder gets over the role's node while the term runs ("" for none).
    grant_role = models.CharField(_("gives access as"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("role type")
        verbose_name_plural = _("role types")

    def __str__(self):
        return self.shown_name


class RoleQuerySet(models.QuerySet):
    def visible_to(self, user, perm: str = VIEW):
        # asked per role (lists of roles are filtered to a few first; a region's visible people are thousands)
        return self.filter(Exists(Person.objects.visible_to(user, perm).filter(pk=OuterRef("person_id"))))

    def current_on(self, day: datetime.date):
        return self.filter(on_day(day))


class Role(models.Model):
    """A person's elected or appointed role at an org unit or employer node, for a term."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="roles")
    role_type = models.ForeignKey(RoleType, verbose_name=_("role type"), on_delete=models.PROTECT)
    org_unit = models.ForeignKey(OrgUnit, verbose_name=_("org unit"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="roles")
    employer = models.ForeignKey(Employer, verbose_name=_("employer"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="roles")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = RoleQuerySet.as_manager()

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            models.CheckConstraint(
                condition=(Q(org_unit__isnull=True) & Q(employer__isnull=False))
                | (Q(org_unit__isnull=False) & Q(employer__isnull=True)),
                name="role_on_exactly_one_node",
            )
        ]

    def __str__(self):
        return f"{self.role_type} – {self.node}"

    @property
    def node(self):
        return self.org_unit or self.employer


class DuplicateReview(models.Model):
    """A registration that matched people its author could not see: member service decides whether
    it is the same person (merge) or not. Its author is never told either way."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="duplicate_reviews")
    matches = models.JSONField(default=list)  # [[person id, [reasons]], ...]
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    outcome = models.CharField(max_length=20, blank=True)  # merged, distinct

    class Meta:
        indexes = [models.Index(fields=["resolved_at", "created_at"])]

    def __str__(self):
        return f"review of person {self.person_id}"


class SavedView(models.Model):
    """A staff list's filters and sort under a name: the user's own, or shared with everyone who covers a unit."""

    class Page(models.TextChoices):
        CASES = "cases", _("Cases")
        PEOPLE = "people", _("People")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    page = models.CharField(max_length=10, choices=Page.choices)
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(max_length=1000, blank=True)  # the list's query string, without the page
    # Shared: everyone who covers this unit sees the view on the list (and may use it, not change it).
    shared_with = models.ForeignKey(OrgUnit, verbose_name=_("shared with"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "page", "name"], name="one_view_per_name")]

    def __str__(self):
        return self.name
