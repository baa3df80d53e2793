"""AWS sessions: whether real credentials are configured (RECONCILE=auto, the local log source ask AWS
only then), and clients made on first use from one botocore session.

boto3 is not imported: its clients are botocore's, and importing it also loads s3transfer and the resource
layer (about a fifth of a second of every cold start). PynamoDB needs only botocore too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The local stack and the tests use these placeholder keys: they satisfy DynamoDB Local, not AWS.
PLACEHOLDER_ACCESS_KEYS = frozenset({"local"})


def aws_credentials_configured(session: Any | None = None) -> bool:
    """True when botocore's credential chain finds real-looking credentials."""
    session = session or _new_session()
    credentials = session.get_credentials()
    if credentials is None:
        return False
    access_key = credentials.get_frozen_credentials().access_key
    return bool(access_key) and access_key not in PLACEHOLDER_ACCESS_KEYS


class LazyClient:
    """A client made on first use: a function whose requests rarely need it pays no cold start."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any | None = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


class SessionClients:
    """`clients("sqs")`: a client of one shared botocore session, created when first used.

    The session itself (credentials, endpoints) is made with the first client, so a function that never
    calls an AWS API other than the table's makes none. Keyword arguments (region_name, assumed role keys)
    go to botocore's create_client as they would to boto3.client.
    """

    def __init__(self, session_factory: Callable[[], Any] | None = None) -> None:
        self._session_factory = session_factory or _new_session
        self._session: Any | None = None

    def __call__(self, service: str, **kwargs: Any) -> LazyClient:
        return LazyClient(lambda: self.session().create_client(service, **kwargs))

    def session(self) -> Any:
        if self._session is None:
            self._session = self._session_factory()
        return self._session


def _new_session() -> Any:
    import botocore.session

    return botocore.session.get_session()
