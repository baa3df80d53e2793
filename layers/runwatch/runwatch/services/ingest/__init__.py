"""Ingest: EventBridge events joined into the stored run and task state with conditional writes.

    dispatch.py    Ingestor: parse an event, hand it to its path
    batch.py       Batch job state changes and blocked queues -> task and run
    executions.py  Step Functions execution changes -> run; state machine identification and parking
    joins.py       the optimistic join loop (read, join, conditional write, retry on conflict)
    views.py       derived views updated after a join changed something (flow entry, job lookup)
    reporting.py   outcomes, counters, log summaries

Callers import the public names from here.
"""

from runwatch.services.ingest.dispatch import Ingestor, IngestStore
from runwatch.services.ingest.reporting import (
    APPLIED,
    DUPLICATE,
    IGNORED,
    PARKED,
    Counters,
    NoCounters,
    event_summary,
)
from runwatch.services.ingest.views import DerivedView, FlowEntryView, JobLookupView

__all__ = [
    "APPLIED",
    "DUPLICATE",
    "IGNORED",
    "PARKED",
    "Counters",
    "DerivedView",
    "FlowEntryView",
    "IngestStore",
    "Ingestor",
    "JobLookupView",
    "NoCounters",
    "event_summary",
]
