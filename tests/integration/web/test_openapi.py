"""Schemathesis against the API's own OpenAPI document: no 500 and no answer outside the document,
whatever the input, as an admin would call it with a bearer token (on the late demo, both backends)."""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ducha.api import create_app
from ducha.context import AppContext
from tests.integration.conftest import ok
from tests.integration.web.conftest import PHONES, Web

# The document needs no database; each test points the app at its own copy of the demo.
APP = create_app(AppContext())
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def bearer(web: Web) -> str:
    APP.state.context = web.context
    out = ok(web.url, "users", "token", PHONES["admin"], "--as", PHONES["admin"], "--days", "1")
    return out.strip().splitlines()[-1]


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_document(case: Any, bearer: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {bearer}"}, checks=CHECKS)
