from ninja.security import HttpBearer

from tillit.core.services import user_for_token


class TokenAuth(HttpBearer):
    """Personal API tokens: `Authorization: Bearer tlt_…`."""

    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user
