"""Ingest: EventBridge events joined into the stored run and task state with conditional writes.

    dispatch.py    Ingestor: parse an event, hand it to its path
    batch.py       Batch job state changes and blocked queues -> task and run
    executions.py  Step Functions execution changes -> run; state machine identification and parking
    joins.py       the optimistic join loop (read, join, conditional write, retry on conflict)
    views.py       derived views updated after a join changed something (flow entry, job lookup)
    reporting.py   outcomes, counters, log summaries

Callers import the public names from here. Each is loaded from its module when first asked for: the API
and the notifier use joins.py (a failure excerpt is joined into its attempt) and never parse an event, so
importing joins.py must not load dispatch.py and the event models behind it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_MODULE_OF = {
    "Ingestor": "dispatch",
    "IngestStore": "dispatch",
    "APPLIED": "reporting",
    "DUPLICATE": "reporting",
    "IGNORED": "reporting",
    "PARKED": "reporting",
    "Counters": "reporting",
    "NoCounters": "reporting",
    "event_summary": "reporting",
    "DerivedView": "views",
    "FlowEntryView": "views",
    "JobLookupView": "views",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_MODULE_OF[name]}"), name)


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
