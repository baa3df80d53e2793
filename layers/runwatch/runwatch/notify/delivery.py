"""HTTP delivery of one message: timeout, retries with backoff on 5xx/429 (honouring Retry-After), a
per-destination rate limit, and errors that name only the destination's host.

Webhook URLs are secrets (Slack's carries its token in the path), so nothing here puts a URL, a header or
a response body into an exception or a log line. Time is injected: tests never sleep.
"""

from __future__ import annotations

import functools
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Final
from urllib.parse import urlsplit

from runwatch.observability import logger

RETRYABLE_STATUSES: Final = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT: Final = "runwatch-notifier/1"


class DeliveryFailed(Exception):
    """A message could not be delivered. `retryable`: a later redelivery may succeed."""

    def __init__(self, destination: str, reason: str, retryable: bool = True) -> None:
        super().__init__(f"{destination}: {reason}")
        self.destination = destination
        self.reason = reason
        self.retryable = retryable


def redact(url: str) -> str:
    """Scheme and host only: enough to tell destinations apart in logs, never the credential in a URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme or '?'}://{host}{port}/…"


def check_url(url: str, what: str) -> str:
    """Reject what urllib would fail on in a way that could echo the URL (e.g. "unknown url type")."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{what} must be an http(s) URL with a host")
    return url


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


# Sends one request and returns the response (any status); raises OSError/TimeoutError when nothing came back.
Transport = Callable[[str, bytes, Mapping[str, str], float], Response]

_MAX_BODY = 4096


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would lose its body (urllib turns it into a GET): report the 3xx instead."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@functools.cache
def urllib_opener() -> urllib.request.OpenerDirector:
    """urllib's opener, built once: it loads the system's CA certificates (some 40 ms of CPU), so the wiring asks
    for it when it makes an HTTP channel, at start, and a notifier without one never builds it."""
    return urllib.request.build_opener(_NoRedirect)


def urllib_transport(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Response:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib_opener().open(request, timeout=timeout) as answer:
            return Response(answer.status, dict(answer.headers.items()), answer.read(_MAX_BODY))
    except urllib.error.HTTPError as error:
        with error:
            return Response(error.code, dict(error.headers.items()), error.read(_MAX_BODY))


class RateLimiter:
    """At most one message per `interval` seconds per destination (Slack: about one per second per webhook)."""

    def __init__(
        self,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = {}

    def wait(self, destination: str) -> None:
        now = self.clock()
        ready = self._next.get(destination, now)
        if ready > now:
            self.sleep(ready - now)
            now = ready
        self._next[destination] = now + self.interval


@dataclass(slots=True)
class RetryPolicy:
    attempts: int = 4
    timeout: float = 5.0
    backoff: float = 1.0
    max_backoff: float = 20.0
    # A Retry-After longer than this is not waited for in-process: the record fails and is redelivered.
    max_wait: float = 10.0

    def backoff_before(self, attempt: int) -> float:
        """The wait before `attempt` (2, 3, ...) when no Retry-After says otherwise."""
        return min(self.max_backoff, self.backoff * 2.0 ** (attempt - 2))

    def worst_case_seconds(self) -> float:
        """How long one delivery can take: every attempt times out and every wait is the longest allowed."""
        waits = sum(max(self.max_wait, self.backoff_before(n)) for n in range(2, self.attempts + 1))
        return self.attempts * self.timeout + waits


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _describe(error: BaseException, timeout: float) -> str:
    """Why nothing usable came back, without the error's text (it may quote the request)."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g}s"
    return f"connection failed ({type(reason).__name__})"


@dataclass
class HttpSender:
    """POSTs with retries. `headers` is called per attempt so signatures carry the attempt's timestamp."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    transport: Transport = urllib_transport
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    limiter: RateLimiter | None = None

    def _asked_wait(self, response: Response, destination: str, last: str) -> float | None:
        """The Retry-After wait of a retryable answer (None: back off as usual); raises when it is not
        worth retrying: a final status, or a wait longer than the policy allows."""
        if response.status not in RETRYABLE_STATUSES:
            raise DeliveryFailed(destination, last, retryable=False)
        delay = retry_after_seconds(response.headers.get("Retry-After"), self.clock())
        if delay is not None and delay > self.policy.max_wait:
            raise DeliveryFailed(destination, f"{last}, asked to wait {delay:g}s")
        return delay

    def post(self, url: str, body: bytes, headers: Callable[[], Mapping[str, str]]) -> Response:
        destination = redact(url)
        last = "no attempt made"
        for attempt in range(1, self.policy.attempts + 1):
            if self.limiter is not None:
                self.limiter.wait(url)
            try:
                response = self.transport(
                    url, body, {"User-Agent": USER_AGENT, **headers()}, self.policy.timeout
                )
            except (OSError, http.client.HTTPException) as error:
                last = _describe(error, self.policy.timeout)
            else:
                if 200 <= response.status < 300:
                    return response
                last = f"HTTP {response.status}"
                delay = self._asked_wait(response, destination, last)
                if delay is not None:
                    if attempt < self.policy.attempts:
                        logger.info(
                            "delivery deferred", destination=destination, status=response.status, wait=delay
                        )
                        self.sleep(delay)
                    continue
            if attempt < self.policy.attempts:
                delay = self.policy.backoff_before(attempt + 1)
                logger.info(
                    "delivery retry", destination=destination, reason=last, attempt=attempt, wait=delay
                )
                self.sleep(delay)
        raise DeliveryFailed(destination, f"{last} after {self.policy.attempts} attempts")
