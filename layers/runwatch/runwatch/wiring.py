"""The composition root: every service is built here, from its settings model and an AWS client factory.

The handlers (functions/*/app.py) and the development tools (dev/runwatch_dev) call one builder per
service; nothing in services/, store/, domain/ or the adapters imports this module. It is the only code
that binds the table models to a table, and the only code that decides which AWS clients exist:
`client(service)` (aws_clients() in Lambda: botocore clients made on first use) is called only for a feature
the settings turn on, so an unconfigured channel costs no client, and a configured one none until it is used. Handing a service a new adapter is one line in its
builder.

Each builder imports its service when it is called, so a function's cold start loads its own service and
not the other three.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from runwatch.settings import (
    ApiSettings,
    ConfigError,
    IngestSettings,
    NotifierSettings,
    SweeperSettings,
    TableSettings,
)
from runwatch.store import models
from runwatch.store.repository import StatusRepository

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

    from runwatch.aws.accounts import AccountDescribers
    from runwatch.aws.batch_jobs import BatchJobs
    from runwatch.aws.executions import StepFunctionsExecutions
    from runwatch.domain.notification_policy import RoutingRules
    from runwatch.logs.source import LogSource
    from runwatch.notify.delivery import HttpSender, RateLimiter
    from runwatch.services.attempt_logs import AttemptLogs
    from runwatch.services.backfill import Backfill, Progress
    from runwatch.services.ingest import Counters, Ingestor
    from runwatch.services.ingest_queue import IngestQueueConsumer
    from runwatch.services.notify import Channel, Notifier
    from runwatch.services.queries import RunQueries
    from runwatch.services.sweep import Log, Sweeper


class ClientFactory(Protocol):
    """Makes a client for a service name ("sns", "stepfunctions", ...): aws_clients() in Lambda, boto3's
    (runwatch_dev.boto3_clients) in the development tools and tests."""

    def __call__(self, service: str) -> Any: ...

    def session(self) -> Any | None:
        """The botocore session its clients come from, for the table's client and the credential check to
        share (the Lambda one's); None when it has none to share, and they make their own."""


def aws_clients() -> ClientFactory:
    """The Lambda functions' client factory: one botocore session (no boto3 import), each client made on
    its first call, so a cold start creates none."""
    from runwatch.aws.session import SessionClients

    return SessionClients()


# -- the table ----------------------------------------------------------------------------------------------


def bind_table(
    settings: TableSettings,
    clock: Callable[[], int] | None = None,
    quiet: bool = False,
    client: ClientFactory | None = None,
) -> StatusRepository:
    """Point the table models at the configured table; the repository writes with its retention.

    `quiet`: its run and task writes tell the notifier not to send (a backfill without --notify).
    `client`: the function's client factory; the Lambda one's botocore session makes the table's client
    too, so endpoints and service models are loaded once for all of a function's clients.
    """
    session = client.session() if client is not None else None
    models.bind(settings.table_name, host=settings.dynamodb_endpoint, region=settings.region, session=session)
    if clock is None:
        return StatusRepository(settings.retention_days, quiet=quiet)
    return StatusRepository(settings.retention_days, clock, quiet=quiet)


# -- ingest -------------------------------------------------------------------------------------------------


def build_ingestor(
    settings: IngestSettings, client: ClientFactory | None = None, counters: Counters | None = None
) -> Ingestor:
    """An Ingestor on the table; with a client factory it describes state machines to find Metaflow's."""
    from runwatch.aws.state_machines import DescribeStateMachineInspector
    from runwatch.services.ingest import Ingestor

    inspector = DescribeStateMachineInspector(client("stepfunctions")) if client is not None else None
    return Ingestor(
        bind_table(settings, client=client),
        counters=counters,
        inspector=inspector,
        state_machine_prefix=settings.state_machine_prefix,
    )


def build_queue_consumer(
    settings: IngestSettings, client: ClientFactory, counters: Counters, logger: Logger
) -> IngestQueueConsumer:
    """The ingest Lambda's SQS batch consumer; rejected events go to REJECTED_QUEUE_URL."""
    from runwatch.services.ingest_queue import IngestQueueConsumer, SqsDeadLetters

    if settings.rejected_queue_url is None:
        raise ConfigError("REJECTED_QUEUE_URL is not set")
    return IngestQueueConsumer(
        ingestor=build_ingestor(settings, client, counters),
        dead_letters=SqsDeadLetters(client("sqs"), settings.rejected_queue_url),
        counters=counters,
        logger=logger,
    )


# -- attempts' logs -----------------------------------------------------------------------------------------


def build_log_source(client: ClientFactory | None = None) -> LogSource:
    """CloudWatch Logs, with a client made on the first read (most invocations never read a log)."""
    from runwatch.aws.log_streams import LogTailReader
    from runwatch.aws.session import LazyClient

    make = client or aws_clients()
    return LogTailReader(LazyClient(lambda: make("logs")))


def build_local_log_source(
    data_dir: str | None,
    client: ClientFactory | None = None,
    credentials_configured: Callable[[], bool] | None = None,
) -> LogSource:
    """The local stack's: the files under DATA_DIR/logs first, then CloudWatch only when AWS credentials
    are configured; with neither, every stream is missing (404)."""
    from runwatch.aws.session import aws_credentials_configured
    from runwatch.logs.fallback import FirstFound
    from runwatch.logs.local_source import LocalLogFiles

    sources: list[LogSource] = [LocalLogFiles(data_dir)] if data_dir else []
    if (credentials_configured or aws_credentials_configured)():
        sources.append(build_log_source(client))
    return FirstFound(sources)


def build_attempt_logs(
    store: StatusRepository, source: LogSource, counters: Counters | None = None
) -> AttemptLogs:
    """Attempts' logs over the (bound) table: the API's log route and the notifier's exception lines."""
    from runwatch.services.attempt_logs import AttemptLogs

    return AttemptLogs(store, source, counters)


# -- status API ---------------------------------------------------------------------------------------------


def build_queries(settings: ApiSettings) -> RunQueries:
    """RunQueries on the table; page tokens are signed with PAGE_TOKEN_SECRET, else a key from the table name.

    No AWS client is created until the first request."""
    from runwatch.paging import PageTokens, key_from_secret
    from runwatch.services.queries import RunQueries
    from runwatch.store.run_queries import RunReader

    bind_table(settings)
    secret = settings.page_token_secret or settings.table_name
    return RunQueries(RunReader(), PageTokens(key_from_secret(secret)))


def build_api(
    settings: ApiSettings, logger: Logger | None = None, log_source: LogSource | None = None
) -> APIGatewayRestResolver:
    """The status API and dashboard (routes, OpenAPI model) over build_queries and attempts' logs."""
    return api_factory(settings, logger, log_source)()


def api_factory(
    settings: ApiSettings, logger: Logger | None = None, log_source: LogSource | None = None
) -> Callable[[], APIGatewayRestResolver]:
    """Makes resolvers over one query service: Lambda needs one, a threaded server one per request in flight
    (a resolver holds the current request's state)."""
    from runwatch.api.app import create_app

    queries = build_queries(settings)
    store = StatusRepository(settings.retention_days)  # build_queries bound the table
    logs = build_attempt_logs(store, log_source or build_log_source())
    return lambda: create_app(
        queries,
        logs,
        cors_origin=settings.cors_origin,
        metaflow_ui_url=settings.metaflow_ui_url,
        logger=logger,
        prices=settings.prices,
    )


# -- notifier -----------------------------------------------------------------------------------------------


def build_lambda_notifier(
    settings: NotifierSettings, client: ClientFactory, counters: Counters | None = None
) -> Notifier:
    """Channels from Secrets Manager and SNS, rules from SSM; only the configured ones ask for a client."""
    from runwatch.notify.links import LinkBuilder
    from runwatch.notify.rules import RulesSource, ssm_rules
    from runwatch.services.notify import Notifier

    senders = _HttpSenders(settings, time.sleep, time.monotonic)
    channels = [*_secret_channels(settings, client, senders), *_topic_channels(settings, client)]
    if settings.rules_parameter:
        ttl = settings.rules_ttl_seconds
        rules = RulesSource(ssm_rules(client("ssm"), settings.rules_parameter, ttl=ttl), retry_after=ttl)
    else:
        rules = RulesSource.fixed(_file_rules(settings))
    store = bind_table(settings, client=client)
    return Notifier(
        store,
        channels,
        rules,
        links=LinkBuilder(settings.dashboard_url),
        counters=counters,
        max_age_minutes=settings.max_age_minutes,
        # One rate-limit wait on top of the slowest delivery.
        send_budget=senders.policy.worst_case_seconds() + 1.0,
        failure_logs=build_attempt_logs(store, build_log_source(client), counters).excerpt,
        log_lines=settings.log_lines,
        prices=settings.prices,
    )


def build_local_notifier(
    settings: NotifierSettings,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    clock: Callable[[], float] = time.time,
    log_source: LogSource | None = None,
) -> Notifier:
    """The local stack's notifier: the Lambda's code, channels and rules from NOTIFY_* variables.

    Raises RulesError for a bad NOTIFY_RULES file and ConfigError for a bad URL, so `make local` stops at
    start with the reason. `log_source` (the local stack's, build_local_log_source) is where failed
    attempts' logs are read; without one, CloudWatch only when AWS credentials are configured.
    """
    from runwatch.notify.links import LinkBuilder
    from runwatch.notify.rules import RulesSource
    from runwatch.services.notify import Notifier

    channels = _url_channels(settings, _HttpSenders(settings, sleep, monotonic), clock)
    rules = RulesSource.fixed(_file_rules(settings))
    store = bind_table(settings)
    return Notifier(
        store,
        channels,
        rules,
        links=LinkBuilder(settings.dashboard_url),
        max_age_minutes=settings.max_age_minutes,
        failure_logs=build_attempt_logs(store, log_source or build_local_log_source(None)).excerpt,
        log_lines=settings.log_lines,
        prices=settings.prices,
    )


class _HttpSenders:
    """What Slack and webhook channels post with, made when a channel asks for its sender: making one builds
    urllib's opener, which loads the CA certificates (some 40 ms of CPU) at start rather than at the first
    delivery, and a notifier without a Slack or webhook channel never loads them."""

    def __init__(
        self, settings: NotifierSettings, sleep: Callable[[float], None], monotonic: Callable[[], float]
    ) -> None:
        from runwatch.notify.delivery import RetryPolicy

        self.policy = RetryPolicy(attempts=settings.http_attempts, timeout=settings.http_timeout_seconds)
        self._sleep = sleep
        self._monotonic = monotonic

    def slack(self) -> HttpSender:
        """Slack's keeps to one message per second per webhook URL."""
        from runwatch.notify.delivery import RateLimiter

        return self._sender(RateLimiter(1.0, clock=self._monotonic, sleep=self._sleep))

    def webhook(self) -> HttpSender:
        return self._sender(None)

    def _sender(self, limiter: RateLimiter | None) -> HttpSender:
        from runwatch.notify.delivery import HttpSender, urllib_opener

        urllib_opener()
        return HttpSender(policy=self.policy, sleep=self._sleep, limiter=limiter)


def _secret_channels(
    settings: NotifierSettings, client: ClientFactory, senders: _HttpSenders
) -> list[Channel]:
    """Slack and webhook channels whose URLs (and signing key) live in Secrets Manager."""
    from runwatch.notify.secrets import secrets_manager_endpoint
    from runwatch.notify.slack import SlackChannel
    from runwatch.notify.webhook import WebhookChannel

    slack_arn, webhook_arn = settings.slack_webhook_secret_arn, settings.webhook_secret_arn
    if not (slack_arn or webhook_arn):
        return []
    secrets, ttl = client("secretsmanager"), settings.secret_ttl_seconds
    channels: list[Channel] = []
    if slack_arn:
        endpoint = secrets_manager_endpoint(secrets, slack_arn, "Slack webhook", ttl=ttl)
        channels.append(SlackChannel(endpoint, senders.slack()))
    if webhook_arn:
        endpoint = secrets_manager_endpoint(secrets, webhook_arn, "webhook", needs_signing_key=True, ttl=ttl)
        channels.append(WebhookChannel(endpoint, senders.webhook()))
    return channels


def _topic_channels(settings: NotifierSettings, client: ClientFactory) -> list[Channel]:
    from runwatch.notify.sns import SnsChannel

    return [SnsChannel(client("sns"), settings.topic_arn)] if settings.topic_arn else []


def _url_channels(
    settings: NotifierSettings, senders: _HttpSenders, clock: Callable[[], float]
) -> list[Channel]:
    """Slack and webhook channels on URLs given directly; a bad URL is a ConfigError naming its variable."""
    from runwatch.notify.secrets import fixed_endpoint
    from runwatch.notify.slack import SlackChannel
    from runwatch.notify.webhook import WebhookChannel

    channels: list[Channel] = []
    try:
        if settings.slack_url:
            endpoint = fixed_endpoint(settings.slack_url, None, "NOTIFY_SLACK_URL")
            channels.append(SlackChannel(endpoint, senders.slack()))
        if settings.webhook_url:
            endpoint = fixed_endpoint(settings.webhook_url, settings.webhook_secret, "NOTIFY_WEBHOOK_URL")
            channels.append(WebhookChannel(endpoint, senders.webhook(), clock=clock))
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return channels


def _file_rules(settings: NotifierSettings) -> RoutingRules:
    """NOTIFY_RULES (a JSON or YAML file, read once), else the default rules."""
    from runwatch.domain.notification_policy import RoutingRules
    from runwatch.notify.rules import load_rules_file

    return load_rules_file(settings.rules_file) if settings.rules_file else RoutingRules()


# -- sweeper and backfill -----------------------------------------------------------------------------------


def build_sweeper(
    settings: SweeperSettings,
    client: ClientFactory,
    *,
    clock: Callable[[], int] | None = None,
    logger: Log | None = None,
    counters: Counters | None = None,
) -> Sweeper:
    """A Sweeper on the table; it asks Batch and Step Functions about lost events when it reconciles."""
    from runwatch.services.ingest import Ingestor
    from runwatch.services.sweep import Sweeper
    from runwatch.store.active import SweepReads

    repository = bind_table(settings, clock, client=client)
    jobs, executions = _describers(client) if _reconciles(settings, client) else (None, None)
    return Sweeper(
        reads=SweepReads(),
        store=repository,
        ingestor=Ingestor(repository),
        settings=settings,
        jobs=jobs,
        executions=executions,
        logger=logger,
        counters=counters,
        places=_places(settings, client, (jobs, executions)) if jobs and executions else None,
    )


def _places(
    settings: SweeperSettings, client: ClientFactory, own: tuple[BatchJobs, StepFunctionsExecutions]
) -> AccountDescribers:
    """Describers per account and region: the function's own with its role, member accounts' with
    RECONCILE_ROLE_NAME assumed."""
    from runwatch.aws.accounts import AccountDescribers

    return AccountDescribers(
        lambda: client("sts"), settings.reconcile_role_name, home_region=settings.region, own=own
    )


def _reconciles(settings: SweeperSettings, client: ClientFactory) -> bool:
    """RECONCILE=on, or auto with real AWS credentials (always in Lambda; locally if you have some).

    The client factory's session is asked (the Lambda one's), so its credentials are found once, for this check
    and for its clients, instead of by a second session made only for the check; a factory without one to
    share has a session made for the check."""
    if settings.reconcile != "auto":
        return settings.reconcile == "on"
    from runwatch.aws.session import aws_credentials_configured

    return aws_credentials_configured(client.session())


def _describers(client: ClientFactory) -> tuple[BatchJobs, StepFunctionsExecutions]:
    from runwatch.aws.batch_jobs import BatchJobs
    from runwatch.aws.executions import StepFunctionsExecutions

    return BatchJobs(client("batch")), StepFunctionsExecutions(client("stepfunctions"))


def build_backfill(
    settings: TableSettings,
    client: ClientFactory,
    *,
    jobs: bool = True,
    executions: bool = True,
    progress: Progress | None = None,
    notify: bool = False,
) -> Backfill:
    """The backfill command's runner: Batch jobs and Step Functions executions AWS still remembers.

    Without `notify` its writes are quiet: the notifier records the transitions they make and sends nothing.
    """
    from runwatch.aws.batch_jobs import BatchJobs
    from runwatch.aws.executions import StepFunctionsExecutions
    from runwatch.services.backfill import Backfill
    from runwatch.services.ingest import Ingestor

    repository = bind_table(settings, quiet=not notify)
    return Backfill(
        ingestor=Ingestor(repository),
        registry=repository,
        jobs=BatchJobs(client("batch")) if jobs else None,
        executions=StepFunctionsExecutions(client("stepfunctions")) if executions else None,
        progress=progress,
    )
