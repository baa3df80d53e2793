"""Placeholder sweeper handler: lets `sam build` package the function until the real adapter replaces it."""

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise NotImplementedError("the sweeper handler is not implemented yet")
