"""Whether real AWS credentials are configured: with RECONCILE=auto the sweeper asks AWS only then."""

from __future__ import annotations

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
