"""Sweeper Lambda: each scheduled tick -> one sweep for stuck, late, lost and abandoned runs."""

from __future__ import annotations

import gc

gc.disable()  # while the function loads (docs/benchmarks.md, "Cold start")

import time
from typing import Any

from runwatch.observability import MetricCounters, logger, metrics
from runwatch.settings import SweeperSettings
from runwatch.wiring import aws_clients, build_sweeper

# Built once per container: the table binding, AWS clients and the judged-deadline memo outlive a tick.
_sweeper = build_sweeper(SweeperSettings.from_env(), aws_clients(), logger=logger, counters=MetricCounters())
gc.freeze()  # what was loaded lives as long as the container: no later collection walks it again
gc.enable()


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    return _sweeper.sweep(int(time.time() * 1000)).as_dict()
