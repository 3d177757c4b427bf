"""After the demo data: count the reps' KPIs for today and the 24 months behind the trend, and give reps two
message templates (a statutory notice and a newsletter), each in bokmål, Swedish and English."""

TEMPLATES = {
    ("annual-meeting", True): {
        "nb": ("Innkalling til årsmøte i klubben", "Hei {{ first_name }},\n\nDu innkalles til årsmøte i klubben på "
               "{{ workplace }}. Saksliste og tid kommer fra styret.\n\nHilsen {{ sender }}"),
        "sv": ("Kallelse till årsmöte i klubben", "Hej {{ first_name }},\n\nDu kallas till årsmöte i klubben på "
               "{{ workplace }}. Dagordning och tid kommer från styrelsen.\n\nHälsningar {{ sender }}"),
        "en": ("Notice of the club's annual meeting", "Hello {{ first_name }},\n\nYou are called to the annual "
               "meeting of the club at {{ workplace }}. The board sends the agenda and time.\n\nRegards, {{ sender }}"),
    },
    ("news", False): {
        "nb": ("Nytt fra tillitsvalgt", "Hei {{ first_name }},\n\nHer er nytt fra oss på {{ workplace }}.\n\n"
               "Hilsen {{ sender }}"),
        "sv": ("Nytt från ditt ombud", "Hej {{ first_name }},\n\nHär är nytt från oss på {{ workplace }}.\n\n"
               "Hälsningar {{ sender }}"),
        "en": ("News from your rep", "Hello {{ first_name }},\n\nHere is news from us at {{ workplace }}.\n\n"
               "Regards, {{ sender }}"),
    },
}


def load_reps_demo(*, members: int, seed: int = 1) -> None:
    from tillit.messaging.models import MessageTemplate
    from tillit.reps.kpis import recount

    recount()
    if not MessageTemplate.objects.filter(for_selection=True).exists():
        MessageTemplate.objects.bulk_create([
            MessageTemplate(code=code, language=lang, subject=subject, body=body, for_selection=True,
                            statutory=statutory)
            for (code, statutory), texts in TEMPLATES.items() for lang, (subject, body) in texts.items()])
