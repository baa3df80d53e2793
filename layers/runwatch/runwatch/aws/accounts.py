"""Batch and Step Functions describers per (account, region), for a sweeper that serves many accounts.

The central account's own jobs are described with the function's role; a member account's with a role in
that account (`ReconcileRoleName`), assumed through STS, its credentials kept until shortly before they
expire. Without a role name there is no describer for member accounts: the sweeper skips and counts them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from runwatch.aws.batch_jobs import BatchJobs, JobDescriber
from runwatch.aws.executions import ExecutionDescriber, StepFunctionsExecutions
from runwatch.aws.session import SessionClients

# Assumed credentials are renewed this long before they expire, so no call is made with stale ones.
REFRESH_MARGIN_SECONDS: Final = 300
SESSION_NAME: Final = "runwatch-sweeper"

ClientMaker = Callable[..., Any]
"""A client factory (service, region_name=..., and the assumed role's keys for a member account): the
wiring's SessionClients, or boto3.client."""


@dataclass(frozen=True, slots=True)
class _Credentials:
    keys: dict[str, str]
    expires_at: float


class RoleUnavailable(Exception):
    """STS refused the member account's role (missing, or not trusting the central account)."""


class AccountDescribers:
    """`jobs_in` / `executions_in` an account and region: None when runwatch has no way into the account."""

    def __init__(
        self,
        sts: Callable[[], Any],
        role_name: str | None,
        *,
        home_region: str | None = None,
        own: tuple[JobDescriber, ExecutionDescriber] | None = None,
        make_client: ClientMaker | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`sts` makes the STS client when first needed: the function's own account and partition are asked
        once (GetCallerIdentity), on the first lookup, so a sweep with nothing to reconcile asks nothing."""
        self._sts_factory = sts
        self._sts: Any = None
        self._home: tuple[str, str] | None = None  # (account, partition)
        self.role_name = role_name or None
        # The function's own describers answer for its own account in its own region.
        self._home_region = home_region
        self._own = own
        self.make_client = make_client or SessionClients()
        self.clock = clock
        self.assumed = 0  # AssumeRole calls made, for tests and reports
        self._credentials: dict[str, _Credentials] = {}
        self._clients: dict[tuple[str, str, str, str], Any] = {}

    def jobs_in(self, account: str, region: str) -> JobDescriber | None:
        if self._own is not None and self._is_own(account, region):
            return self._own[0]
        client = self._client("batch", account, region)
        return None if client is None else BatchJobs(client)

    def executions_in(self, account: str, region: str) -> ExecutionDescriber | None:
        if self._own is not None and self._is_own(account, region):
            return self._own[1]
        client = self._client("stepfunctions", account, region)
        return None if client is None else StepFunctionsExecutions(client)

    def _is_own(self, account: str, region: str) -> bool:
        return region == self._home_region and account == self._home_account()[0]

    def _sts_client(self) -> Any:
        if self._sts is None:
            self._sts = self._sts_factory()
        return self._sts

    def _home_account(self) -> tuple[str, str]:
        if self._home is None:
            try:
                identity = self._sts_client().get_caller_identity()
            except Exception as exc:  # botocore's ClientError, EndpointConnectionError, ...
                raise RoleUnavailable(f"get caller identity: {type(exc).__name__}") from None
            self._home = (str(identity["Account"]), str(identity["Arn"]).split(":")[1])
        return self._home

    def _client(self, service: str, account: str, region: str) -> Any | None:
        home, partition = self._home_account()
        if account == home:
            keys: dict[str, str] = {}
        elif self.role_name is None:
            return None
        else:
            keys = self._assume(account, partition)
        cache_key = (service, account, region, keys.get("aws_access_key_id", ""))
        if cache_key not in self._clients:
            self._clients[cache_key] = self.make_client(service, region_name=region, **keys)
        return self._clients[cache_key]

    def _assume(self, account: str, partition: str) -> dict[str, str]:
        cached = self._credentials.get(account)
        if cached is not None and cached.expires_at - REFRESH_MARGIN_SECONDS > self.clock():
            return cached.keys
        arn = f"arn:{partition}:iam::{account}:role/{self.role_name}"
        self.assumed += 1
        try:
            answer = self._sts_client().assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME)["Credentials"]
        except Exception as exc:  # botocore's ClientError, EndpointConnectionError, ...
            raise RoleUnavailable(f"assume role in {account}: {type(exc).__name__}") from None
        keys = {
            "aws_access_key_id": answer["AccessKeyId"],
            "aws_secret_access_key": answer["SecretAccessKey"],
            "aws_session_token": answer["SessionToken"],
        }
        self._credentials[account] = _Credentials(keys, answer["Expiration"].timestamp())
        return keys
