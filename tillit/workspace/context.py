from tillit.core.notify import unread_count
from tillit.core.scopes import CONFIGURE, DUES, EDIT, IMPORT, MERGE, VIEW, VIEW_NOTICES, organisation_wide, scope_for
from tillit.registry.access import manages_anyone
from tillit.reps.access import has_staff_nodes, is_rep
from tillit.workspace.menu import menu


def navigation(request):
    """What the top bar offers this user: the flags of what they may open (asked of the apps' policies) and the
    menu made from them (workspace.menu)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    has_portal = bool(request.session.get("tillit_person")) if hasattr(request, "session") else False
    edit = scope_for(user, EDIT)
    view = scope_for(user, VIEW)
    unread = 0
    if not view.empty:
        unread = unread_count(user)
    flags = {"unread_notifications": unread, "can_edit_anything": not edit.empty,
            "can_manage_access": manages_anyone(user), "can_import": not scope_for(user, IMPORT).empty,
            "can_review_duplicates": not scope_for(user, MERGE).empty,
            "can_see_registry": not view.empty,
            "can_dues": not scope_for(user, DUES).empty,
            "can_see_notices": not scope_for(user, VIEW_NOTICES).empty,
            "is_rep": is_rep(user), "staff_coverage": has_staff_nodes(user),
            "rep_only": scope_for(user, VIEW).via_rep_only,
            "can_write_declaration": organisation_wide(user, CONFIGURE),
            # member service (an edit grant not only a rep's): the reps' corrections queue, messages to a list
            "has_portal": has_portal,
            "member_service": not edit.empty and not edit.via_rep_only}
    return {**flags, "menu": menu(flags, request.path)}
