def navigation(request):
    """What the top bar offers this user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from tillit.registry.access import manages_anyone

    return {"can_manage_access": manages_anyone(user)}
