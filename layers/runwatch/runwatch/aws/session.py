"""boto3 clients for reconciliation and backfill, and whether real AWS credentials are configured at all."""

from __future__ import annotations

from typing import Any

import boto3

from runwatch.aws.batch_jobs import BatchJobs
from runwatch.aws.executions import StepFunctionsExecutions

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


def aws_readers(
    region: str | None = None, profile: str | None = None
) -> tuple[BatchJobs, StepFunctionsExecutions]:
    """Batch and Step Functions adapters on the default credential chain (or a named profile)."""
    session = boto3.Session(region_name=region, profile_name=profile)
    return BatchJobs(session.client("batch")), StepFunctionsExecutions(session.client("stepfunctions"))
