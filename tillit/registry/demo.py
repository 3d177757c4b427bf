"""Realistic, deterministic demo data: a union tree, employers, people, memberships, reps.

Streams people in chunks with bulk inserts, so a million members fit in bounded memory.
"""

import datetime
import random
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from faker import Faker
from stdnum import luhn
from stdnum.no import fodselsnummer

from tillit.core.bulk import insert_with_ids
from tillit.core.models import AuditEntry
from tillit.registry import services
from tillit.registry.models import (
    Employment,
    LeavePeriod,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    MembershipType,
    OrgUnit,
    Person,
    RoleType,
)

CHUNK = 5000
# Other apps add their demo data here (cases: case types and cases), so the registry imports none of them.
DEMO_EXTENSIONS = []
# (username, what the login shows) of logins other apps' demo data adds, printed after the registry's.
DEMO_LOGINS = []
EXEMPT_REASONS = ["parental leave", "unemployed", "sick leave"]
DEMO_PASSWORD = "tillit-demo"
# The registry's own demo logins (username, what it shows); other apps add theirs to DEMO_LOGINS.
LOGINS = [("admin", "system owner, sees everything"),
          ("handler", "case handler, one region and member service (incoming email, members' questions)"),
          ("rep", "workplace rep, one workplace"), ("regional", "regional rep, one region"),
          ("localadmin", "local administrator, one region: users and access"),
          ("member", "a member, no staff access")]


def demo_usernames() -> list[str]:
    return [name for name, _what in LOGINS + DEMO_LOGINS]


def demo_factors() -> None:
    """An authenticator for each demo login that must show a second factor, so the demo can be walked through
    (`tillit demo --code USER` prints its code)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tillit.core.logins import factor_required

    for user in get_user_model().objects.filter(username__in=demo_usernames()):
        if factor_required(user) and not TOTPDevice.objects.filter(user=user).exists():
            TOTPDevice.objects.create(user=user, name="demo", confirmed=True)


def demo_code(username: str) -> tuple[str, str]:
    """(key, code of the moment) of a demo login's authenticator; only while it still takes the demo password."""
    import time

    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tillit.core.logins import totp_secret

    device = TOTPDevice.objects.filter(user__username=username, name="demo", confirmed=True).first()
    if device is None or not device.user.check_password(DEMO_PASSWORD):
        raise ValueError(f"{username!r} is not a demo login with a demo authenticator")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return totp_secret(device), f"{totp.token():0{device.digits}d}"
MEMBERSHIP_TYPES = [("ordinary", "Ordinær / Ordinarie"), ("student", "Student"), ("retired", "Pensjonist / Pensionär"),
                    ("associate", "Assosiert / Associerad")]
ROLE_TYPES = [("workplace_rep", "Arbeidsplasstillitsvalgt", "rep"), ("main_rep", "Hovedtillitsvalgt", "rep"),
              ("group_rep", "Konserntillitsvalgt", "rep"), ("regional_rep", "Regionalt tillitsvalgt", "regional_rep"),
              ("safety_rep", "Verneombud", ""), ("board_member", "Styremedlem", ""), ("volunteer", "Frivillig", "")]
REGIONS = {"NO": ["Oslo og Viken", "Vestlandet", "Midt-Norge", "Nord-Norge"], "SE": ["Stockholm", "Västra Götaland"]}


def norwegian_id(rng: random.Random, birth: datetime.date) -> str:
    while True:
        if birth.year < 2000:
            individual = rng.randint(0, 499)
        else:
            individual = rng.randint(500, 999)
        base = birth.strftime("%d%m%y") + f"{individual:03d}"
        k1 = fodselsnummer.calc_check_digit1(base)
        if k1 == "10":
            continue
        k2 = fodselsnummer.calc_check_digit2(base + k1)
        if k2 != "10":
            return base + k1 + k2


def swedish_id(rng: random.Random, birth: datetime.date) -> str:
    base = birth.strftime("%y%m%d") + f"{rng.randint(0, 999):03d}"
    return birth.strftime("%Y")[:2] + base + luhn.calc_check_digit(base)


def norwegian_org_number(rng: random.Random) -> str:
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    while True:
        base = str(rng.choice([8, 9])) + "".join(str(rng.randint(0, 9)) for _ in range(7))
        check = (11 - sum(w * int(n) for w, n in zip(weights, base, strict=True)) % 11) % 11
        if check != 10:
            return base + str(check)


