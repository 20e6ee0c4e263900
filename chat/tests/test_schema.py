"""schemathesis against the served OpenAPI schema, in-process through the real ASGI app.

For every operation in ``/api/schema`` schemathesis generates valid and invalid requests
(hypothesis underneath) and checks each response: never a 5xx, a status code the schema
documents for the operation, the documented content type and headers, and a body that
matches the documented schema. Rate limits are raised out of the way (they are tested
elsewhere); everything else is the production configuration.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from django.core.cache import cache

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(transactional_db, settings):
    from chatsite.asgi import application

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        "chat_ip": "100000/min", "chat_session": "100000/min", "history": "100000/min"}}
    cache.clear()
    return schemathesis.openapi.from_asgi("/api/schema", application)


def _operations(schema):
    return [result.ok() for result in schema.include(path_regex="^/chat").get_all_operations()]


def _with_real_session(case, token: str):
    """Valid cases get a session id this server issued (a random string is never one), so
    the success paths are exercised too, not only the 400 for a malformed id."""
    if "session_id" in (case.path_parameters or {}):
        case.path_parameters["session_id"] = token
    if isinstance(case.body, dict) and "session_id" in case.body:
        case.body["session_id"] = token
    return case


def _check(case):
    cache.clear()  # budgets and counters do not build up between examples
    response = case.call()
    case.validate_response(response, checks=CHECKS)


# schemathesis' own pytest plugin does not load under pytest 9 yet, so each operation's
# strategy is driven with hypothesis directly (the same generation and checks).
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_chat_api_conforms_to_its_schema(api_schema, mode):
    from chat import services

    session, token = services.session_create()
    services.messages_append_client(session=session, messages=[
        {"role": "user", "content": "How do I install it?"},
        {"role": "assistant", "content": "With pip [1].", "sources": []}])
    operations = _operations(api_schema)
    labels = {op.label for op in operations}
    assert {"GET /chat", "POST /chat", "POST /chat/history", "GET /chat/history/{session_id}",
            "POST /chat/feedback"} <= labels
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @hsettings(max_examples=25, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))
        def run(case):
            _check(_with_real_session(case, token) if mode is GenerationMode.POSITIVE else case)

        try:
            run()
        except Unsatisfiable:
            # Nothing to make invalid (these GETs take no input): no negative cases exist.
            assert mode is GenerationMode.NEGATIVE and operation.label in {"GET /chat", "GET /chat/starters"}
        except Exception as exc:
            raise AssertionError(f"{operation.label} ({mode.value}): {exc}") from exc
