"""Sections other apps add to the person page, so the registry never imports them.

An app registers `panel(request, person) -> (template name, context) | None` in its ready().
"""

PERSON_PANELS = []


def register_person_panel(panel):
    if panel not in PERSON_PANELS:
        PERSON_PANELS.append(panel)
    return panel


def person_panels(request, person):
    out = []
    for panel in PERSON_PANELS:
        result = panel(request, person)
        if result:
            out.append(result)
    return out
