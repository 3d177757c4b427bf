"""Sections other apps add to the person page (cases, documents, ...)."""

from tillit.core.panels import Panels

PERSON_PANELS = Panels()
register_person_panel = PERSON_PANELS.register
person_panels = PERSON_PANELS.render