def swedish_org_number(rng: random.Random) -> str:
    base = "55" + "".join(str(rng.randint(0, 9)) for _ in range(7))
    return base + luhn.calc_check_digit(base)


class Pool:
    """Faker is slow per call; draw names and addresses from pools made once per country."""

    def __init__(self, fake: Faker, rng: random.Random, size: int = 3000):
        self.rng = rng
        self.first = [fake.first_name() for _ in range(size)]
        self.last = [fake.last_name() for _ in range(size)]
        self.street = [fake.street_address() for _ in range(size)]
        self.place = [(fake.postcode(), fake.city()) for _ in range(size // 3)]
        self.job = [fake.job()[:100] for _ in range(size // 10)]

    def pick(self, values):
        return values[self.rng.randrange(len(values))]


def _audits(objs, action, object_type, person_attr, now):
    return [AuditEntry(at=now, channel="system", action=action, object_type=object_type, object_id=o.pk,
                       person_id=getattr(o, person_attr), changes={"demo": [None, True]}) for o in objs]


def build_trees(rng: random.Random, fakers: dict, *, workplaces: int) -> dict:
    national = services.create_org_unit("Tillit-forbundet", "national", code="NAT", channel="system")
    regions, branches = [], []
    for country, names in REGIONS.items():
        for name in names:
            region = services.create_org_unit(name, "region", parent=national, code=f"R{len(regions) + 1}",
                                              country=country, channel="system")
            regions.append(region)
            for i in range(3):
                city = fakers[country].city()
                branch = services.create_org_unit(f"{city} avdeling", "branch", parent=region,
                                                  code=f"A{len(branches) + 1}", country=country, channel="system")
                branches.append(branch)
                if i == 0:
                    services.create_org_unit(f"{city} medlemsservice", "department", parent=branch,
                                             code=f"D{len(branches)}", country=country, channel="system")
    companies, places = [], []
    groups = [services.create_employer(f"{fakers['NO'].last_name()} Konsern", "group", country="NO", channel="system")
              for _ in range(max(2, workplaces // 60))]
    while len(places) < workplaces:
        country = "SE" if rng.random() < 0.3 else "NO"
        fake = fakers[country]
        org_number = swedish_org_number(rng) if country == "SE" else norwegian_org_number(rng)
        parent = rng.choice(groups) if rng.random() < 0.5 else None
        suffix = "AB" if country == "SE" else "AS"
        company = services.create_employer(f"{fake.last_name()} {suffix}", "company", parent=parent,
                                           org_number=org_number, country=country, channel="system")
        companies.append(company)
        for _ in range(rng.randint(1, 4)):
            region = rng.choice([r for r in regions if r.country == country])
            place = services.create_employer(f"{company.name} {fake.city()}", "workplace", parent=company,
                                             country=country, region=region, address=fake.street_address(),
                                             channel="system")
            places.append(place)
    return {"national": national, "regions": regions, "branches": branches, "groups": groups,
            "companies": companies, "workplaces": places}


def _reload(nodes):
    """add_child leaves siblings' cached paths stale; read them back once."""
    return list(type(nodes[0]).objects.filter(pk__in=[n.pk for n in nodes]).order_by("pk"))


def load_demo(*, members: int, seed: int, progress: Callable[[str], None] = lambda s: None) -> dict:
    """Create the demo organisation with `members` members; returns the trees and demo users."""
    rng = random.Random(seed)
    fakers = {"NO": Faker("no_NO"), "SE": Faker("sv_SE")}
    for i, fake in enumerate(fakers.values()):
        fake.seed_instance(seed + i)
    with transaction.atomic():
        for code, name in MEMBERSHIP_TYPES:
            MembershipType.objects.get_or_create(code=code, defaults={"name": name})
        for code, name, grant in ROLE_TYPES:
            RoleType.objects.get_or_create(code=code, defaults={"name": name, "grant_role": grant})
        trees = build_trees(rng, fakers, workplaces=max(20, members // 25))
    trees = {k: _reload(v) if isinstance(v, list) else v for k, v in trees.items()}
    types = {t.code: t for t in MembershipType.objects.all()}
    today = timezone.localdate()
    now = timezone.now()
    numbers = iter(services.allocate_member_numbers(members))
    used_ids = set()
    made = 0
    pools = {country: Pool(fake, rng) for country, fake in fakers.items()}
    while made < members:
        count = min(CHUNK, members - made)
        with transaction.atomic():
            _people_chunk(rng, pools, trees, types, numbers, used_ids, count, today, now)
        made += count
        progress(f"{made} members")
    users = _demo_users(trees, rng, today)
    progress("reps and demo users")
    for extension in DEMO_EXTENSIONS:
        extension(members=members, seed=seed)
        progress(extension.__module__)
    demo_factors()
    # whom a locked-out login asks (a unit that names its own, as the municipality does, keeps it)
    for unit in OrgUnit.objects.filter(kind__in=["national", "region"], support_contact=""):
        unit.support_contact = (f"Medlemsservice / Member service, {unit.name}: 815 00 000, medlem@tillit.example"
                                if unit.kind == "national" else f"{unit.name}: 815 00 {unit.pk:03d}")
        unit.save(update_fields=["support_contact"])
    return {"trees": trees, "users": users}


def _people_chunk(rng, pools, trees, types, numbers, used_ids, count, today, now):
    people, plans = [], []
    for _ in range(count):
        country = "SE" if rng.random() < 0.3 else "NO"
        pool = pools[country]
        birth = today - datetime.timedelta(days=rng.randint(19 * 365, 75 * 365))
        while True:
            nid = swedish_id(rng, birth) if country == "SE" else norwegian_id(rng, birth)
            if nid not in used_ids:
                used_ids.add(nid)
                break
        first, last = pool.pick(pool.first), pool.pick(pool.last)
        postcode, city = pool.pick(pool.place)
        email = f"{first}.{last}.{len(used_ids)}@example.{country.lower()}".lower().replace(" ", "")
        phone = f"+47{rng.randint(40000000, 49999999)}" if country == "NO" else f"+4670{rng.randint(1000000, 9999999)}"
        people.append(Person(first_name=first, last_name=last, birth_date=birth, national_id=nid, email=email,
                             phone=phone, address_line=pool.pick(pool.street), postal_code=postcode,
                             city=city, country=country, preferred_language="sv" if country == "SE" else "nb",
                             search_name=Person.make_search_name(first, last), created_at=now, updated_at=now))
        plans.append(country)
    insert_with_ids(Person, people)
    memberships, periods, employments, leaves = [], [], [], []
    branches = {c: [b for b in trees["branches"] if b.country == c] for c in ("NO", "SE")}
    places = {c: [w for w in trees["workplaces"] if w.country == c] for c in ("NO", "SE")}
    for person, country in zip(people, plans, strict=True):
        joined = today - datetime.timedelta(days=rng.randint(0, 30 * 365 // 1))
        joined = max(joined, person.birth_date + datetime.timedelta(days=18 * 365))
        age = (today - person.birth_date).days // 365
        mtype = types["retired"] if age > 67 else types["student"] if age < 24 else types[
            rng.choice(["ordinary"] * 9 + ["associate"])]
        roll = rng.random()
        m = Membership(person_id=person.pk, membership_type=mtype, branch=rng.choice(branches[country]),
                       member_number=next(numbers), joined_on=joined, status=MembershipStatus.ACTIVE)
        history = [(MembershipStatus.ACTIVE, joined, None, "")]
        if roll < 0.08:  # dues-exempt since some time
            start = joined + (today - joined) / 2
            history = [(MembershipStatus.ACTIVE, joined, start, ""),
                       (MembershipStatus.EXEMPT, start, None, rng.choice(EXEMPT_REASONS))]
            m.status = MembershipStatus.EXEMPT
        elif roll < 0.12:  # resigning, ending this month or next
            notice = today - datetime.timedelta(days=rng.randint(1, 20))
            notice = max(notice, joined + datetime.timedelta(days=1))
            # the last day is the end of this month or the next
            ends = (today.replace(day=1) + datetime.timedelta(days=rng.choice([32, 62]))).replace(day=1) - \
                datetime.timedelta(days=1)
            ends = max(ends, notice + datetime.timedelta(days=1))
            history = [(MembershipStatus.ACTIVE, joined, notice, ""), (MembershipStatus.RESIGNING, notice, None, "")]
            m.status, m.notice_on, m.ends_on = MembershipStatus.RESIGNING, notice, ends
        elif roll < 0.18 and joined < today - datetime.timedelta(days=60):  # former member
            ended = joined + (today - joined) / 2
            history = [(MembershipStatus.ACTIVE, joined, ended, ""), (MembershipStatus.ENDED, ended, None, "")]
            m.status, m.ends_on = MembershipStatus.ENDED, ended - datetime.timedelta(days=1)
        memberships.append(m)
        periods.append(history)
        if rng.random() < 0.85 and places[country]:
            starts = joined - datetime.timedelta(days=rng.randint(0, 2000))
            e = Employment(person_id=person.pk, workplace=rng.choice(places[country]), starts_on=starts,
                           position=pools[country].pick(pools[country].job),
                           percentage=rng.choice([100, 100, 100, 80, 60, 50]),
                           payroll_deduction=rng.random() < 0.6,
                           # 32,000–80,000 kroner a month, from the id (the random stream stays as it was)
                           monthly_salary=(320 + person.pk * 7919 % 481) * 10_000)
            employments.append(e)
    insert_with_ids(Membership, memberships)
    insert_with_ids(MembershipPeriod, [MembershipPeriod(membership_id=m.pk, status=s, valid_from=f, valid_to=t,
                                                        reason=r)
                                       for m, history in zip(memberships, periods, strict=True)
                                       for s, f, t, r in history])
    insert_with_ids(Employment, employments)
    for e in employments:
        if rng.random() < 0.05:
            starts = today - datetime.timedelta(days=rng.randint(1, 100))
            leaves.append(LeavePeriod(employment_id=e.pk, starts_on=starts,
                                      ends_on=today + datetime.timedelta(days=rng.randint(1, 200)),
                                      reason=rng.choice(["parental leave", "sick leave", "leave of absence"])))
    insert_with_ids(LeavePeriod, leaves)
    audits = _audits(people, "registry.person.created", "registry.person", "pk", now)
    audits += _audits(memberships, "registry.membership.created", "registry.membership", "person_id", now)
    audits += _audits(employments, "registry.employment.created", "registry.employment", "person_id", now)
    insert_with_ids(AuditEntry, audits)


def _demo_users(trees, rng, today):
    """Reps on most workplaces (some lost theirs), and the six demo logins."""
    from tillit.core.services import grant_access

    User = get_user_model()
    role_types = {r.code: r for r in RoleType.objects.all()}
    places = trees["workplaces"]
    rep_place = None
    for place in places:
        staff = list(Employment.objects.filter(workplace=place, ends_on__isnull=True).select_related("person")[:3])
        if not staff:
            continue
        if rep_place is None:
            rep_place = (place, staff[0].person)
        roll = rng.random()
        if roll < 0.65:
            services.assign_role(staff[0].person, role_types["workplace_rep"], place,
                                 starts_on=today - datetime.timedelta(days=rng.randint(30, 900)), actor=None,
                                 channel="system")
        elif roll < 0.8:  # lost their rep this year
            role = services.assign_role(staff[0].person, role_types["workplace_rep"], place,
                                        starts_on=today - datetime.timedelta(days=700), actor=None, channel="system")
            services.end_role(role, on=today - datetime.timedelta(days=rng.randint(1, 150)), actor=None,
                              channel="system")
        if len(staff) > 1 and rng.random() < 0.3:
            services.assign_role(staff[1].person, role_types["safety_rep"], place,
                                 starts_on=today - datetime.timedelta(days=200), actor=None, channel="system")
    users = {}

    def make(username, **kwargs):
        user = User.objects.create_user(username=username, password=DEMO_PASSWORD, **kwargs)
        users[username] = user
        return user

    make("admin", is_superuser=True, is_staff=True)
    handler = make("handler")
    region = trees["regions"][0]
    grant_access(handler, "case_handler", "org", region, actor=None, channel="system")
    rep_user = make("rep")
    place, rep_person = rep_place
    services.link_user(rep_person, rep_user, actor=None, channel="system")
    if not rep_person.roles.filter(role_type__code="workplace_rep", ends_on__isnull=True).exists():
        services.assign_role(rep_person, role_types["workplace_rep"], place, starts_on=today, actor=None,
                             channel="system")
    regional = make("regional")
    grant_access(regional, "regional_rep", "org", trees["regions"][1], actor=None, channel="system")
    local = make("localadmin")
    grant_access(local, "local_admin", "org", region, actor=None, channel="system")
    member_user = make("member")
    # a member who holds no role: the login shows a member's view, not a rep's
    member = Person.objects.filter(memberships__status=MembershipStatus.ACTIVE, user__isnull=True,
                                   roles__isnull=True).exclude(pk=rep_person.pk).order_by("pk").first()
    services.link_user(member, member_user, actor=None, channel="system")
    return users
