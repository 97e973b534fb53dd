"""Property-based calls generated from the service's own OpenAPI page: no input makes it fail with a 5xx.

Schemathesis sends valid (positive) and invalid (negative: wrong types, missing fields,
out-of-range numbers and dates) requests to every operation of ``/docs.json``; each answer
must be a success or a 4xx whose JSON body says what is wrong. Examples are bounded and
not shrunk, so the run takes well under a minute. (The schemathesis pytest plugin's lazy
loading does not work with pytest 9, so operations are driven with hypothesis directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

pytestmark = [pytest.mark.slow, pytest.mark.integration]

MAX_EXAMPLES = 25
GUARDED = {"/score", "/score_batch", "/invoice_risk", "/onboard", "/portfolio", "/cash_forecast", "/ledger"}


WRITES_THE_LEDGER = (
    "/ledger",
    "/ledger/refresh",
)  # fuzzed on a ledger copy of their own (test_service_ledger_push)


def ledger_operations(url: str, paths: tuple[str, ...] | None = None, exclude: tuple[str, ...] = ()) -> list:
    """The operations of a running service's OpenAPI page (only ``paths`` when given, never ``exclude``)."""
    schema = schemathesis.openapi.from_url(f"{url}/docs.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if op.path not in exclude and (paths is None or op.path in paths)]


@pytest.fixture(scope="module")
def operations(service):
    return ledger_operations(service.url, exclude=WRITES_THE_LEDGER)


def explains_client_errors(ctx, response, case) -> None:
    """Every 4xx answer of a scoring route is JSON with an ``error`` text."""
    if 400 <= response.status_code < 500 and case.operation.path in GUARDED:
        body = response.json()
        assert isinstance(body, dict) and body.get("error"), (
            f"{response.status_code} without an error text: {body}"
        )


def test_the_spec_documents_every_scoring_route(service):
    operations = ledger_operations(service.url)
    documented = {op.path for op in operations if op.method.upper() == "POST"}
    assert documented >= GUARDED
    assert any(op.path == "/status" and op.method.upper() == "GET" for op in operations)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_input_makes_a_server_error(operations, service, mode):
    assert_no_server_error(operations, service.key, mode)


def assert_no_server_error(
    operations: list, key: str, mode: GenerationMode, examples: dict[str, int] | None = None
) -> None:
    """Generated calls of every operation: no 5xx, and every 4xx of a guarded route says what is wrong.

    ``examples`` sets the number of calls of some paths (``MAX_EXAMPLES`` for the others).
    """
    failures = {}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=(examples or {}).get(operation.path, MAX_EXAMPLES),
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {key}"},
                checks=[not_a_server_error],
                additional_checks=[explains_client_errors],
            )

        try:
            call()
        except Unsatisfiable:  # nothing invalid to send (a GET without parameters)
            assert mode is GenerationMode.NEGATIVE and operation.method.upper() == "GET"
        except Exception as err:  # noqa: BLE001 - collect every operation's failure, report them together
            failures[f"{operation.method.upper()} {operation.path}"] = str(err)[:2000]
    assert not failures, failures
