"""Where an AWS Batch job's output is in CloudWatch Logs: log group, stream and region, from its detail.

Batch sends a container's output with the `awslogs` driver to `/aws/batch/job` unless the job definition's
`logConfiguration` names another group (`awslogs-group`, which Metaflow's `@batch(log_driver=...,
log_options=...)` can set) or region (`awslogs-region`); any other driver sends nothing to CloudWatch.
The stream is the container's `logStreamName`, and every attempt has its own on `attempts[].container`.
A multi-node job's parent has no container, its log configuration is on the node ranges; each node's own
job (`<id>#<node>`) has a container. Accepts the camelCase of DescribeJobs and EventBridge and the
PascalCase of a Step Functions failure `cause`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

DEFAULT_LOG_GROUP: Final = "/aws/batch/job"


@dataclass(frozen=True, slots=True)
class LogLocation:
    group: str
    stream: str
    region: str | None = None  # None: the job's own region


def _get(data: Any, name: str) -> Any:
    """`data[name]`, or its PascalCase spelling; None when absent or `data` is no mapping."""
    if not isinstance(data, Mapping):
        return None
    if name in data:
        return data[name]
    return data.get(name[:1].upper() + name[1:])


def _log_configuration(job: Mapping[str, Any]) -> Any:
    container_config = _get(_get(job, "container"), "logConfiguration")
    if container_config is not None:
        return container_config
    node_properties = _get(job, "nodeProperties")
    main_node = _get(node_properties, "mainNode")
    ranges = _get(node_properties, "nodeRangeProperties") or []
    for node_range in ranges:
        if main_node is None or _target_includes(str(_get(node_range, "targetNodes") or ""), main_node):
            config = _get(_get(node_range, "container"), "logConfiguration")
            if config is not None:
                return config
    return None


def _target_includes(target: str, node: Any) -> bool:
    """Whether a node range such as "0", "0:3", ":2" or "1:" covers `node`."""
    try:
        index = int(node)
        start, sep, end = target.partition(":")
        if not sep:
            return int(start) == index
        return (not start or int(start) <= index) and (not end or index <= int(end))
    except ValueError:
        return False


def _stream(job: Mapping[str, Any], attempt: int | None) -> str | None:
    attempts = _get(job, "attempts") or []
    if attempt is not None:
        if not -len(attempts) <= attempt < len(attempts):
            return None
        name = _get(_get(attempts[attempt], "container"), "logStreamName")
        return str(name) if name else None
    name = _get(_get(job, "container"), "logStreamName")
    if not name and attempts:
        name = _get(_get(attempts[-1], "container"), "logStreamName")
    return str(name) if name else None


def log_location(job: Mapping[str, Any], attempt: int | None = None) -> LogLocation | None:
    """The CloudWatch location of the job's output (of attempt `attempt`, an index into `attempts`, when
    given; else the job's latest), or None when it has no stream yet or does not log to CloudWatch."""
    stream = _stream(job, attempt)
    if stream is None:
        return None
    config = _log_configuration(job)
    if config is None:
        return LogLocation(DEFAULT_LOG_GROUP, stream)
    driver = _get(config, "logDriver")
    if driver not in (None, "awslogs"):
        return None
    options = _get(config, "options") or {}
    group = options.get("awslogs-group") if isinstance(options, Mapping) else None
    region = options.get("awslogs-region") if isinstance(options, Mapping) else None
    return LogLocation(str(group or DEFAULT_LOG_GROUP), stream, str(region) if region else None)
