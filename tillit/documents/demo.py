"""Demo documents: categories, and text documents linked to cases and their people, searchable at once."""

import random

from django.core.files.base import ContentFile
from django.db import transaction

from tillit.cases.models import Case
from tillit.documents import services
from tillit.documents.models import Category
from tillit.documents.text import extract_text

CATEGORIES = [("agreement", "Avtale / Avtal"), ("minutes", "Referat / Protokoll"), ("letter", "Brev"),
              ("payslip", "Lønnsslipp / Lönebesked"), ("certificate", "Attest / Intyg"),
              ("circular", "Rundskriv / Cirkulär")]
KINDS = [
    ("agreement", "Arbeidsavtale", "Arbeidsavtale mellom arbeidstaker og arbeidsgiver. Stillingsprosent {pct} %, "
                                   "lønnstrinn {step}, prøvetid seks måneder. Overtid godtgjøres etter tariff."),
    ("minutes", "Referat fra drøftingsmøte", "Referat fra drøftingsmøte om bemanning og turnus. Tillitsvalgt "
                                             "krevde at {pct} % stillinger lyses ut som hele stillinger."),
    ("letter", "Brev til arbeidsgiver", "Vi viser til samtale om oppsigelse og ber om et nytt møte. Medlemmet "
                                        "har krav på skriftlig begrunnelse og drøfting før vedtak."),
    ("payslip", "Lönebesked", "Lönebesked för perioden. Grundlön, OB-tillägg och övertid {pct} timmar. "
                              "Avdrag för fackföreningsavgift enligt avtal."),
    ("certificate", "Intyg om anställning", "Intyg om anställning. Anställd sedan år {year} på heltid, "
                                           "tillsvidareanställning med {pct} procent sysselsättningsgrad."),
]


def load_document_demo(*, members: int, seed: int = 1) -> None:
    rng = random.Random(seed + 4)
    categories = {code: Category.objects.get_or_create(code=code, defaults={"name": name})[0]
                  for code, name in CATEGORIES}
    cases = list(Case.objects.select_related("responsible_unit").order_by("pk")[:max(20, min(400, members // 20))])
    made = []
    with transaction.atomic():
        for i, case in enumerate(cases):
            code, title, text = rng.choice(KINDS)
            body = text.format(pct=rng.choice([50, 60, 80, 100]), step=rng.randint(20, 60),
                               year=rng.randint(1995, 2024))
            content = f"# {title}\n\n{body}\n\nSak {case.number}.\n"
            document = services.create_document(
                file=ContentFile(content.encode()), filename=f"{code}-{i + 1}.md", unit=case.responsible_unit,
                actor=None, channel="system", title=title, category=categories[code], cases=[case],
                persons=list(case.subjects.all()))
            made.append(document.current_id)
    for version_id in made:
        extract_text.call(version_id)
