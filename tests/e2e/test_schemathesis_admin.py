"""The admin API against its own OpenAPI document (``/admin/openapi.json``), with schemathesis.

Every ``/admin`` operation is called, authenticated as an admin, with requests generated from
the schema (valid and invalid bodies, path and query parameters), a bounded number of examples
per operation, derandomised so a run is repeatable. No answer may be a 5xx, and the checks in
``CHECKS`` must hold. The application runs in process (ASGI) over its own store in a temporary
directory: nothing leaves the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from exchange.app import build_hub, create_app
from exchange.store.models import Role
from tests.functional.conftest import make_settings
from tests.support.onboarding import onboard
from tests.support.postgres import world_database

EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    with world_database():
        data_dir: Path = tmp_path_factory.mktemp("schemathesis")
        hub_settings = make_settings(data_dir)
        hub = build_hub(hub_settings, create=True)
        try:
            app = create_app(hub_settings, hub=hub)
            admin = hub.create_account(Role.ADMIN, "schema-admin")
            onboard(hub, "schema-partner", ["FR"])  # something for the routes to find
            yield app, admin.token
        finally:
            hub.close()


@pytest.fixture(scope="module")
def admin_schema(admin_app: tuple[Any, str]) -> Any:
    app, _ = admin_app
    loaded = schemathesis.openapi.from_asgi("/admin/openapi.json", app)
    return loaded.include(path_regex="^/admin/")


@pytest.mark.parametrize(
    ("mode", "checks"),
    [
        (schemathesis.GenerationMode.POSITIVE, CHECKS),
        # Invalid requests (wrong types, missing fields, bad path values): a 4xx, never a 5xx;
        # the error bodies are TAXII error messages, which the schema does not describe.
        (schemathesis.GenerationMode.NEGATIVE, [not_a_server_error]),
    ],
    ids=["valid requests", "invalid requests"],
)
def test_the_admin_api_keeps_to_its_schema(
    admin_app: tuple[Any, str], mode: schemathesis.GenerationMode, checks: list[Any]
) -> None:
    app, token = admin_app
    loaded = schemathesis.openapi.from_asgi("/admin/openapi.json", app)
    operations = [
        result.ok() for result in loaded.include(path_regex="^/admin/").get_all_operations()
    ]
    assert len(operations) > 20
    headers = {"Authorization": f"Bearer {token}"}
    failed: dict[str, str] = {}
    calls: dict[int, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(headers=headers, checks=checks)
            calls[response.status_code] = calls.get(response.status_code, 0) + 1

        try:
            run()
        except Unsatisfiable:
            # No invalid request exists for it (no parameters, or only free-text ones).
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
        except Exception as exc:  # every operation is tried; all failures are reported
            failed[operation.label] = str(exc)[:2000]
    assert not failed, "\n\n".join(f"{label}:\n{why}" for label, why in failed.items())
    assert sum(calls.values()) >= len(operations)
    assert not any(status >= 500 for status in calls)
    # Authenticated: the admin's token was accepted (not all answers are 401).
    assert any(200 <= status < 300 for status in calls), calls
