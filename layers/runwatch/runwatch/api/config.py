"""`GET /config`: what the dashboard needs to know about this deployment that the status routes do not say.

Today that is the Metaflow UI's base URL (env `METAFLOW_UI_URL`, stack parameter `MetaflowUiUrl`), so the
dashboard can link runs and tasks to it. It is a separate route, not part of the page, so the page stays a
static document the same for every stack.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver
from pydantic import Field

from runwatch.api.parameters import SECURITY, responses
from runwatch.api.schemas import _Model


class DashboardConfig(_Model):
    metaflow_ui_url: str | None = Field(
        description="Base URL of the Metaflow UI: runs link to `<url>/<flow>/<run_id>`, tasks to "
        "`<url>/<flow>/<run_id>/<step>/<task_id>`; null when not configured"
    )


def register_config_route(app: APIGatewayRestResolver, metaflow_ui_url: str | None) -> None:
    config = DashboardConfig(metaflow_ui_url=(metaflow_ui_url or "").strip().rstrip("/") or None)

    @app.get(
        "/config",
        summary="The dashboard's settings for this deployment",
        description="`metaflow_ui_url` (env METAFLOW_UI_URL, stack parameter MetaflowUiUrl): the Metaflow "
        "UI the dashboard links runs and tasks to, without a trailing slash; null when unset.",
        tags=["meta"],
        security=SECURITY,
        responses=responses("The dashboard's settings"),
    )
    def get_config() -> DashboardConfig:
        return config
