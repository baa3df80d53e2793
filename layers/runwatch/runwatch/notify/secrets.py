"""Webhook endpoints (URL + signing key) from Secrets Manager, cached for a while, never shown.

A Slack secret is the incoming-webhook URL itself or `{"url": ...}`; the generic webhook's secret is
`{"url": ..., "secret": ...}`. Rotating a secret takes effect within the cache TTL, without a redeploy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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


class Cached[T]:
    """A value loaded on first use and again once `ttl` seconds passed."""

    def __init__(
        self, load: Callable[[], T], ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._load = load
        self.ttl = ttl
        self.clock = clock
        self._value: T | None = None
        self._loaded_at = 0.0

    def get(self) -> T:
        now = self.clock()
        if self._value is None or now - self._loaded_at >= self.ttl:
            self._value = self._load()
            self._loaded_at = now
        return self._value


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


def secrets_manager_endpoint(
    client: Any,
    secret_id: str,
    what: str,
    needs_signing_key: bool = False,
    ttl: float = 300.0,
    clock: Callable[[], float] = time.monotonic,
) -> Cached[Endpoint]:
    """An endpoint read from Secrets Manager with `client` (boto3 secretsmanager), cached for `ttl`."""

    def load() -> Endpoint:
        try:
            answer = client.get_secret_value(SecretId=secret_id)
        except Exception as error:  # botocore's errors quote no secret value, but keep only the code
            code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
            raise SecretUnavailable(f"{what}: cannot read secret ({code})") from None
        return parse_endpoint(str(answer.get("SecretString") or ""), what, needs_signing_key)

    return Cached(load, ttl, clock)


def fixed_endpoint(url: str, secret: str | None, what: str) -> Cached[Endpoint]:
    """An endpoint given directly (local stack configuration)."""
    check_url(url, what)
    endpoint = Endpoint(url, secret)
    return Cached(lambda: endpoint, float("inf"))
