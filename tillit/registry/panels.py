"""Sections other apps add to the person page and to the pages of both trees' nodes (documents, ...)."""

from tillit.core.panels import Panels

PERSON_PANELS = Panels()
register_person_panel = PERSON_PANELS.register
person_panels = PERSON_PANELS.render

# tree name ("org", "employer") -> sections of a node's page
NODE_PANELS = {"org": Panels(), "employer": Panels()}
