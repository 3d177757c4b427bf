"""API v1: one NinjaAPI, one router per domain, errors in one JSON shape:

    {"message": "...", "errors": {"field": ["..."]}}   (422 validation, 409 conflict, 403 refused, 404, 401)
"""

import json

from django.db import transaction
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from tillit.api.auth import TokenAuth
from tillit.api.cases import router as cases_router
from tillit.api.documents import router as documents_router
from tillit.api.dues import router as dues_router
from tillit.api.registry import router as registry_router
from tillit.api.reps import router as reps_router
from tillit.api.workspace import router as workspace_router
from tillit.core.errors import ConflictError, DomainError, InvalidInput
from tillit.core.policy import Refused

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ERRORS = {"401": "A valid API token is required.", "403": "Not allowed for the token's user.",
          "404": "Not found, or outside your scope.",
          "405": "Method not allowed.", "409": "Changed meanwhile, or a conflict with existing data.",
          "422": "The request is not valid: `errors` names each field at fault."}


class TillitAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        """Document the error answers every operation can give, in the one error shape."""
        schema = super().get_openapi_schema(**kwargs)
        schema["components"]["schemas"]["Error"] = {
            "type": "object", "required": ["message", "errors"], "properties": {
                "message": {"type": "string"},
                "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                "matches": {"type": "array", "items": {"type": "integer"}}}}
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                codes = ["401", "404", "405", "422"] + (["403", "409"] if method.upper() in WRITES else [])
                for code in codes:
                    operation["responses"].setdefault(code, {
                        "description": ERRORS[code],
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        return schema


class ObjectParser(Parser):
    """A JSON body is one object: an array, a number or null is refused (ninja would read it as "no fields")."""

    def parse_body(self, request):
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data


api = TillitAPI(title="Tillit API", version="1", auth=TokenAuth(), urls_namespace="api", parser=ObjectParser())


def _error(request, status, message, errors=None, **extra):
    return api.create_response(request, {"message": message, "errors": errors or {}, **extra}, status=status)


@api.exception_handler(InvalidInput)
def invalid(request, exc):
    return _error(request, 422, exc.message, exc.field_errors)


@api.exception_handler(ConflictError)
def conflict(request, exc):
    return _error(request, 409, exc.message, exc.field_errors,
                  matches=[person.pk for person, _reasons in exc.matches])  # the service names only visible ones


@api.exception_handler(Refused)
def refused(request, exc):
    return _error(request, 403, exc.message, exc.field_errors)


@api.exception_handler(DomainError)
def domain(request, exc):
    return _error(request, 422, exc.message, exc.field_errors)


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "Not found.")


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return _error(request, 401, "A valid API token is required (Authorization: Bearer <token>).")


@api.exception_handler(HttpError)
def http_error(request, exc):
    if exc.status_code == 400:  # a body that is not JSON, or JSON that is not an object
        return _error(request, 422, "The request body is not a JSON object.", {"body": ["Not a JSON object."]})
    return _error(request, exc.status_code, str(exc))


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


for _router in (registry_router, cases_router, documents_router, dues_router, reps_router, workspace_router):
    # Every write is one transaction: an error anywhere in it (a 4xx included) rolls all of it back.
    for _path in _router.path_operations.values():
        for _operation in _path.operations:
            if WRITES & set(_operation.methods):
                _operation.view_func = transaction.atomic(_operation.view_func)
    api.add_router("/", _router)
