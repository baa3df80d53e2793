"""Failure classification of one Batch attempt: the most specific signal wins.

Order (see failure-strings.md): a specific container reason, then a specific status reason, then the exit
code. Generic reasons such as "Essential container in task exited" never decide a class on their own, and
timeout wording beats exit code 137.
"""

from __future__ import annotations

import re

METAFLOW_KILL_REASON = "Metaflow initiated job termination."

_CONTAINER_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"OutOfMemoryError", re.I), "oom"),
    (re.compile(r"CannotPullContainerError", re.I), "image_pull"),
    (re.compile(r"CannotInspectContainerError|DockerTimeoutError|CannotStartContainerError"), "agent"),
    (re.compile(r"Timeout waiting for network interface provisioning", re.I), "agent"),
)

_STATUS_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Host EC2 .*terminated", re.I), "spot_reclaim"),
    (re.compile(r"Job attempt duration exceeded timeout", re.I), "timeout"),
    (re.compile(r"Canceled by JobStateTimeLimit", re.I), "timeout"),
    (re.compile(re.escape(METAFLOW_KILL_REASON)), "killed"),
    # Container-level wording sometimes surfaces in the status reason too.
    *_CONTAINER_REASONS,
)

# SIGKILL without any other signal is almost always the kernel OOM killer inside the container.
_EXIT_CODE_CLASSES = {137: "oom"}
# SIGTERM from outside (spot, terminate, timeout grace) says too little to pick a class.
_UNDECIDED_EXIT_CODES = frozenset({143})


def classify_failure(status_reason: str | None, container_reason: str | None, exit_code: int | None) -> str:
    """Return the failure class of a failed attempt."""
    for text, table in ((container_reason, _CONTAINER_REASONS), (status_reason, _STATUS_REASONS)):
        if text:
            for pattern, failure_class in table:
                if pattern.search(text):
                    return failure_class
    if exit_code is None or exit_code == 0 or exit_code in _UNDECIDED_EXIT_CODES:
        return "unknown"
    return _EXIT_CODE_CLASSES.get(exit_code, "user_code")


def is_own_failure(failure_class: str) -> bool:
    """A killed task failed because something else stopped it: it is never a run's root cause."""
    return failure_class != "killed"
