"""A Batch job an hour in RUNNABLE: what the built sweeper's first tick finds stuck and alerts."""

from __future__ import annotations

import time
from typing import Any

from runwatch_dev.local.synth import EventFactory, RunSpec


def stuck_job_event(flow: str, run_id: str, job_id: str) -> dict[str, Any]:
    """The job's one event, created and last seen an hour ago (the sweeper's threshold is 30 minutes)."""
    created = int(time.time() * 1000) - 60 * 60_000
    return EventFactory().batch_job(
        RunSpec(flow=flow, run_id=run_id),
        "start",
        "1",
        job_id=job_id,
        status="RUNNABLE",
        retry_count=0,
        at_ms=created,
        created_ms=created,
    )
