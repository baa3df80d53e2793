"""HTTP delivery against a real receiver: retries, Retry-After, timeouts, rate limit, no URL in errors."""

from __future__ import annotations

import pytest

from runwatch.notify.delivery import (
    DeliveryFailed,
    HttpSender,
    RateLimiter,
    RetryPolicy,
    redact,
    retry_after_seconds,
)
from tests.fakes.receiver import Receiver

SECRET_PATH = "/services/T000/B000/very-secret-token"


def _sender(sleeps: list[float], **policy: float) -> HttpSender:
    return HttpSender(policy=RetryPolicy(**policy), sleep=sleeps.append, clock=lambda: 1_800_000_000.0)  # type: ignore[arg-type]


def _post(sender: HttpSender, url: str) -> int:
    return sender.post(url, b'{"hello":1}', lambda: {"Content-Type": "application/json"}).status


def test_a_500_is_retried_after_a_backoff_then_delivered(receiver: Receiver, sleeps: list[float]) -> None:
    receiver.script(500)

    status = _post(_sender(sleeps, backoff=1.5), receiver.url("/hook"))

    assert status == 200
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body == b'{"hello":1}'
    assert sleeps == [1.5]


def test_backoff_doubles_up_to_its_cap(receiver: Receiver, sleeps: list[float]) -> None:
    receiver.script(503, 502, 500, 504)

    status = _post(_sender(sleeps, attempts=5, backoff=1.0, max_backoff=3.0), receiver.url())

    assert status == 200
    assert sleeps == [1.0, 2.0, 3.0, 3.0]


def test_429_waits_as_long_as_retry_after_says(receiver: Receiver, sleeps: list[float]) -> None:
    receiver.script((429, {"Retry-After": "7"}))

    status = _post(_sender(sleeps), receiver.url())

    assert status == 200
    assert sleeps == [7.0]
    assert len(receiver.requests) == 2


def test_retry_after_as_an_http_date() -> None:
    assert retry_after_seconds("Fri, 15 Jan 2027 08:00:10 GMT", now=1_800_000_000.0 + 5) is not None
    assert retry_after_seconds("Thu, 01 Jan 1970 00:00:10 GMT", now=15.0) == 0.0
    assert retry_after_seconds("Thu, 01 Jan 1970 00:00:10 GMT", now=4.0) == 6.0
    assert retry_after_seconds("soon", now=0.0) is None


def test_a_retry_after_longer_than_the_budget_fails_at_once_for_a_later_redelivery(
    receiver: Receiver, sleeps: list[float]
) -> None:
    receiver.script((429, {"Retry-After": "3600"}))

    with pytest.raises(DeliveryFailed, match="asked to wait 3600s") as failed:
        _post(_sender(sleeps, max_wait=60), receiver.url())

    assert failed.value.retryable
    assert sleeps == []
    assert len(receiver.requests) == 1


def test_a_receiver_that_never_answers_fails_after_the_timeout(
    receiver: Receiver, sleeps: list[float]
) -> None:
    receiver.script("hang", "hang")

    with pytest.raises(DeliveryFailed, match=r"no answer within 0.2s after 2 attempts") as failed:
        _post(_sender(sleeps, attempts=2, timeout=0.2), receiver.url(SECRET_PATH))

    assert failed.value.retryable
    assert len(receiver.requests) == 2


def test_a_4xx_is_not_retried_and_the_error_names_the_host_only(
    receiver: Receiver, sleeps: list[float]
) -> None:
    receiver.script(404)
    url = receiver.url(SECRET_PATH)

    with pytest.raises(DeliveryFailed) as failed:
        _post(_sender(sleeps), url)

    assert not failed.value.retryable
    assert "HTTP 404" in str(failed.value)
    assert "secret" not in str(failed.value) and SECRET_PATH not in str(failed.value)
    assert str(failed.value).startswith("http://127.0.0.1:")
    assert len(receiver.requests) == 1 and sleeps == []


def test_a_redirect_is_reported_not_followed(receiver: Receiver, sleeps: list[float]) -> None:
    receiver.script((307, {"Location": receiver.url("/elsewhere")}))

    with pytest.raises(DeliveryFailed, match="HTTP 307"):
        _post(_sender(sleeps), receiver.url("/hook"))

    assert [r.path for r in receiver.requests] == ["/hook"]


def test_a_refused_connection_is_retried_then_reported_without_the_url(sleeps: list[float]) -> None:
    with Receiver() as closed:
        url = closed.url(SECRET_PATH)
    with pytest.raises(DeliveryFailed, match="connection failed") as failed:
        _post(_sender(sleeps, attempts=3), url)
    assert SECRET_PATH not in str(failed.value)
    assert sleeps == [1.0, 2.0]


def test_headers_are_made_per_attempt(receiver: Receiver, sleeps: list[float]) -> None:
    receiver.script(500)
    calls = iter(["first", "second"])

    HttpSender(policy=RetryPolicy(), sleep=sleeps.append).post(
        receiver.url(), b"{}", lambda: {"X-Try": next(calls)}
    )

    assert [r.headers["X-Try"] for r in receiver.requests] == ["first", "second"]


def test_rate_limiter_spaces_messages_per_destination() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(1.0, clock=lambda: now[0], sleep=sleep)
    limiter.wait("a")
    limiter.wait("a")
    now[0] += 0.25
    limiter.wait("a")
    limiter.wait("b")
    now[0] += 5
    limiter.wait("a")

    assert waits == [1.0, 0.75]


def test_the_limiter_applies_to_retries_too(receiver: Receiver) -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    sender = HttpSender(
        policy=RetryPolicy(backoff=0.25), sleep=sleep, limiter=RateLimiter(1.0, lambda: now[0], sleep)
    )
    receiver.script(500)
    sender.post(receiver.url(), b"{}", dict)
    sender.post(receiver.url(), b"{}", dict)

    # backoff 0.25 s, then the limiter tops it up to 1 s since the first attempt; then 1 s again.
    assert waits == [0.25, 0.75, 1.0]


def test_redact_keeps_scheme_and_host_only() -> None:
    assert redact("https://hooks.slack.com/services/T0/B0/XYZ?token=1") == "https://hooks.slack.com/…"
    assert redact("https://user:pw@example.com:8443/hook") == "https://example.com:8443/…"
