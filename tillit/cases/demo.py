"""Demo case types for a union and for a municipality, and some cases in every state."""

import random

from django.db import transaction

from tillit.cases import services
from tillit.cases.models import CaseType
from tillit.registry.demo import DEMO_LOGINS
from tillit.registry.models import OrgUnit, Person

HANDLE = [
    {"code": "new", "name": "Ny", "category": "new", "deadline_days": 2,
     "translations": {"sv": "Ny", "en": "New"}},
    {"code": "open", "name": "Under behandling", "category": "in_progress", "deadline_days": 10,
     "translations": {"sv": "Under handläggning", "en": "In progress"}},
    {"code": "waiting", "name": "Venter på svar", "category": "waiting", "remind_after_days": 5,
     "translations": {"sv": "Väntar på svar", "en": "Waiting for an answer"}},
    {"code": "closed", "name": "Avsluttet", "category": "closed",
     "translations": {"sv": "Avslutat", "en": "Closed"}},
]
HANDLE_FLOW = [
    {"code": "start", "label": "Start behandling", "from": "new", "to": "open",
     "translations": {"sv": "Påbörja handläggning", "en": "Start work"}},
    {"code": "ask", "label": "Be om opplysninger", "from": "open", "to": "waiting",
     "translations": {"sv": "Begär uppgifter", "en": "Ask for information"}},
    {"code": "answered", "label": "Svar mottatt", "from": "waiting", "to": "open",
     "translations": {"sv": "Svar mottaget", "en": "Answer received"}},
    {"code": "close", "label": "Avslutt", "from": "open", "to": "closed",
     "translations": {"sv": "Avsluta", "en": "Close"}},
    {"code": "close_new", "label": "Avslutt direkte", "from": "new", "to": "closed",
     "translations": {"sv": "Avsluta direkt", "en": "Close at once"}},
    {"code": "reopen", "label": "Gjenåpne", "from": "closed", "to": "open", "roles": ["admin", "case_handler"],
     "translations": {"sv": "Återöppna", "en": "Reopen"}},
]
NEGOTIATION = [
    {"code": "new", "name": "Krav mottatt", "category": "new", "deadline_days": 5,
     "translations": {"sv": "Krav mottaget", "en": "Claim received"}},
    {"code": "prepare", "name": "Forberedelse", "category": "in_progress", "deadline_days": 15,
     "translations": {"sv": "Förberedelse", "en": "Preparation"}},
    {"code": "meeting", "name": "Venter på møte", "category": "waiting", "remind_after_days": 10,
     "translations": {"sv": "Väntar på möte", "en": "Waiting for the meeting"}},
    {"code": "agreed", "name": "Enighet / protokoll", "category": "closed",
     "translations": {"sv": "Överens / protokoll", "en": "Agreed / minutes"}},
    {"code": "broken", "name": "Brudd", "category": "closed", "translations": {"sv": "Oenighet", "en": "Broken off"}},
]
NEGOTIATION_FLOW = [
    {"code": "prepare", "label": "Forbered", "from": "new", "to": "prepare",
     "translations": {"sv": "Förbered", "en": "Prepare"}},
    {"code": "meet", "label": "Møte avtalt", "from": "prepare", "to": "meeting",
     "translations": {"sv": "Möte bokat", "en": "Meeting set"}},
    {"code": "agree", "label": "Enighet", "from": "meeting", "to": "agreed",
     "translations": {"sv": "Överens", "en": "Agreed"}},
    {"code": "break", "label": "Brudd", "from": "meeting", "to": "broken",
     "translations": {"sv": "Oenighet", "en": "Broken off"}},
]
# (name, translations, description, states, transitions, deadline days, required fields, countries)
TYPES = [
    ("Medlemsspørsmål", {"sv": "Medlemsfråga", "en": "Membership question"},
     "Spørsmål om medlemskap, kontingent og forsikringer.", HANDLE, HANDLE_FLOW, 10, [], ["NO"]),
    ("Juridisk bistand", {"sv": "Juridiskt stöd", "en": "Legal aid"},
     "Hjelp fra advokat eller rådgiver i en arbeidsrettslig sak.", HANDLE, HANDLE_FLOW, 30, ["subject"], ["NO"]),
    ("Konflikt på arbeidsplassen", {"sv": "Konflikt på arbetsplatsen", "en": "Conflict at work"},
     "Støtte til medlem eller tillitsvalgt i en konflikt.", HANDLE, HANDLE_FLOW, 20, [], ["NO"]),
    ("Høring", {"sv": "Remiss", "en": "Consultation"}, "Forbundets høringssvar.", HANDLE, HANDLE_FLOW, 25, [],
     ["NO"]),
    ("Forhandling", {"sv": "Förhandling", "en": "Negotiation"}, "Lokale lønnsforhandlinger.", NEGOTIATION,
     NEGOTIATION_FLOW, 40, [], ["NO"]),
    ("Fråga från invånare", {"sv": "Fråga från invånare", "en": "Question from a resident"},
     "Allmän fråga till kommunen.", HANDLE, HANDLE_FLOW, 10, [], ["SE"]),
    ("Synpunkt / klagomål", {"sv": "Synpunkt / klagomål", "en": "Comment or complaint"},
     "Synpunkter och klagomål på kommunens service.", HANDLE, HANDLE_FLOW, 15, [], ["SE"]),
    ("Anmäl en hittekatt", {"sv": "Anmäl en hittekatt", "en": "Report a found cat"},
     "Pilottjänst: anmäl en övergiven eller borttappad katt.", HANDLE, HANDLE_FLOW, 3, [], ["SE"]),
]
TITLES = ["Spørsmål om kontingent", "Oppsigelse", "Overtid ikke betalt", "Permisjon", "Lønnsforhandling",
          "Arbeidsmiljø", "Forsikring", "Turnusplan", "Attest", "Lön utbetalades inte", "Katt i trapphuset"]


