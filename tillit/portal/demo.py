"""Self-service in the demo: the found-cat pilot service, a members' question service, a booking service, the
feedback (synpunkt) service and a handful of help articles, in bokmål, Swedish and English; and a citizen login
(a person without membership) beside the member's."""

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from tillit.registry.demo import DEMO_LOGINS, DEMO_PASSWORD

LOGIN = ("citizen", "a citizen without membership: own cases, requests, bookings, feedback")
if LOGIN not in DEMO_LOGINS:
    DEMO_LOGINS.append(LOGIN)

TITLE = {"key": "title", "kind": "short", "required": True,
         "labels": {"nb": "Hva gjelder det?", "sv": "Vad gäller det?", "en": "What is it about?"}}
SERVICES = [
    ("Anmäl en hittekatt", "anyone", {
        "titles": {"nb": "Meld fra om en funnet katt", "sv": "Anmäl en hittekatt", "en": "Report a found cat"},
        "intros": {"nb": "Har du funnet en katt som virker forlatt eller bortkommen? Fortell oss hvor.",
                   "sv": "Har du hittat en katt som verkar övergiven eller borttappad? Berätta var.",
                   "en": "Found a cat that seems abandoned or lost? Tell us where."}},
     [TITLE,
      {"key": "where", "kind": "short", "required": True,
       "labels": {"nb": "Hvor er katten?", "sv": "Var är katten?", "en": "Where is the cat?"},
       "helps": {"nb": "Adresse eller sted", "sv": "Adress eller plats", "en": "Address or place"}},
      {"key": "colour", "kind": "choice", "labels": {"nb": "Farge", "sv": "Färg", "en": "Colour"},
       "choices": [{"value": "black", "labels": {"nb": "Svart", "sv": "Svart", "en": "Black"}},
                   {"value": "tabby", "labels": {"nb": "Stripete", "sv": "Randig", "en": "Tabby"}},
                   {"value": "other", "labels": {"nb": "Annen", "sv": "Annan", "en": "Other"}}]},
      {"key": "seen_on", "kind": "date", "labels": {"nb": "Sett dato", "sv": "Sedd datum", "en": "Seen on"}},
      {"key": "collar", "kind": "yes_no", "labels": {"nb": "Har den halsbånd?", "sv": "Har den halsband?",
                                                     "en": "Does it wear a collar?"}},
      {"key": "photo", "kind": "file", "labels": {"nb": "Bilde", "sv": "Bild", "en": "Photo"}}]),
    ("Medlemsspørsmål", "members", {
        "titles": {"nb": "Spørsmål om medlemskapet", "sv": "Fråga om medlemskapet", "en": "A question about your "
                                                                                         "membership"},
        "intros": {"nb": "Kontingent, forsikringer, innmelding og utmelding.",
                   "sv": "Avgift, försäkringar, inträde och utträde.",
                   "en": "Dues, insurance, joining and leaving."}},
     [TITLE, {"key": "question", "kind": "long", "required": True,
              "labels": {"nb": "Spørsmålet ditt", "sv": "Din fråga", "en": "Your question"}}]),
    ("Juridisk bistand", "members", {
        "titles": {"nb": "Bestill en samtale", "sv": "Boka ett samtal", "en": "Book a talk"},
        "intros": {"nb": "Velg en tid for en samtale med en rådgiver (30 minutter).",
                   "sv": "Välj en tid för ett samtal med en rådgivare (30 minuter).",
                   "en": "Choose a time to talk with an adviser (30 minutes)."}, "bookable": True},
     [{"key": "topic", "kind": "short", "labels": {"nb": "Tema", "sv": "Ämne", "en": "Topic"}}]),
    ("Synpunkt / klagomål", "anyone", {
        "titles": {"nb": "Gi tilbakemelding", "sv": "Lämna synpunkter", "en": "Give feedback"},
        "intros": {"nb": "Ros, ris eller forslag: vi leser alt.", "sv": "Beröm, klagomål eller förslag: vi läser allt.",
                   "en": "Praise, complaints or ideas: we read them all."}, "feedback": True},
     [TITLE, {"key": "text", "kind": "long", "required": True,
              "labels": {"nb": "Tilbakemeldingen", "sv": "Dina synpunkter", "en": "Your feedback"}}]),
]
ARTICLES = [
    ("nb", "Medlemskap", "Hvordan melder jeg meg ut?", "Utmelding skjer skriftlig. Gå til Mine opplysninger og velg "
     "«Be om en annen endring», eller skriv til medlemsservice. Medlemskapet løper ut måneden etter."),
    ("nb", "Kontingent", "Hvorfor har kontingenten endret seg?", "Kontingenten er en prosent av lønnen, med et gulv "
     "og et tak. Når lønnen endres, endres trekket fra neste lønnskjøring."),
    ("nb", "Kontingent", "Kontingentfritak ved permisjon", "Er du i foreldrepermisjon eller sykmeldt, kan du få "
     "fritak for kontingent. Be om det fra Mine opplysninger."),
    ("sv", "Katter", "Vad händer med en hittekatt?", "Kommunen kontaktar djurskyddet. Katten fotograferas och "
     "annonseras i två veckor innan den får ett nytt hem."),
    ("sv", "Avgift", "Hur betalar jag medlemsavgiften?", "Avgiften dras på lönen om arbetsgivaren gör löneavdrag, "
     "annars får du en faktura med OCR-nummer."),
    ("en", "Membership", "How do I leave the union?", "Ask for it in writing: on My details choose “Ask for another "
     "change”, or write to member service. The membership ends at the end of the next month."),
    ("en", "Cats", "What happens to a found cat?", "We contact the animal welfare service. The cat is photographed "
     "and announced for two weeks before it gets a new home."),
]


def load_portal_demo(*, members: int, seed: int = 1) -> None:
    from tillit.cases.models import CaseType
    from tillit.portal import knowledge
    from tillit.portal.models import Article, FormField, Service
    from tillit.registry import services as registry

    with transaction.atomic():
        for name, audience, settings, fields in SERVICES:
            case_type = CaseType.objects.filter(name=name).first()
            if case_type is None or Service.objects.filter(case_type=case_type).exists():
                continue
            extra = {}
            if settings.get("bookable"):
                extra = {"bookable": True, "opens": datetime.time(9), "closes": datetime.time(15),
                         "slot_minutes": 30, "capacity": 2}
            service = Service.objects.create(case_type=case_type, titles=settings["titles"], intros=settings["intros"],
                                             audience=audience, feedback=settings.get("feedback", False), **extra)
            FormField.objects.bulk_create([FormField(service=service, position=i, key=f["key"], kind=f["kind"],
                                                     labels=f["labels"], helps=f.get("helps", {}),
                                                     choices=f.get("choices", []), required=f.get("required", False))
                                           for i, f in enumerate(fields)])
        if not Article.objects.exists():
            for language, category, title, body in ARTICLES:
                article = Article.objects.create(title=title, body=body, language=language, category=category,
                                                 state=Article.State.PUBLISHED)
                knowledge.index(article)
        User = get_user_model()
        if not User.objects.filter(username="citizen").exists():
            person = registry.create_person({"first_name": "Kim", "last_name": "Invånare",
                                             "email": "kim.invanare@example.se", "preferred_language": "sv"},
                                            actor=None, channel="system", allow_duplicate=True)
            user = User.objects.create_user(username="citizen", password=DEMO_PASSWORD, email=person.email)
            registry.link_user(person, user, actor=None, channel="system")
