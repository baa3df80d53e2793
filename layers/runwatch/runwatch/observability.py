"""Logger and metrics shared by the functions (Powertools), plus a metrics adapter for services."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="runwatch")
metrics = Metrics(namespace="Runwatch", service="runwatch")


class MetricCounters:
    """The Counters interface of the services, written as CloudWatch EMF metrics."""

    def __init__(self, target: Metrics = metrics) -> None:
        self._metrics = target

    def add(self, name: str, value: int = 1) -> None:
        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
