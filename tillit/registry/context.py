def navigation(request):
    """What the top bar offers this user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from tillit.core.scopes import IMPORT, MERGE, scope_for
    from tillit.registry.access import manages_anyone

    return {"can_manage_access": manages_anyone(user), "can_import": not scope_for(user, IMPORT).empty,
            "can_review_duplicates": not scope_for(user, MERGE).empty}
