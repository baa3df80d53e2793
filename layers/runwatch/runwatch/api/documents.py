"""The API's own documents: the OpenAPI description, Swagger UI and the dashboard page.

The OpenAPI models take a few hundred milliseconds to build, so they are imported and the document is
generated on first use only: a cold start serving `/runs` never pays for them.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response

API_TITLE = "runwatch"
API_VERSION = "1.0"
API_DESCRIPTION = (
    "Status of Metaflow runs on AWS Batch and AWS Step Functions: flows, runs, steps, tasks and attempts. "
    "Lists are newest first and paginated: pass a response's `next_token` back to get the next page. "
    "Responses carry a strong `ETag`; send it as `If-None-Match` to get a 304 while nothing changed. "
    "When deployed, every route except `/` and `/health` needs an `x-api-key` header (ApiAuth=API_KEY) "
    "or a SigV4 signature (ApiAuth=IAM)."
)
_ERROR_REF = "#/components/schemas/ErrorBody"


# A path segment as Powertools matches it (RFC 3986 characters), plus "#": a node of a multi-node Batch job
# is `<job id>#<N>`, which a client sends percent-encoded and API Gateway hands over decoded.
_SEGMENT_CHARS = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^#\w]+"


class StatusResolver(APIGatewayRestResolver):
    """The Powertools resolver, documenting the errors this API really returns.

    Powertools adds a 422 (request validation) and a 500 "ResponseValidationError" to every operation; here
    request validation errors are 400 ErrorBody and every 500 is an ErrorBody with a request id.
    """

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "^{}/*$") -> re.Pattern[str]:
        """As APIGatewayRestResolver's (trailing slashes allowed), with "#" allowed in a path parameter."""
        pattern = re.sub(r"<(\w+)>", lambda name: f"(?P<{name.group(1)}>{_SEGMENT_CHARS})", rule)
        return re.compile(base_regex.format(pattern))

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        from aws_lambda_powertools.event_handler.openapi.models import Response as OpenAPIResponse

        schema = super().get_openapi_schema(**kwargs)
        internal_error = OpenAPIResponse.model_validate(
            {
                "description": "Internal error",
                "content": {"application/json": {"schema": {"$ref": _ERROR_REF}}},
            }
        )
        for path_item in (schema.paths or {}).values():
            operation = path_item.get
            if operation is not None and operation.responses:
                operation.responses.pop(422, None)
                operation.responses[500] = internal_error
        if schema.components is not None and schema.components.schemas:
            for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
                schema.components.schemas.pop(name, None)
        return schema


@functools.cache
def dashboard_html() -> str:
    """The dashboard page, shipped inside the package (and so inside the Lambda layer)."""
    return resources.files("runwatch.api").joinpath("dashboard.html").read_text(encoding="utf-8")


class OpenApiDocument:
    """The OpenAPI JSON, generated once per stage path (the servers entry differs per stage)."""

    def __init__(self, app: APIGatewayRestResolver) -> None:
        self.app = app
        self._documents: dict[str, str] = {}

    def json(self) -> str:
        base_path = self.app._get_base_path() or "/"
        if base_path not in self._documents:
            from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Server

            self._documents[base_path] = self.app.get_openapi_json_schema(
                title=API_TITLE,
                version=API_VERSION,
                description=API_DESCRIPTION,
                servers=[Server(url=base_path)],
                security_schemes={"api_key": APIKey(name="x-api-key", in_=APIKeyIn.header)},
            )
        return self._documents[base_path]


def swagger_html(document: str) -> str:
    """Powertools' page and bundled assets, without enable_swagger's eager imports; "</" is escaped so the
    inlined document cannot close the <script> it sits in."""
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = resources.files("aws_lambda_powertools.event_handler.openapi.swagger_ui")
    return generate_swagger_html(
        document.replace("</", "<\\/"),
        assets.joinpath("swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        assets.joinpath("swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
    )


def register_document_routes(app: APIGatewayRestResolver) -> None:
    """`/` (the dashboard), `/openapi.json` and `/swagger`: open routes, left out of the document itself."""
    document = OpenApiDocument(app)

    @app.get("/", include_in_schema=False)
    def dashboard() -> Response[str]:
        return Response(status_code=200, content_type="text/html; charset=utf-8", body=dashboard_html())

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=document.json())

    @app.get("/swagger", include_in_schema=False)
    def swagger_ui() -> Response[str]:
        return Response(
            status_code=200, content_type="text/html; charset=utf-8", body=swagger_html(document.json())
        )
