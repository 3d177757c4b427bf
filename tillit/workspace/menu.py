"""The top bar's menu: what the user may open, grouped (work, people, organisation, settings) so it fits a
1,280 px screen for the system owner and a phone for everyone, the current page's item and group marked.

Each item names the flag of the navigation context (workspace.context.navigation) that shows it; the flags come
from the same policy the pages check, so the menu never offers a page that answers 403 or 404."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# (group label, [(url name, label, shown when)]); a group without a label is the bar's own first links.
MENU = [
    (None, [
        ("home", _("My work"), lambda f: f["can_see_registry"] and not f["rep_only"] and f["can_edit_anything"]),
        ("reps_home", _("My portal"), lambda f: f["is_rep"]),
        ("portal_home", _("My page"), lambda f: f["has_portal"]),
        ("portal_services", _("Ask us"), lambda f: not (f["can_see_registry"] or f["is_rep"]
                                                         or f["can_see_notices"])),
        ("portal_help", _("Help"), lambda f: not (f["can_see_registry"] or f["is_rep"] or f["can_see_notices"])),
        ("people", _("People"), lambda f: f["can_see_registry"] and f["rep_only"]),
    ]),
    (_("Work"), [
        ("cases", _("Cases"), lambda f: f["can_see_registry"] and not f["rep_only"]),
        ("documents", _("Documents"), lambda f: f["can_see_registry"] and not f["rep_only"]),
        ("dues_home", _("Dues"), lambda f: f["can_dues"]),
        ("dues_notices", _("Deduction notices"), lambda f: f["can_see_notices"] and not f["can_dues"]),
        ("dues_returns", _("Returns"), lambda f: f["can_see_notices"] and not f["can_dues"]),
    ]),
    (_("People"), [
        ("people", _("People"), lambda f: f["can_see_registry"] and not f["rep_only"]),
        ("import_upload", _("Import"), lambda f: f["can_import"]),
        ("duplicate_reviews", _("Possible duplicates"), lambda f: f["can_review_duplicates"]),
        ("correction_queue", _("Reps' corrections"), lambda f: f["member_service"]),
        ("mailings", _("Messages sent"), lambda f: f["member_service"]),
    ]),
    (_("Organisation"), [
        ("org_units", _("Organisation"), lambda f: f["can_see_registry"] and not f["rep_only"]),
        ("employers", _("Employers"), lambda f: f["can_see_registry"] and not f["rep_only"]),
        ("reps_coverage", _("Reps' coverage"), lambda f: f["staff_coverage"] and not f["is_rep"]),
        ("access_users", _("Users and access"), lambda f: f["can_manage_access"]),
    ]),
    (_("Settings"), [
        ("reps_declaration_edit", _("Reps' declaration"), lambda f: f["can_write_declaration"]),
        ("selection_templates", _("Message templates"), lambda f: f["can_write_declaration"]),
        ("portal_manage_services", _("Service catalogue"), lambda f: f["can_write_declaration"]),
        ("portal_manage_articles", _("Help articles"), lambda f: f["can_write_declaration"]),
    ]),
]


def menu(flags: dict, path: str) -> list[dict]:
    """The groups and items this user sees; the item whose address is the longest start of `path` is current."""
    groups = []
    for label, items in MENU:
        shown = [{"url": reverse(name), "label": text} for name, text, when in items if when(flags)]
        if shown:
            groups.append({"label": label, "items": shown})
    candidates = [item for group in groups for item in group["items"]
                  if path == item["url"] or (item["url"] != "/" and path.startswith(item["url"]))]
    if candidates:
        current = max(candidates, key=lambda item: len(item["url"]))
        current["current"] = True
        for group in groups:
            group["current"] = any(item.get("current") for item in group["items"])
    return groups
