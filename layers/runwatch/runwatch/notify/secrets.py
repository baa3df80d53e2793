"""Webhook endpoints (URL + signing key) from Secrets Manager, cached for a while, never shown.

A Slack secret is the incoming-webhook URL itself or `{"url": ...}`; the generic webhook's secret is
`{"url": ..., "secret": ...}`. The value is read and cached by Powertools Parameters (`max_age`), so a
rotated secret takes effect within the TTL, without a redeploy; it is parsed again only when it changed.
Powertools Parameters (and the boto3 it imports) is loaded, and its client made, at the first read: not in
the notifier's cold start.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from runwatch.notify.delivery import check_url, redact

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider


class SecretUnavailable(Exception):
    """The secret could not be read or does not hold what it should (the message never quotes it)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Endpoint({redact(self.url)}, signed={self.secret is not None})"

    @property
    def host(self) -> str:
        return redact(self.url)


class EndpointSource(Protocol):
    """Where a channel finds its endpoint each time it sends."""

    def get(self) -> Endpoint: ...


class FixedEndpoint:
    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint

    def get(self) -> Endpoint:
        return self._endpoint


def aws_error_code(error: BaseException) -> str:
    """The AWS error code behind an error (Powertools wraps boto3's), never its message."""
    cause = error.__cause__ or error.__context__ or error
    return str(getattr(cause, "response", {}).get("Error", {}).get("Code") or type(cause).__name__)


def parse_endpoint(secret_string: str, what: str, needs_signing_key: bool) -> Endpoint:
    text = secret_string.strip()
    data: Any
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise SecretUnavailable(f"{what}: secret is not valid JSON") from None
    else:
        data = {"url": text}
    url = data.get("url") if isinstance(data, dict) else None
    if not isinstance(url, str):
        raise SecretUnavailable(f"{what}: secret has no url")
    try:
        check_url(url, f"{what} url")
    except ValueError as error:
        raise SecretUnavailable(str(error)) from None
    signing_key = data.get("secret")
    if needs_signing_key and (not isinstance(signing_key, str) or not signing_key):
        raise SecretUnavailable(f"{what}: secret has no signing key ('secret')")
    return Endpoint(url, signing_key if isinstance(signing_key, str) else None)


class SecretEndpoint:
    """An endpoint in a Secrets Manager secret, read through Powertools Parameters with `max_age`."""

    def __init__(
        self,
        provider: Callable[[], SecretsProvider],
        secret_id: str,
        what: str,
        needs_signing_key: bool,
        max_age: int,
    ) -> None:
        self._make_provider = provider
        self._provider: SecretsProvider | None = None
        self.secret_id = secret_id
        self.what = what
        self.needs_signing_key = needs_signing_key
        self.max_age = max_age
        self._parsed: tuple[str, Endpoint] | None = None

    def get(self) -> Endpoint:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        if self._provider is None:
            self._provider = self._make_provider()
        try:
            value = self._provider.get(self.secret_id, max_age=self.max_age)
        except GetParameterError as error:  # botocore's errors quote no secret value, but keep only the code
            raise SecretUnavailable(f"{self.what}: cannot read secret ({aws_error_code(error)})") from None
        text = str(value or "")
        if self._parsed is None or self._parsed[0] != text:
            self._parsed = (text, parse_endpoint(text, self.what, self.needs_signing_key))
        return self._parsed[1]


def secrets_manager_endpoint(
    client: Any, secret_id: str, what: str, needs_signing_key: bool = False, ttl: float = 300.0
) -> SecretEndpoint:
    """An endpoint read from Secrets Manager with `client` (secretsmanager), cached for `ttl` seconds."""

    def provider() -> SecretsProvider:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        return SecretsProvider(boto3_client=client)

    return SecretEndpoint(provider, secret_id, what, needs_signing_key, int(ttl))


def fixed_endpoint(url: str, secret: str | None, what: str) -> FixedEndpoint:
    """An endpoint given directly (local stack configuration)."""
    check_url(url, what)
    return FixedEndpoint(Endpoint(url, secret))
