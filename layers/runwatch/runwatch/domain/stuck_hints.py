"""Why a task is stuck, in plain words: a hint derived from AWS Batch's queue-blocked reason.

The reasons are the codes Batch puts in a `Batch Job Queue Blocked` event's `statusReason`
(failure-strings.md: "Stuck RUNNABLE"); the code comes first, a free-text explanation may follow it.
"""

from __future__ import annotations

from typing import Final

# Code (prefix of the reason) -> what it means for the person whose job waits, and what to do about it.
_HINTS: Final[tuple[tuple[str, str], ...]] = (
    (
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
        "the job asks for more memory or vCPUs than any instance in the compute environment offers: "
        "lower @batch/@resources or allow larger instance types",
    ),
    (
        "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
        "the compute environment's maxvCpus is smaller than the job needs: raise maxvCpus or ask for fewer vCPUs",
    ),
    (
        "MISCONFIGURATION:SERVICE_ROLE_PERMISSIONS",
        "AWS Batch's service role lacks the permissions to launch instances: check the compute environment's "
        "service role",
    ),
    (
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
        "EC2 has no capacity for the requested instance types right now (common for Spot and GPU types): "
        "allow more instance types or subnets in other Availability Zones, or wait",
    ),
    (
        "ACTION_REQUIRED",
        "a compute environment attached to the job queue is INVALID: fix it in the AWS Batch console "
        "(often a deleted role, subnet, security group or launch template)",
    ),
)

NO_REASON_HINT: Final = (
    "AWS Batch gave no reason: the queue may be waiting for instances to start, its compute environments may "
    "be disabled or at maxvCpus, or the job may ask for more than any instance offers"
)
WAITING_ON_DEPENDENCIES_HINT: Final = "the job waits for the jobs it depends on to finish"


def stuck_hint(blocked_reason: str | None, batch_status: str | None = None) -> str:
    """A hint for a task pending too long; `batch_status` is the current attempt's Batch state."""
    reason = (blocked_reason or "").strip()
    if reason:
        upper = reason.upper()
        for code, hint in _HINTS:
            if upper.startswith(code):
                return hint
        return f"AWS Batch says the queue is blocked: {reason}"
    if batch_status == "PENDING":
        return WAITING_ON_DEPENDENCIES_HINT
    return NO_REASON_HINT
