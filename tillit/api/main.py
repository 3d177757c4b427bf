"""API v1: one NinjaAPI, one router per domain, errors in one JSON shape:

    {"message": "...", "errors": {"field": ["..."]}}   (422 validation, 409 conflict, 404, 401)
"""

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from tillit.api.auth import TokenAuth
from tillit.api.cases import router as cases_router
from tillit.api.documents import router as documents_router
from tillit.api.registry import router as registry_router
from tillit.core.errors import ConflictError, DomainError, InvalidInput

api = NinjaAPI(title="Tillit API", version="1", auth=TokenAuth(), urls_namespace="api")


def _error(request, status, message, errors=None, **extra):
    return api.create_response(request, {"message": message, "errors": errors or {}, **extra}, status=status)


@api.exception_handler(InvalidInput)
def invalid(request, exc):
    return _error(request, 422, exc.message, exc.field_errors)


@api.exception_handler(ConflictError)
def conflict(request, exc):
    return _error(request, 409, exc.message, exc.field_errors,
                  matches=[getattr(p, "pk", p) for p in getattr(exc, "visible_matches", [])])


@api.exception_handler(DomainError)
def domain(request, exc):
    return _error(request, 422, exc.message, exc.field_errors)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "Not found.")


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return _error(request, 401, "A valid API token is required (Authorization: Bearer <token>).")


@api.exception_handler(NinjaValidationError)
def malformed(request, exc):
    errors = {}
    for item in exc.errors:
        loc = [str(part) for part in item.get("loc", [])]
        if loc and loc[0] in ("body", "query", "path", "form", "file", "header", "cookie"):
            loc = loc[1:]  # where the value came from, not which field
        loc = [part for part in loc if part != "payload"]
        errors.setdefault(".".join(loc) or "request", []).append(item.get("msg", "invalid"))
    return _error(request, 422, "The request is not valid.", errors)


api.add_router("/", registry_router)
api.add_router("/", cases_router)
api.add_router("/", documents_router)
