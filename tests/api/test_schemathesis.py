"""Property-based API testing with schemathesis against /api/v1/openapi.json (issue 8).

Every operation of the document gets generated requests, valid and invalid (bounded: a few
examples per operation, deterministic, no example database), sent to the Flask app through
WSGI with a real bearer token of the seeded admin. Every answer must not be a 5xx and must
conform to the document: documented status, media type, headers and body schema.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from app.api.openapi import openapi_document
from app.services import instances, tasks
from tests.api.token_helpers import Headers, personal
from tests.engine_fixtures import deploy_test_bundle, open_tasks, user

MAX_EXAMPLES = 25

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            "no-shrink": True,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
        },
    }
)


@pytest.fixture()
def admin_headers(seeded: Session) -> Headers:
    """A personal token of the demo admin, with a deployed process and one running instance
    (id 1, the example id of the document) whose first task is done."""
    deploy_test_bundle(seeded, "review_case")
    enterprise = user(seeded, "ent_chengxi")
    instance = instances.start_instance(seeded, "review_case", {}, enterprise)
    seeded.commit()
    (submit,) = [t for t in open_tasks(seeded, instance.id)]
    tasks.complete(seeded, submit.id, {"claim": "请求修复"}, enterprise)
    seeded.commit()
    return personal(seeded, "admin")


# The document as served (tests/api/test_openapi.py checks that the two are the same).
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # one seeded DB per op
def test_api_conforms_to_its_document(case: Any, app: Flask, admin_headers: Headers) -> None:
    case.call_and_validate(app=app, headers=admin_headers)
