"""Builds a Notifier from the environment: in Lambda (secrets, SSM rules, SNS) and in the local stack.

Lambda: SLACK_WEBHOOK_SECRET_ARN, WEBHOOK_SECRET_ARN (Secrets Manager), NOTIFY_TOPIC_ARN (SNS),
NOTIFY_RULES_PARAMETER (SSM, re-read every NOTIFY_RULES_TTL_SECONDS), DASHBOARD_URL.
Local: NOTIFY_SLACK_URL, NOTIFY_WEBHOOK_URL + NOTIFY_WEBHOOK_SECRET, NOTIFY_RULES (a JSON or YAML file,
checked at start), DASHBOARD_URL. Empty variables count as unset.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from runwatch.config import ConfigError
from runwatch.domain.notification_policy import RoutingRules
from runwatch.notify.delivery import HttpSender, RateLimiter, RetryPolicy
from runwatch.notify.links import LinkBuilder
from runwatch.notify.rules import RulesSource, load_rules_file, ssm_rules
from runwatch.notify.secrets import fixed_endpoint, secrets_manager_endpoint
from runwatch.notify.slack import SlackChannel
from runwatch.notify.sns import SnsChannel
from runwatch.notify.webhook import WebhookChannel
from runwatch.services.notify import Channel, Counters, Notifier
from runwatch.store.repository import StatusRepository

ClientFactory = Callable[[str], Any]


def _get(env: Mapping[str, str], name: str) -> str | None:
    return (env.get(name) or "").strip() or None


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None


def _retry_policy(env: Mapping[str, str]) -> RetryPolicy:
    attempts = int(_number(env, "NOTIFY_HTTP_ATTEMPTS", 3))
    if attempts < 1:
        raise ConfigError(f"NOTIFY_HTTP_ATTEMPTS must be at least 1, got {attempts}")
    return RetryPolicy(attempts=attempts, timeout=_number(env, "NOTIFY_HTTP_TIMEOUT_SECONDS", 5.0))


def _senders(
    env: Mapping[str, str], sleep: Callable[[float], None], monotonic: Callable[[], float]
) -> tuple[HttpSender, HttpSender]:
    """(Slack's, the webhook's): Slack's keeps to one message per second per webhook URL."""
    policy = _retry_policy(env)
    slack = HttpSender(policy=policy, sleep=sleep, limiter=RateLimiter(1.0, clock=monotonic, sleep=sleep))
    return slack, HttpSender(policy=policy, sleep=sleep)


def build_lambda_notifier(
    env: Mapping[str, str],
    repository: StatusRepository,
    client: ClientFactory,
    counters: Counters | None = None,
) -> Notifier:
    """`client(service)` makes boto3 clients; only the configured channels ask for one."""
    slack_sender, webhook_sender = _senders(env, time.sleep, time.monotonic)
    secret_ttl = _number(env, "NOTIFY_SECRET_TTL_SECONDS", 300.0)
    channels: list[Channel] = []
    slack_arn = _get(env, "SLACK_WEBHOOK_SECRET_ARN")
    webhook_arn = _get(env, "WEBHOOK_SECRET_ARN")
    if slack_arn or webhook_arn:
        secrets = client("secretsmanager")
        if slack_arn:
            endpoint = secrets_manager_endpoint(secrets, slack_arn, "Slack webhook", ttl=secret_ttl)
            channels.append(SlackChannel(endpoint, slack_sender))
        if webhook_arn:
            endpoint = secrets_manager_endpoint(
                secrets, webhook_arn, "webhook", needs_signing_key=True, ttl=secret_ttl
            )
            channels.append(WebhookChannel(endpoint, webhook_sender))
    topic = _get(env, "NOTIFY_TOPIC_ARN")
    if topic:
        channels.append(SnsChannel(client("sns"), topic))
    parameter = _get(env, "NOTIFY_RULES_PARAMETER")
    if parameter:
        rules = RulesSource(
            ssm_rules(client("ssm"), parameter), ttl=_number(env, "NOTIFY_RULES_TTL_SECONDS", 60.0)
        )
    else:
        rules = RulesSource.fixed(_file_rules(env))
    return Notifier(
        repository,
        channels,
        rules,
        links=LinkBuilder(_get(env, "DASHBOARD_URL")),
        counters=counters,
        # One rate-limit wait on top of the slowest delivery.
        send_budget=slack_sender.policy.worst_case_seconds() + 1.0,
    )


def _file_rules(env: Mapping[str, str]) -> RoutingRules:
    path = _get(env, "NOTIFY_RULES")
    return load_rules_file(path) if path else RoutingRules()


def build_local_notifier(
    env: Mapping[str, str],
    repository: StatusRepository | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    clock: Callable[[], float] = time.time,
) -> Notifier:
    """The local stack's notifier: same code as Lambda, channels from NOTIFY_* variables.

    Raises RulesError for a bad NOTIFY_RULES file and ConfigError for a bad URL, so `make local` stops at
    start with the reason. The table models must already be bound (store.models.bind), as for ingest.
    """
    slack_sender, webhook_sender = _senders(env, sleep, monotonic)
    channels: list[Channel] = []
    slack_url = _get(env, "NOTIFY_SLACK_URL")
    webhook_url = _get(env, "NOTIFY_WEBHOOK_URL")
    try:
        if slack_url:
            channels.append(SlackChannel(fixed_endpoint(slack_url, None, "NOTIFY_SLACK_URL"), slack_sender))
        if webhook_url:
            endpoint = fixed_endpoint(webhook_url, _get(env, "NOTIFY_WEBHOOK_SECRET"), "NOTIFY_WEBHOOK_URL")
            channels.append(WebhookChannel(endpoint, webhook_sender, clock=clock))
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return Notifier(
        repository or StatusRepository(),
        channels,
        RulesSource.fixed(_file_rules(env)),
        links=LinkBuilder(_get(env, "DASHBOARD_URL")),
    )
