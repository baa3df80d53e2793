"""Failure classification: the most specific signal wins (failure-strings.md)."""

from __future__ import annotations

import pytest

from runwatch.domain.failures import classify_failure

GENERIC = "Essential container in task exited"


@pytest.mark.parametrize(
    ("status_reason", "container_reason", "exit_code", "expected"),
    [
        (GENERIC, "OutOfMemoryError: Container killed due to memory usage", 137, "oom"),
        (GENERIC, "OutOfMemoryError: Container killed due to memory usage", 0, "oom"),
        ("Host EC2 (instance i-08784105ffff56b4f) terminated.", None, None, "spot_reclaim"),
        ("Host EC2 (instance i-0282b396e52b4c95d) terminated.", None, 143, "spot_reclaim"),
        ("Host EC2 Terminated", None, None, "spot_reclaim"),
        ("Job attempt duration exceeded timeout", None, 137, "timeout"),
        (
            "Canceled by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
            None,
            None,
            "timeout",
        ),
        ("Metaflow initiated job termination.", None, 143, "killed"),
        (
            "Task failed to start",
            "CannotPullContainerError: pull access denied for repository",
            None,
            "image_pull",
        ),
        (GENERIC, "CannotPullContainerError: timeout", None, "image_pull"),
        (
            GENERIC,
            "CannotInspectContainerError: Could not transition to inspecting; timed out after waiting 30s",
            None,
            "agent",
        ),
        (
            "Task failed to start",
            "DockerTimeoutError: Could not transition to created; timed out after waiting 4m0s",
            None,
            "agent",
        ),
        (
            "Task failed to start",
            "CannotStartContainerError: Error response from daemon: failed to initialize logging driver",
            None,
            "agent",
        ),
        ("Timeout waiting for network interface provisioning to complete.", None, 140, "agent"),
        (f"{GENERIC} - CannotInspectContainerError: Could not transition", None, None, "agent"),
        (GENERIC, None, 1, "user_code"),
        (GENERIC, None, 126, "user_code"),
        (GENERIC, None, 137, "oom"),
        (GENERIC, None, 143, "unknown"),
        ("Task failed to start", None, None, "unknown"),
        (None, None, None, "unknown"),
        (GENERIC, None, 0, "unknown"),
    ],
)
def test_classify(
    status_reason: str | None, container_reason: str | None, exit_code: int | None, expected: str
) -> None:
    assert classify_failure(status_reason, container_reason, exit_code) == expected


def test_container_reason_beats_status_reason() -> None:
    assert (
        classify_failure("Host EC2 (instance i-1) terminated.", "OutOfMemoryError: Container killed", 137)
        == "oom"
    )
