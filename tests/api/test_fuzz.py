"""The whole API under a schema-driven fuzzer: no input gives a server error or an answer the schema
does not describe, for a user who sees everything and for one scoped to a region.

Fixed seed and a fixed budget per operation, so a run is repeatable and its time stays put;
`TILLIT_FUZZ_EXAMPLES` raises the budget for a longer hunt.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories
from tillit.cases.services import open_case
from tillit.core.services import create_token

EXAMPLES = int(os.environ.get("TILLIT_FUZZ_EXAMPLES", "12"))  # 68 operations: about 2,400 requests
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _real_ids(world) -> dict[str, list[int]]:
    """Ids of objects that exist (in and out of scope), so half the requests reach an endpoint's body
    rather than its 404."""
    from tillit.cases.models import Case
    from tillit.documents.models import Document
    from tillit.registry.models import Employer, Employment, Membership, OrgUnit, Person, Role

    def ids(model):
        return list(model.objects.order_by("pk").values_list("pk", flat=True)[:20])

    return {"person_id": ids(Person), "membership_id": ids(Membership), "employment_id": ids(Employment),
            "role_id": ids(Role), "unit_id": ids(OrgUnit), "employer_id": ids(Employer), "case_id": ids(Case),
            "document_id": ids(Document), "version_number": [1, 2], "link_id": [1]}


def _fuzz(schema, token: str, examples: int, real: dict[str, list[int]]) -> tuple[int, list[str]]:
    sent, failures = 0, []
    headers = {"Authorization": f"Bearer {token}"}
    for result, mode in ((r, m) for r in schema.get_all_operations() for m in GenerationMode):
        operation = result.ok()

        @seed(20261201)
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            nonlocal sent
            sent += 1
            if sent % 2 and case.path_parameters:
                for name in case.path_parameters:
                    if real.get(name):
                        case.path_parameters[name] = real[name][sent % len(real[name])]
            try:
                case.call_and_validate(headers=headers, checks=CHECKS)
            except Exception as exc:  # every failure is collected and reported together
                failures.append(f"{case.operation.method.upper()} {case.operation.path}: {str(exc)[:600]}")

        try:
            run()
        except Exception as exc:  # a failure hypothesis raised itself, reported like the rest
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    return sent, failures


@pytest.fixture
def app():
    """The WSGI application in this thread, keeping the test's database connection open across
    requests (as Django's test client does)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
def test_no_input_gives_a_server_error_or_an_undocumented_answer(world, app):
    case_type = factories.case_type(world.a.branch)
    for side in (world.a, world.b):
        open_case(case_type, title="Fuzzed", subjects=[side.members[0][0]], actor=world.admin, unit=side.branch)
        factories.document(side, b"Fuzzed notes", persons=[side.members[0][0]])
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    sent, failures = 0, []
    for user, examples in ((world.admin, EXAMPLES), (world.a.staff, max(5, EXAMPLES // 2))):
        _token, raw = create_token(user, "fuzz")
        count, found = _fuzz(schema, raw, examples, _real_ids(world))
        sent += count
        failures += found
    assert sent >= 2000, f"only {sent} requests were sent"
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
