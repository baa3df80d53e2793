"""Plain-words hints for stuck tasks, from the reasons AWS Batch gives (failure-strings.md)."""

from __future__ import annotations

import pytest

from runwatch.domain.stuck_hints import NO_REASON_HINT, WAITING_ON_DEPENDENCIES_HINT, stuck_hint


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (
            "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is higher",
            "more memory or vCPUs than any instance in the compute environment offers",
        ),
        (
            "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested for instance "
            "type [instanceTypeName]",
            "no capacity for the requested instance types",
        ),
        ("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE", "maxvCpus is smaller than the job needs"),
        ("MISCONFIGURATION:SERVICE_ROLE_PERMISSIONS", "service role lacks the permissions"),
        ("ACTION_REQUIRED - CE(s) associated with the job queue are invalid.", "is INVALID"),
    ],
)
def test_known_reasons_have_a_hint(reason: str, words: str) -> None:
    assert words in stuck_hint(reason, "RUNNABLE")


def test_an_unknown_reason_is_quoted() -> None:
    assert (
        stuck_hint("SOMETHING:NEW - details", "RUNNABLE")
        == "AWS Batch says the queue is blocked: SOMETHING:NEW - details"
    )


def test_no_reason_gives_the_generic_hint() -> None:
    assert stuck_hint(None, "RUNNABLE") == NO_REASON_HINT
    assert stuck_hint("  ", "SUBMITTED") == NO_REASON_HINT


def test_pending_without_reason_waits_on_dependencies() -> None:
    assert stuck_hint(None, "PENDING") == WAITING_ON_DEPENDENCIES_HINT