MUNICIPALITY = "Strömstads kommun"
# The municipality's departments: (name, the case types of TYPES it handles)
DEPARTMENTS = [("Kontaktcenter", ["Fråga från invånare", "Synpunkt / klagomål"]),
               ("Miljö- och hälsoskyddsförvaltningen", ["Anmäl en hittekatt"]),
               ("Socialförvaltningen", [])]
LOGIN = ("kommun", "a case handler of Strömstads kommun: residents' questions, feedback and found cats")
if LOGIN not in DEMO_LOGINS:
    DEMO_LOGINS.append(LOGIN)


def _municipality():
    """A municipality beside the union, a tree of its own: its departments and a case handler over them."""
    from django.contrib.auth import get_user_model

    from tillit.core.services import grant_access
    from tillit.registry.demo import DEMO_PASSWORD
    from tillit.registry.services import create_org_unit

    root = create_org_unit(MUNICIPALITY, "national", code="K1", country="SE", channel="system")
    departments = {}
    for name, type_names in DEPARTMENTS:
        unit = create_org_unit(name, "department", parent=OrgUnit.objects.get(pk=root.pk), country="SE",
                               channel="system")
        departments.update(dict.fromkeys(type_names, unit))
    users = get_user_model().objects
    if not users.filter(username="kommun").exists():
        login = users.create_user(username="kommun", password=DEMO_PASSWORD, first_name="Kim", last_name="Handläggare")
        grant_access(login, "case_handler", "org", OrgUnit.objects.get(pk=root.pk), actor=None, channel="system")
    root.support_contact = "Kontaktcenter, Strömstads kommun: 0526-190 00"
    root.save(update_fields=["support_contact"])
    return departments


