"""Sections one app adds to another app's page, so the page's app never imports the app that adds them.

An app registers `panel(request, obj) -> (template name, context) | None` in its ready().
"""


class Panels:
    def __init__(self):
        self._panels = []

    def register(self, panel):
        if panel not in self._panels:
            self._panels.append(panel)
        return panel

    def render(self, request, obj) -> list[tuple[str, dict]]:
        return [result for panel in self._panels if (result := panel(request, obj))]
