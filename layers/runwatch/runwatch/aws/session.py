"""AWS sessions: whether real credentials are configured (RECONCILE=auto, the local log source ask AWS
only then), and clients made on first use from one botocore session.

boto3 is not imported: its clients are botocore's, and importing it also loads s3transfer and the resource
layer (about a fifth of a second of every cold start). PynamoDB needs only botocore too, and the Lambda
functions hand it the same session (wiring), so the endpoint data and loaded models are read once.

The session's data loader knows a service by its folder: botocore's own lists the API versions of every one
of its ~450 services (a few thousand directory reads, about a third of making the first client) just to
check that a service's model exists before loading it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from botocore.loaders import Loader

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

    session = botocore.session.get_session()
    data_path = session.get_config_variable("data_path") or ""
    extra = [os.path.expanduser(os.path.expandvars(path)) for path in data_path.split(os.pathsep) if path]
    session.register_component("data_loader", ServiceFolderLoader(extra_search_paths=extra))
    return session


class ServiceFolderLoader(Loader):  # type: ignore[misc] # botocore is untyped
    """botocore's Loader (AWS_DATA_PATH's folders searched first, as by botocore's own) whose known services
    are the folders of its search paths: a folder without the model asked for fails at its load instead."""

    def list_available_services(self, type_name: str) -> list[str]:
        names: set[str] = set()
        for path in self.search_paths:
            if os.path.isdir(path):
                with os.scandir(path) as entries:
                    names.update(entry.name for entry in entries if entry.is_dir())
        return sorted(names)
