"""Test data built through the real services, so tests see what users would create."""

import dataclasses
import datetime
import itertools

from django.contrib.auth import get_user_model

from tillit.core.services import grant_access
from tillit.registry import services
from tillit.registry.demo import norwegian_id, norwegian_org_number
from tillit.registry.models import Employer, MembershipType, OrgUnit, Person, RoleType

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery"


def user(username=None, **kwargs):
    username = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **kwargs)


def national_id(birth=None):
    """A valid fødselsnummer, unique in the test run (each call has its own birth date unless given)."""
    import random

    n = next(_counter)
    birth = birth or datetime.date(1950, 1, 1) + datetime.timedelta(days=n * 3)
    return norwegian_id(random.Random(n), birth)


def person(actor=None, channel="system", **fields) -> Person:
    n = next(_counter)
    data = {"first_name": f"Kari{n}", "last_name": f"Nordmann{n}", "email": f"kari{n}@example.no"} | fields
    return services.create_person(data, actor=actor, channel=channel, allow_duplicate=True)


def membership_type(code="ordinary"):
    return MembershipType.objects.get_or_create(code=code, defaults={"name": code.title()})[0]


def role_type(code="workplace_rep", grant_role="rep"):
    return RoleType.objects.get_or_create(code=code, defaults={"name": code, "grant_role": grant_role})[0]


def member(branch, *, joined_on=datetime.date(2020, 1, 1), **fields):
    p = person(**fields)
    m = services.add_membership(p, membership_type=membership_type(), branch=branch, joined_on=joined_on,
                                actor=None, channel="system")
    return p, m


@dataclasses.dataclass
class Side:
    region: OrgUnit
    branch: OrgUnit
    company: Employer
    workplace: Employer
    members: list
    staff: object  # case handler with a grant on the region
    rep: object  # login of a workplace rep (through a role)
    rep_person: Person
    marker: str  # a string that appears only in this side's personal data


@dataclasses.dataclass
class World:
    national: OrgUnit
    a: Side
    b: Side
    admin: object


def _side(national, label, region_name):
    region = services.create_org_unit(region_name, "region", parent=national, channel="system")
    national.refresh_from_db()
    branch = services.create_org_unit(f"{region_name} avdeling", "branch", parent=region, channel="system")
    import random

    company = services.create_employer(f"{label} Bedrift AS", "company",
                                       org_number=norwegian_org_number(random.Random(len(label) + ord(label[0]))),
                                       channel="system")
    workplace = services.create_employer(f"{label} Verksted", "workplace", parent=company, region=region,
                                         channel="system")
    marker = f"Zq{label}marker"
    members = []
    for i in range(3):
        p, m = member(branch, first_name=f"{marker}{i}", last_name=f"{label}sen",
                      email=f"{marker.lower()}{i}@example.no", national_id=national_id())
        services.add_employment(p, {"workplace": workplace, "starts_on": "2021-01-01", "position": "Fagarbeider"},
                                actor=None, channel="system")
        members.append((p, m))
    staff = user(f"staff_{label.lower()}")
    grant_access(staff, "case_handler", "org", region, actor=None, channel="system")
    rep_person = members[0][0]
    rep = user(f"rep_{label.lower()}")
    services.link_user(rep_person, rep, actor=None, channel="system")
    services.assign_role(rep_person, role_type(), workplace, starts_on=datetime.date(2022, 1, 1), actor=None,
                         channel="system")
    return Side(region, branch, company, workplace, members, staff, rep, rep_person, marker)


def build_world() -> World:
    national = services.create_org_unit("Forbundet", "national", channel="system")
    a = _side(national, "Alfa", "Region Alfa")
    national.refresh_from_db()
    b = _side(national, "Beta", "Region Beta")
    admin = user("admin", is_superuser=True, is_staff=True)
    return World(national, a, b, admin)


SIMPLE_STATES = [
    {"code": "new", "name": "New", "category": "new", "deadline_days": 2},
    {"code": "open", "name": "In progress", "category": "in_progress", "deadline_days": 10},
    {"code": "waiting", "name": "Waiting for the member", "category": "waiting", "remind_after_days": 5},
    {"code": "closed", "name": "Closed", "category": "closed"},
]
SIMPLE_TRANSITIONS = [
    {"code": "start", "label": "Start", "from": "new", "to": "open"},
    {"code": "wait", "label": "Ask the member", "from": "open", "to": "waiting"},
    {"code": "resume", "label": "Answer received", "from": "waiting", "to": "open"},
    {"code": "close", "label": "Close", "from": "open", "to": "closed"},
    {"code": "reopen", "label": "Reopen", "from": "closed", "to": "open", "roles": ["admin"]},
]


def case_type(unit, name="Membership question", **kwargs):
    from tillit.cases.services import create_case_type

    return create_case_type(name, default_unit=unit, states=SIMPLE_STATES, transitions=SIMPLE_TRANSITIONS,
                            deadline_days=kwargs.pop("deadline_days", 15), **kwargs)


