"""AWS Batch reads for reconciliation and backfill: DescribeJobs (100 ids a call), job queues, job listings.

The sweeper depends on `JobDescriber`, the backfill on `JobCatalog`; `BatchJobs` is the boto3 adapter for
both, so tests pass fakes or point it at moto.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final, Protocol

# DescribeJobs accepts at most 100 job ids per call.
DESCRIBE_JOBS_MAX: Final = 100
IN_FLIGHT_STATUSES: Final = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")


class BatchUnavailable(Exception):
    """AWS Batch could not answer (permissions, throttling, network); the next sweep tries again."""


class JobDescriber(Protocol):
    def describe_jobs(self, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        """JobDetails of the jobs Batch still knows (unknown or expired ids are simply absent)."""
        ...


class JobCatalog(JobDescriber, Protocol):
    def job_queues(self) -> list[str]:
        """Every job queue's ARN."""
        ...

    def job_ids(self, queue: str, since_ms: int) -> Iterator[str]:
        """Ids of the queue's jobs created since `since_ms`, and of all its jobs still in flight."""
        ...


def chunks(ids: Sequence[str], size: int = DESCRIBE_JOBS_MAX) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class BatchJobs:
    """boto3 `batch` client adapter; `calls` counts API requests (for reports and tests)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls = 0

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        try:
            response: dict[str, Any] = getattr(self._client, operation)(**kwargs)
        except Exception as exc:  # botocore's ClientError, EndpointConnectionError, NoCredentialsError, ...
            raise BatchUnavailable(f"{operation}: {type(exc).__name__}") from None
        return response

    def describe_jobs(self, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        unique = list(dict.fromkeys(job_ids))
        found: list[dict[str, Any]] = []
        for chunk in chunks(unique):
            found.extend(self._call("describe_jobs", jobs=list(chunk)).get("jobs", []))
        return found

    def job_queues(self) -> list[str]:
        queues: list[str] = []
        token: str | None = None
        while True:
            response = self._call("describe_job_queues", **({"nextToken": token} if token else {}))
            queues.extend(q["jobQueueArn"] for q in response.get("jobQueues", []))
            token = response.get("nextToken")
            if not token:
                return queues

    def _list(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            response = self._call("list_jobs", **kwargs, **({"nextToken": token} if token else {}))
            yield from response.get("jobSummaryList", [])
            token = response.get("nextToken")
            if not token:
                return

    def job_ids(self, queue: str, since_ms: int) -> Iterator[str]:
        seen: set[str] = set()
        # With a filter ListJobs returns jobs of every status (jobStatus is ignored).
        history = self._list(
            jobQueue=queue, filters=[{"name": "AFTER_CREATED_AT", "values": [str(since_ms)]}]
        )
        # A job RUNNABLE for days is older than the window but matters most: list what is in flight too.
        in_flight = (
            job for status in IN_FLIGHT_STATUSES for job in self._list(jobQueue=queue, jobStatus=status)
        )
        for source, bounded in ((history, True), (in_flight, False)):
            for summary in source:
                job_id = summary.get("jobId")
                if not job_id or job_id in seen:
                    continue
                if bounded and (summary.get("createdAt") or 0) < since_ms:
                    continue
                seen.add(job_id)
                yield job_id
