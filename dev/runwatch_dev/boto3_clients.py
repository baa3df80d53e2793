"""The development tools' AWS client factory (runwatch.wiring.ClientFactory): boto3's clients, from boto3's
default session or from one the operator chose (a profile, a region).

boto3 keeps its session to itself, so there is none to share: the table's client and the sweeper's
credential check make their own, as they did before a factory could offer one.
"""

from __future__ import annotations

from typing import Any

import boto3


class Boto3Clients:
    """`clients("batch")`: a boto3 client of `session` (a boto3.Session), or of boto3's default session."""

    def __init__(self, session: Any | None = None) -> None:
        self._client = boto3.client if session is None else session.client

    def __call__(self, service: str, **kwargs: Any) -> Any:
        return self._client(service, **kwargs)

    def session(self) -> None:
        return None
