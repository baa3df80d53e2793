"""Webhook endpoints (URL + signing key) from Secrets Manager, cached for a while, never shown.

A Slack secret is the incoming-webhook URL itself or `{"url": ...}`; the generic webhook's secret is
`{"url": ..., "secret": ...}`. The value is read and kept for a TTL (notify/cached_read.py), so a rotated
secret takes effect within the TTL, without a redeploy; it is parsed again only when it changed. Its
client is made at the first read: not in the notifier's cold start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from runwatch.notify.cached_read import CachedRead, ReadFailed, secret_string
from runwatch.notify.delivery import check_url, redact


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
    """An endpoint in a Secrets Manager secret, read again once the read is its TTL old."""

    def __init__(self, secret: CachedRead, what: str, needs_signing_key: bool) -> None:
        self._secret = secret
        self.what = what
        self.needs_signing_key = needs_signing_key
        self._parsed: tuple[str, Endpoint] | None = None

    def get(self) -> Endpoint:
        try:
            text = self._secret.get()
        except ReadFailed as error:  # botocore's errors quote no secret value, but keep only the code
            raise SecretUnavailable(f"{self.what}: cannot read secret ({error.code})") from None
        if self._parsed is None or self._parsed[0] != text:
            self._parsed = (text, parse_endpoint(text, self.what, self.needs_signing_key))
        return self._parsed[1]


def secrets_manager_endpoint(
    client: Any, secret_id: str, what: str, needs_signing_key: bool = False, ttl: float = 300.0
) -> SecretEndpoint:
    """An endpoint read from Secrets Manager with `client` (secretsmanager), cached for `ttl` seconds."""
    return SecretEndpoint(secret_string(client, secret_id, ttl), what, needs_signing_key)


def fixed_endpoint(url: str, secret: str | None, what: str) -> FixedEndpoint:
    """An endpoint given directly (local stack configuration)."""
    check_url(url, what)
    return FixedEndpoint(Endpoint(url, secret))
