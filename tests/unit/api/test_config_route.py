"""`GET /config`: the dashboard learns the Metaflow UI's base URL from the API function's settings."""

from __future__ import annotations

import pytest

from runwatch.api.app import create_app
from runwatch.settings import ApiSettings, ConfigError
from tests.unit.api.rest import call


def _config(metaflow_ui_url: str | None) -> tuple[int, object]:
    reply = call(create_app(queries=None, metaflow_ui_url=metaflow_ui_url), "/config")  # type: ignore[arg-type]
    return reply.status, reply.json()


def test_the_configured_url_is_served_without_a_trailing_slash() -> None:
    assert _config("https://metaflow.example.com/ui/") == (
        200,
        {"metaflow_ui_url": "https://metaflow.example.com/ui"},
    )


@pytest.mark.parametrize("unset", [None, "", "  "])
def test_no_url_is_null(unset: str | None) -> None:
    assert _config(unset) == (200, {"metaflow_ui_url": None})


TABLE = {"TABLE_NAME": "runwatch-test"}


def test_the_setting_comes_from_metaflow_ui_url() -> None:
    settings = ApiSettings.from_env({**TABLE, "METAFLOW_UI_URL": "https://mf.example.com"})
    assert settings.metaflow_ui_url == "https://mf.example.com"
    assert ApiSettings.from_env({**TABLE, "METAFLOW_UI_URL": ""}).metaflow_ui_url is None
    assert ApiSettings.from_env(TABLE).metaflow_ui_url is None


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ConfigError, match="METAFLOW_UI_URL must be an http"):
        ApiSettings.from_env({**TABLE, "METAFLOW_UI_URL": "javascript:alert(1)"})


def test_the_route_is_documented_and_protected() -> None:
    document = call(create_app(queries=None), "/openapi.json").json()  # type: ignore[arg-type]
    operation = document["paths"]["/config"]["get"]
    assert operation["security"] == [{"api_key": []}]
    assert "METAFLOW_UI_URL" in operation["description"]
