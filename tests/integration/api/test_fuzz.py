"""Property-based requests from the API's own OpenAPI document (schemathesis) over real HTTP on 127.0.0.1.

Every generated request - valid or not - must get a documented status, never a 5xx, with a body that
matches the documented schema. Deterministic: a fixed number of examples per operation, derandomized.
The document is generated in-process (it does not depend on the table); the requests go to a server on
127.0.0.1 in front of the resolver over a DynamoDB Local table holding the sample runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import schemathesis
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from runwatch.api.app import create_app
from runwatch.paging import PageTokens, key_from_secret
from runwatch.services.queries import RunQueries
from runwatch.store.run_queries import RunReader
from tests.integration.api.conftest import sample_events
from tests.integration.api.http_server import serve
from tests.unit.api.rest import call

MAX_EXAMPLES = 40
# Free-text query parameters: any text is a valid value.
FREE_TEXT = ("user", "project", "branch", "tag")


def _document() -> dict[str, Any]:
    app = create_app(RunQueries(RunReader(), PageTokens(key_from_secret("openapi"))))
    document: dict[str, Any] = call(app, "/openapi.json").json()
    document["servers"] = [{"url": "/"}]
    # Authentication is API Gateway's job; the function (and the local stack) has none, so requests
    # without a key are valid here.
    for path in document["paths"].values():
        for operation in path.values():
            operation.pop("security", None)
    return document


schema = schemathesis.openapi.from_dict(_document())


@pytest.fixture
def base_url(api: APIGatewayRestResolver, ingest: Callable[[Iterable[Any]], list[str]]) -> Iterator[str]:
    for folder in ("local_run", "sfn_failed_run"):
        ingest(sample_events(folder))
    with serve(api) as url:
        yield url


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_openapi_document(base_url: str, case: schemathesis.Case) -> None:
    excluded = []
    query = case.query or {}
    if query.get("next_token") is not None:
        # A token that merely looks right is still not one we issued: 400 is the correct answer.
        excluded.append(positive_data_acceptance)
    elif any(query.get(name) is not None for name in ("since", "until", "tag")):
        # A pattern cannot say which dates exist, that since precedes until, or bound a repeated tag's
        # count and length: such a 400 is correct too (tests/integration/api/test_run_filters.py has them).
        excluded.append(positive_data_acceptance)
    if any(not isinstance(query.get(name, ""), str) for name in FREE_TEXT):
        # A query string carries only text: a "wrong-typed" value (a boolean, a list of one) arrives as
        # the very text a valid value would be, so accepting it is right.
        excluded.append(negative_data_rejection)
    case.call_and_validate(base_url=base_url, excluded_checks=excluded)