def _member_service(national):
    """The union's member service: incoming email and members' questions are its work, and the demo handler's."""
    from django.contrib.auth import get_user_model

    from tillit.core.services import grant_access
    from tillit.registry.services import create_org_unit

    unit = create_org_unit("Medlemsservice", "department", parent=national, country=national.country,
                           channel="system")
    handler = get_user_model().objects.filter(username="handler").first()
    if handler is not None:
        grant_access(handler, "case_handler", "org", unit, actor=None, channel="system")
    return unit


def load_case_demo(*, members: int, seed: int = 1) -> None:
    """Case types for both kinds of users (the union's and a municipality's, each in its own units), and a case
    for about one member in ten (at most 2000)."""
    cases = min(2000, max(20, members // 10))
    rng = random.Random(seed)
    with transaction.atomic():
        national = OrgUnit.objects.filter(kind="national").order_by("pk").first()
        branches = list(OrgUnit.objects.filter(kind__in=["branch", "department"]).order_by("pk"))
        departments = _municipality()
        member_service = _member_service(OrgUnit.objects.get(pk=national.pk))
        types = []
        for name, names, desc, states, flow, days, required, countries in TYPES:
            unit = departments.get(name) or (member_service if name == "Medlemsspørsmål" else national)
            ctype = services.create_case_type(name, description=desc, default_unit=unit, states=states,
                                              transitions=flow, deadline_days=days, required_fields=required,
                                              channel="system")
            services.translate_case_type(ctype, {"type": names}, countries=countries, channel="system")
            types.append(ctype)
        intake = services.create_case_type("Innkommende e-post", default_unit=member_service, states=HANDLE,
                                           transitions=HANDLE_FLOW, deadline_days=5,
                                           description="E-post som ikke er svar i en sak.", is_intake=True,
                                           channel="system")
        services.translate_case_type(intake, {"type": {"sv": "Inkommande e-post", "en": "Incoming email"}},
                                     channel="system")
        people = list(Person.objects.order_by("pk").values_list("pk", flat=True)[:5000])
        for _ in range(cases):
            ctype: CaseType = rng.choice(types)
            in_municipality = ctype.name in departments
            unit = ctype.default_unit if in_municipality else \
                rng.choice([b for b in branches if ctype.offered_in(b.country)] or branches)
            subject = Person.objects.get(pk=rng.choice(people)) if people else None
            case = services.open_case(ctype, title=rng.choice(TITLES), subjects=[subject] if subject else [],
                                      unit=unit, actor=None, channel="system", body="")
            for _step in range(rng.randint(0, 3)):
                options = services.available_transitions(case, None)  # the ones open to everyone
                if not options:
                    break
                services.transition_case(case, rng.choice(options).code, actor=None, channel="system")
        _handlers_work()


def _handlers_work() -> None:
    """The demo handler's own work on their home page: cases assigned to them by the admin (some overdue), one
    a member has answered, one due tomorrow, and a colleague's note that mentions them."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from tillit.cases.models import Case, CaseEvent
    from tillit.cases.notify import deadlines_tomorrow

    users = get_user_model().objects
    handler, admin = users.filter(username="handler").first(), users.filter(username="admin").first()
    if handler is None or admin is None:
        return
    mine = list(Case.objects.visible_to(handler, "edit").open().order_by("pk")[:6])
    today = timezone.localdate()
    for i, case in enumerate(mine):
        services.assign_case(case, handler, actor=admin, channel="system")
        if i < 2:  # overdue
            Case.objects.filter(pk=case.pk).update(due_on=today - datetime.timedelta(days=2 + i))
        elif i == 2:
            Case.objects.filter(pk=case.pk).update(due_on=today + datetime.timedelta(days=1))
    if mine:
        services.record_event(Case.objects.get(pk=mine[-1].pk), CaseEvent.Kind.MESSAGE_IN, actor=None, public=True,
                              body="Hei, her er lønnsslippen dere ba om.", data={"channel": "portal"})
        services.add_note(Case.objects.get(pk=mine[0].pk), "@handler kan du se på denne før fristen?", actor=admin,
                          channel="system")
    deadlines_tomorrow(today)