def case(world_side, title="Question about dues", **kwargs):
    from tillit.cases.services import open_case

    ctype = kwargs.pop("case_type", None) or case_type(world_side.branch)
    return open_case(ctype, title=title, actor=None, channel="system",
                     subjects=kwargs.pop("subjects", [world_side.members[1][0]]), **kwargs)


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF whose page shows `text` (ASCII), built by hand so tests need no PDF writer."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
               b" /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def document(world_side, content: bytes = b"", filename="notes.txt", actor=None, **kwargs):
    """A document of the side's branch; its text holds the side's marker unless content is given."""
    from django.core.files.base import ContentFile

    from tillit.documents.services import create_document

    content = content or f"Referat {world_side.marker} lonnsoppgjor".encode()
    return create_document(file=ContentFile(content), filename=filename, unit=kwargs.pop("unit", world_side.branch),
                           actor=actor, channel="system", **kwargs)


DUES_PERIOD = datetime.date(2027, 1, 1)


def dues_month(world, period=DUES_PERIOD):
    """A month of dues for both sides: 400 kr each, members 0 and 1 by payroll deduction, member 2 by invoice;
    the run, the notices, each company's return (one amount wrong: a deviation) and a bank file paying the
    invoices. Sets side.notice, side.ret, side.invoice and side.deviation; the run is the organisation's, on A."""
    from tillit.dues import giro, notices, returns
    from tillit.dues import run as runs
    from tillit.dues.demo import ocr_file
    from tillit.dues.models import DeductionNotice, Deviation, DuesPolicy, FeeSchedule, Invoice
    from tillit.registry.models import Employment, MembershipType

    if not DuesPolicy.objects.exists():
        DuesPolicy.objects.create(bank_account="15032012345", nets_customer_id="00012345",
                                  nets_agreement_id="000123456")
        FeeSchedule.objects.create(membership_type=MembershipType.objects.get(code="ordinary"),
                                   valid_from=datetime.date(2020, 1, 1), amount=40_000)
    for side in (world.a, world.b):
        for p, _m in side.members[:2]:
            Employment.objects.filter(person=p).update(payroll_deduction=True)
    world.a.run = runs.run_period(period)
    world.b.run = None
    notices.make_notices(period)
    for side in (world.a, world.b):
        side.notice = DeductionNotice.objects.get(payroll_unit=side.company, period=period)
        m0, m1 = side.members[0][1], side.members[1][1]
        side.ret = returns.receive_return(side.company, (
            f"member_number;period;amount\n{m0.member_number};{period:%Y-%m};400\n"
            f"{m1.member_number};{period:%Y-%m};390\n").encode(), filename=f"{side.marker}.csv")
        side.invoice = Invoice.objects.get(person=side.members[2][0], charge__period=period)
        side.deviation = Deviation.objects.get(employer_return=side.ret)
    invoices = [world.a.invoice, world.b.invoice]
    giro.read_file(ocr_file([(i.kid, i.amount) for i in invoices], number=f"{period:%y%m}001",
                            date=period + datetime.timedelta(days=18)).encode(), filename="bank.txt")
    return world


def every_link_opens(client, start: str, *, limit: int = 150) -> set[str]:
    """Follow every link the pages show from `start` (the client's login), failing on any that does not open;
    returns the pages seen."""
    import re

    seen, todo = set(), [start]
    while todo and len(seen) < limit:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        assert response.status_code == 200, f"{url} is linked and answers {response.status_code}"
        if response.get("Content-Type", "").startswith("text/html"):
            for href in re.findall(r'href="(/[^"#]*)"', response.content.decode()):
                href = href.replace("&amp;", "&")
                if not href.startswith(("/static/", "/i18n/", "/admin/")) and "page=" not in href:
                    todo.append(href)
    return seen


def lost_and_lone(world):
    """A regional rep over A's region, a workplace of three members that never had a rep ("Alfa Lager"), and A's
    workplace whose rep's term ended ten days ago; the KPIs counted for today."""
    from tillit.core.services import grant_access
    from tillit.registry import services
    from tillit.reps import kpis

    regional = user("regional_alfa")
    grant_access(regional, "regional_rep", "org", world.a.region, actor=None, channel="system")
    lone = services.create_employer("Alfa Lager", "workplace", parent=world.a.company, region=world.a.region,
                                    channel="system")
    for i in range(3):
        p, _m = member(world.a.branch, first_name=f"Lager{i}", last_name="Alfa", national_id=national_id())
        services.add_employment(p, {"workplace": lone, "starts_on": "2021-01-01"}, actor=None, channel="system")
    role = world.a.rep_person.roles.get()
    services.end_role(role, on=datetime.date.today() - datetime.timedelta(days=10), actor=None, channel="system")
    kpis.recount([datetime.date.today()])
    return regional, lone
