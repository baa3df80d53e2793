"""A value read from AWS and kept for a while: the notifier's webhook secrets and its SSM rules.

The reads use the function's botocore clients. Powertools Parameters, which did this before, imports boto3
(and s3transfer) when first used, which is in the notifier's first event: work moved out of the cold start
is still paid by the first invocation, without the init phase's CPU burst.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


class ReadFailed(Exception):
    """The read failed; `code` is AWS's error code (or the error's type), never its message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def aws_error_code(error: BaseException) -> str:
    """The AWS error code behind an error, never its message (which may quote what was asked for)."""
    cause = error.__cause__ or error.__context__ or error
    return str(getattr(cause, "response", {}).get("Error", {}).get("Code") or type(cause).__name__)


class CachedRead:
    """`read()`'s value, read again once it is `max_age` seconds old (0: at every get); a failure is not kept."""

    def __init__(
        self, read: Callable[[], str], max_age: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._read = read
        self.max_age = max_age
        self._clock = clock
        self._value: tuple[float, str] | None = None

    def get(self) -> str:
        now = self._clock()
        if self._value is None or now - self._value[0] >= self.max_age:
            try:
                self._value = (now, self._read())
            except (ClientError, BotoCoreError) as error:
                raise ReadFailed(aws_error_code(error)) from None
        return self._value[1]


def ssm_parameter(client: Any, name: str, max_age: float) -> CachedRead:
    """SSM parameter `name`'s value (client: ssm)."""
    return CachedRead(lambda: str(client.get_parameter(Name=name)["Parameter"]["Value"]), max_age)


def secret_string(client: Any, secret_id: str, max_age: float) -> CachedRead:
    """Secrets Manager secret `secret_id`'s string (client: secretsmanager)."""
    return CachedRead(
        lambda: str(client.get_secret_value(SecretId=secret_id).get("SecretString") or ""), max_age
    )
