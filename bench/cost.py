"""What a deployed runwatch costs per ingested event, from the ingest bench's measurements and list prices.

Prices are AWS's us-east-1 on-demand list prices (x86 Lambda), stated here so a figure can be checked and
recomputed: EventBridge delivers AWS service events (Batch, Step Functions) from the default bus free, so an
event costs its SQS requests, its share of an ingest invocation, and the DynamoDB units its writes and reads
consume. Free tiers are left out (they would make small installations look free).
"""

from __future__ import annotations

from dataclasses import dataclass

DYNAMODB_USD_PER_MILLION_WRITE_UNITS = 0.625
DYNAMODB_USD_PER_MILLION_READ_UNITS = 0.125
SQS_USD_PER_MILLION_REQUESTS = 0.40
LAMBDA_USD_PER_GB_SECOND = 0.0000166667
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
EVENTBRIDGE_USD_PER_MILLION_AWS_SERVICE_EVENTS = 0.0

# template.yaml: the ingest function's MemorySize (Globals) and its queue event source's BatchSize.
INGEST_MEMORY_MB = 256
INGEST_BATCH_SIZE = 100


@dataclass(frozen=True)
class PerEvent:
    """One ingested event's share of each billed quantity."""

    write_units: float
    read_units: float
    handler_ms: float  # the ingest handler's time per event (one batch's time / its events)

    @property
    def sqs_requests(self) -> float:
        """EventBridge's SendMessage, plus Lambda's ReceiveMessage and DeleteMessageBatch per full batch."""
        return 1.0 + 2.0 / INGEST_BATCH_SIZE

    @property
    def lambda_invocations(self) -> float:
        return 1.0 / INGEST_BATCH_SIZE

    @property
    def lambda_gb_seconds(self) -> float:
        return self.handler_ms / 1000 * INGEST_MEMORY_MB / 1024

    def usd_parts_per_million(self) -> dict[str, float]:
        """US dollars per million events, per service."""
        return {
            "dynamodb_writes": self.write_units * DYNAMODB_USD_PER_MILLION_WRITE_UNITS,
            "dynamodb_reads": self.read_units * DYNAMODB_USD_PER_MILLION_READ_UNITS,
            "sqs": self.sqs_requests * SQS_USD_PER_MILLION_REQUESTS,
            "lambda": self.lambda_gb_seconds * 1_000_000 * LAMBDA_USD_PER_GB_SECOND
            + self.lambda_invocations * LAMBDA_USD_PER_MILLION_REQUESTS,
            "eventbridge": EVENTBRIDGE_USD_PER_MILLION_AWS_SERVICE_EVENTS,
        }

    def usd_per_million(self) -> float:
        return sum(self.usd_parts_per_million().values())


# -- idle: what the stack costs a month with no events (template.yaml's defaults) ----------------------------

CLOUDWATCH_USD_PER_ALARM_MONTH = 0.10
ALARMS = 6  # template.yaml's AWS::CloudWatch::Alarm resources
SWEEPS_PER_MONTH = 30 * 24 * 12  # SweepSchedule rate(5 minutes)
SWEEP_SECONDS = 0.5  # assumed: a tick with nothing active is one Query of the sparse `active_keys` index
# Lambda's SQS pollers long-poll an empty queue (20 s waits): assumed five pollers, three receives a minute each.
IDLE_SQS_RECEIVES_PER_MONTH = 5 * 3 * 60 * 24 * 30


def idle_usd_per_month() -> dict[str, float]:
    """The monthly cost of an installed stack that sees no event, per item (storage left out: it is the
    retained runs', RetentionDays)."""
    sweep_gb_seconds = SWEEPS_PER_MONTH * SWEEP_SECONDS * INGEST_MEMORY_MB / 1024
    return {
        "alarms": ALARMS * CLOUDWATCH_USD_PER_ALARM_MONTH,
        "sweeper": sweep_gb_seconds * LAMBDA_USD_PER_GB_SECOND
        + SWEEPS_PER_MONTH / 1_000_000 * LAMBDA_USD_PER_MILLION_REQUESTS,
        "sqs_polling": IDLE_SQS_RECEIVES_PER_MONTH / 1_000_000 * SQS_USD_PER_MILLION_REQUESTS,
    }


def monthly_usd(events_per_month: float, usd_per_million_events: float) -> float:
    """Idle cost plus the events' share, for the README's table."""
    return sum(idle_usd_per_month().values()) + events_per_month / 1_000_000 * usd_per_million_events
