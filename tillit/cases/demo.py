"""Demo case types for a union and for a municipality, and some cases in every state."""

import random

from django.db import transaction

from tillit.cases import services
from tillit.cases.models import CaseType
from tillit.registry.models import OrgUnit, Person

HANDLE = [
    {"code": "new", "name": "Ny / Ny", "category": "new", "deadline_days": 2},
    {"code": "open", "name": "Under behandling / Under handläggning", "category": "in_progress",
     "deadline_days": 10},
    {"code": "waiting", "name": "Venter på svar / Väntar på svar", "category": "waiting", "remind_after_days": 5},
    {"code": "closed", "name": "Avsluttet / Avslutat", "category": "closed"},
]
HANDLE_FLOW = [
    {"code": "start", "label": "Start behandling", "from": "new", "to": "open"},
    {"code": "ask", "label": "Be om opplysninger", "from": "open", "to": "waiting"},
    {"code": "answered", "label": "Svar mottatt", "from": "waiting", "to": "open"},
    {"code": "close", "label": "Avslutt", "from": "open", "to": "closed"},
    {"code": "close_new", "label": "Avslutt direkte", "from": "new", "to": "closed"},
    {"code": "reopen", "label": "Gjenåpne", "from": "closed", "to": "open", "roles": ["admin", "case_handler"]},
]
NEGOTIATION = [
    {"code": "new", "name": "Krav mottatt", "category": "new", "deadline_days": 5},
    {"code": "prepare", "name": "Forberedelse", "category": "in_progress", "deadline_days": 15},
    {"code": "meeting", "name": "Venter på møte", "category": "waiting", "remind_after_days": 10},
    {"code": "agreed", "name": "Enighet / protokoll", "category": "closed"},
    {"code": "broken", "name": "Brudd", "category": "closed"},
]
NEGOTIATION_FLOW = [
    {"code": "prepare", "label": "Forbered", "from": "new", "to": "prepare"},
    {"code": "meet", "label": "Møte avtalt", "from": "prepare", "to": "meeting"},
    {"code": "agree", "label": "Enighet", "from": "meeting", "to": "agreed"},
    {"code": "break", "label": "Brudd", "from": "meeting", "to": "broken"},
]
TYPES = [
    ("Medlemsspørsmål", "Spørsmål om medlemskap, kontingent og forsikringer.", HANDLE, HANDLE_FLOW, 10, []),
    ("Juridisk bistand", "Hjelp fra advokat eller rådgiver i en arbeidsrettslig sak.", HANDLE, HANDLE_FLOW, 30,
     ["subject"]),
    ("Konflikt på arbeidsplassen", "Støtte til medlem eller tillitsvalgt i en konflikt.", HANDLE, HANDLE_FLOW, 20,
     []),
    ("Høring", "Forbundets høringssvar.", HANDLE, HANDLE_FLOW, 25, []),
    ("Forhandling", "Lokale lønnsforhandlinger.", NEGOTIATION, NEGOTIATION_FLOW, 40, []),
    ("Fråga från invånare", "Allmän fråga till kommunen.", HANDLE, HANDLE_FLOW, 10, []),
    ("Synpunkt / klagomål", "Synpunkter och klagomål på kommunens service.", HANDLE, HANDLE_FLOW, 15, []),
    ("Anmäl en hittekatt", "Pilottjänst: anmäl en övergiven eller borttappad katt.", HANDLE, HANDLE_FLOW, 3, []),
]
TITLES = ["Spørsmål om kontingent", "Oppsigelse", "Overtid ikke betalt", "Permisjon", "Lønnsforhandling",
          "Arbeidsmiljø", "Forsikring", "Turnusplan", "Attest", "Lön utbetalades inte", "Katt i trapphuset"]


def load_case_demo(*, members: int, seed: int = 1) -> None:
    """Case types for both kinds of users, and a case for about one member in ten (at most 2000)."""
    cases = min(2000, max(20, members // 10))
    rng = random.Random(seed)
    with transaction.atomic():
        national = OrgUnit.objects.filter(kind="national").order_by("pk").first()
        branches = list(OrgUnit.objects.filter(kind__in=["branch", "department"]).order_by("pk"))
        types = []
        for i, (name, desc, states, flow, days, required) in enumerate(TYPES):
            unit = branches[i % len(branches)] if i >= 5 else national
            types.append(services.create_case_type(name, description=desc, default_unit=unit, states=states,
                                                   transitions=flow, deadline_days=days, required_fields=required,
                                                   channel="system"))
        services.create_case_type("Innkommende e-post / Inkommande e-post", default_unit=national,
                                           states=HANDLE, transitions=HANDLE_FLOW, deadline_days=5,
                                           description="E-post som ikke er svar i en sak.", is_intake=True,
                                           channel="system")
        people = list(Person.objects.order_by("pk").values_list("pk", flat=True)[:5000])
        for _ in range(cases):
            ctype: CaseType = rng.choice(types)
            unit = rng.choice(branches)
            subject = Person.objects.get(pk=rng.choice(people)) if people else None
            case = services.open_case(ctype, title=rng.choice(TITLES), subjects=[subject] if subject else [],
                                      unit=unit, actor=None, channel="system", body="")
            for _step in range(rng.randint(0, 3)):
                options = services.available_transitions(case, None)  # the ones open to everyone
                if not options:
                    break
                services.transition_case(case, rng.choice(options).code, actor=None, channel="system")
