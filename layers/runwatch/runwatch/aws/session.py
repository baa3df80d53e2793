"""AWS sessions: whether real credentials are configured (RECONCILE=auto, the local log source ask AWS
only then), and clients made on first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

# The local stack and the tests use these placeholder keys: they satisfy DynamoDB Local, not AWS.
PLACEHOLDER_ACCESS_KEYS = frozenset({"local"})


def aws_credentials_configured(session: Any | None = None) -> bool:
    """True when boto3's credential chain finds real-looking credentials."""
    session = session or boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        return False
    access_key = credentials.get_frozen_credentials().access_key
    return bool(access_key) and access_key not in PLACEHOLDER_ACCESS_KEYS


class LazyClient:
    """A boto3 client made on first use: a function whose requests rarely need it pays no cold start."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any | None = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)
