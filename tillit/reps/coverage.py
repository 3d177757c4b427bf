"""The regional rep's coverage view: workplaces with enough members and no rep, workplaces that lost their rep in
the last year, terms ending in the next 60 days, and the reps a workplace may elect (the organisation's rule
table) against those it has. The page, its exports and the API read these lists; the daily task tells the
regional office about each term that ends soon, once."""

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tillit.registry.models import Employer, Role
from tillit.reps import kpis
from tillit.reps.models import EntitlementBand, TermReminder

log = logging.getLogger(__name__)
SOON_DAYS = 60
SHOWN = 100  # rows of each list on the page; the exports have them all


def current_roles(today, user=None):
    """Reps' roles in force on the day; with `user`, only those of people the user may see (whose names show)."""
    roles = Role.objects.visible_to(user) if user is not None else Role.objects.all()
    return roles.current_on(today).filter(role_type__grant_role__in=["rep", "regional_rep"])


def workplaces_under(node):
    if node.tree == "employer":
        return Employer.objects.filter(kind=Employer.Kind.WORKPLACE, path__startswith=node.path)
    return Employer.objects.filter(kind=Employer.Kind.WORKPLACE, region__path__startswith=node.path)


def bands() -> list[tuple[int, int]]:
    return list(EntitlementBand.objects.order_by("min_members").values_list("min_members", "reps"))


def entitled(members: int, table: list[tuple[int, int]]) -> int:
    """How many reps `members` organised employees may elect: the band with the highest minimum reached."""
    reps = 0
    for minimum, count in table:
        if members >= minimum:
            reps = count
    return reps


def lists(user, node, today: datetime.date | None = None, *, limit: int | None = SHOWN) -> dict:
    """The four lists for the node, each cut at `limit` rows (None: all, for the exports), with their full
    lengths."""
    today = today or timezone.localdate()
    minimum = int(settings.TILLIT_REP_MINIMUM_MEMBERS)
    places = workplaces_under(node)
    counts, counted = kpis.workplace_members(places.values("pk"), today)
    has_rep = Exists(current_roles(today).filter(employer_id=OuterRef("pk")))
    with_members = [p for p, n in counts.items() if n > 0]
    rep_counts = dict(current_roles(today).filter(employer_id__in=with_members).values("employer_id")
                      .annotate(n=Count("pk")).values_list("employer_id", "n"))
    named = {e.pk: e for e in places.filter(pk__in=with_members)}
    lacking = sorted(({"e": named[pk], "members": n} for pk, n in counts.items()
                      if n >= minimum and pk in named and not rep_counts.get(pk)),
                     key=lambda r: (-r["members"], r["e"].name))
    table = bands()
    gaps = []
    for pk, n in counts.items():
        if pk not in named:
            continue
        may, has = entitled(n, table), rep_counts.get(pk, 0)
        if may > has:
            gaps.append({"e": named[pk], "members": n, "entitled": may, "has": has, "gap": may - has})
    gaps.sort(key=lambda r: (-r["gap"], -r["members"], r["e"].name))
    year_ago = today - datetime.timedelta(days=365)
    ended = Role.objects.filter(role_type__grant_role__in=["rep", "regional_rep"], ends_on__gte=year_ago,
                                ends_on__lt=today, employer__in=places)
    last_end = {row["employer_id"]: row["last"] for row in ended.values("employer_id").annotate(last=Max("ends_on"))}
    # who held the last term, among the people the user may see (whether a rep is there counts everyone)
    holders = {role.employer_id: role.person for role in Role.objects.visible_to(user).filter(
        pk__in=ended.values("pk")).select_related("person").order_by("ends_on", "pk")
        if role.ends_on == last_end[role.employer_id]}
    lost = [{"e": e, "ended": last_end[e.pk], "who": holders.get(e.pk), "members": counts.get(e.pk, 0)}
            for e in places.filter(pk__in=list(last_end)).annotate(has_rep=has_rep).filter(has_rep=False)
            .order_by("name")]
    ending = list(current_roles(today, user).filter(employer__in=places, ends_on__isnull=False,
                                                    ends_on__lte=today + datetime.timedelta(days=SOON_DAYS))
                  .select_related("person", "employer", "role_type").order_by("ends_on"))
    found = {"lacking": lacking, "lost": lost, "ending": ending, "entitlement": gaps}
    return {**{k: v[:limit] for k, v in found.items()}, "totals": {k: len(v) for k, v in found.items()},
            "minimum": minimum, "counted": counted, "bands": table}


def rows_for_export(found: dict, which: str) -> tuple[list[str], list[list]]:
    """One of the coverage lists as a header and rows, for CSV/XLSX."""
    if which == "lacking":
        return ([_("Workplace"), _("Org. number"), _("Members")],
                [[r["e"].name, r["e"].org_number, r["members"]] for r in found["lacking"]])
    if which == "lost":
        return ([_("Workplace"), _("Org. number"), _("Members"), _("Last term ended"), _("Held by")],
                [[r["e"].name, r["e"].org_number, r["members"], r["ended"].isoformat(),
                  str(r["who"]) if r["who"] else ""] for r in found["lost"]])
    if which == "ending":
        return ([_("Representative"), _("Role"), _("Workplace"), _("Term ends")],
                [[str(r.person), str(r.role_type), r.employer.name if r.employer else "", r.ends_on.isoformat()]
                 for r in found["ending"]])
    return ([_("Workplace"), _("Org. number"), _("Members"), _("May elect"), _("Has"), _("Missing")],
            [[r["e"].name, r["e"].org_number, r["members"], r["entitled"], r["has"], r["gap"]]
             for r in found["entitlement"]])


def reminder_case_type():
    from tillit.cases.models import CaseType

    wanted = settings.TILLIT_TERM_REMINDER_CASE_TYPE
    types = CaseType.objects.filter(active=True)
    return (types.filter(name=wanted).first() if wanted else None) or types.filter(is_intake=True).order_by(
        "pk").first()


def remind_terms(today: datetime.date | None = None) -> int:
    """A case in the regional office's queue for each rep's term ending within 60 days, once per term."""
    from tillit.cases.services import open_case

    today = today or timezone.localdate()
    case_type = reminder_case_type()
    if case_type is None:
        log.warning("term reminders: no active case type to open them with")
        return 0
    due = (current_roles(today).filter(ends_on__isnull=False, ends_on__lte=today + datetime.timedelta(days=SOON_DAYS))
           .filter(~Exists(TermReminder.objects.filter(role_id=OuterRef("pk"))))
           .select_related("person", "role_type", "employer__region", "org_unit"))
    made = 0
    for role in due[:2000]:
        unit = role.employer.region if role.employer_id else role.org_unit
        node = role.employer or role.org_unit
        try:
            with transaction.atomic():
                case = open_case(case_type, title=_("Term ends %(day)s: %(who)s, %(role)s at %(node)s") % {
                    "day": role.ends_on.isoformat(), "who": role.person, "role": role.role_type, "node": node.name},
                    actor=None, channel="system", subjects=[role.person], unit=unit or None,
                    body=_("The term ends within %(n)s days. Arrange an election or a new term.") % {"n": SOON_DAYS})
                TermReminder.objects.create(role=role, case=case)  # unique per role: a second run rolls back
        except IntegrityError:
            continue
        made += 1
    return made


@task()
def remind_terms_task() -> int:
    return remind_terms()
