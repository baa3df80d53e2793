"""API Lambda: API Gateway REST proxy events -> the status API and dashboard (routes in runwatch.api.app)."""

from __future__ import annotations

import gc

gc.disable()  # while the function loads (docs/benchmarks.md, "Cold start")

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from runwatch.observability import logger
from runwatch.settings import ApiSettings
from runwatch.wiring import build_api

# Built once per container: the routes, the OpenAPI model and the table binding (clients are lazy).
app = build_api(ApiSettings.from_env(), logger=logger)
gc.freeze()  # what was loaded lives as long as the container: no later collection walks it again
gc.enable()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
