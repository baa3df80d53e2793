"""Step Functions reads for reconciliation and backfill: DescribeExecution, Metaflow's state machines, listings.

The sweeper depends on `ExecutionDescriber`, the backfill on `ExecutionCatalog`; `StepFunctionsExecutions`
is the boto3 adapter for both. A state machine is Metaflow's by the same test ingest uses
(runwatch.aws.state_machines.flow_of_definition).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from runwatch.aws.state_machines import flow_of_definition

_NOT_FOUND = frozenset({"ExecutionDoesNotExist", "StateMachineDoesNotExist"})


class ExecutionsUnavailable(Exception):
    """Step Functions could not answer (permissions, throttling, network); the next sweep tries again."""


class ExecutionDescriber(Protocol):
    def describe_execution(self, execution_arn: str) -> dict[str, Any] | None:
        """The DescribeExecution answer, None when the execution no longer exists."""
        ...


class ExecutionCatalog(ExecutionDescriber, Protocol):
    def metaflow_state_machines(self) -> dict[str, str]:
        """state machine ARN -> flow, for every state machine Metaflow deployed."""
        ...

    def execution_arns(self, state_machine_arn: str, since_ms: int) -> Iterator[str]:
        """Executions started since `since_ms`, and all still running."""
        ...


def _error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return code if isinstance(code, str) else None
    return None


def _ms(value: Any) -> int:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else int(value or 0)


class StepFunctionsExecutions:
    """boto3 `stepfunctions` client adapter; `calls` counts API requests."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls = 0

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        try:
            response: dict[str, Any] = getattr(self._client, operation)(**kwargs)
        except Exception as exc:  # botocore's ClientError, EndpointConnectionError, NoCredentialsError, ...
            if _error_code(exc) in _NOT_FOUND:
                raise LookupError(_error_code(exc)) from None
            raise ExecutionsUnavailable(f"{operation}: {_error_code(exc) or type(exc).__name__}") from None
        return response

    def describe_execution(self, execution_arn: str) -> dict[str, Any] | None:
        try:
            return self._call("describe_execution", executionArn=execution_arn)
        except LookupError:
            return None

    def _pages(self, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            response = self._call(operation, **kwargs, **({"nextToken": token} if token else {}))
            yield from response.get(key, [])
            token = response.get("nextToken")
            if not token:
                return

    def metaflow_state_machines(self) -> dict[str, str]:
        machines: dict[str, str] = {}
        for machine in self._pages("list_state_machines", "stateMachines"):
            arn = machine["stateMachineArn"]
            try:
                described = self._call("describe_state_machine", stateMachineArn=arn)
            except LookupError:
                continue  # deleted between the two calls
            flow = flow_of_definition(described.get("definition", ""))
            if flow:
                machines[arn] = flow
        return machines

    def execution_arns(self, state_machine_arn: str, since_ms: int) -> Iterator[str]:
        seen: set[str] = set()
        for execution in self._pages("list_executions", "executions", stateMachineArn=state_machine_arn):
            if _ms(execution.get("startDate")) < since_ms:
                break  # newest first: everything after this started earlier
            seen.add(execution["executionArn"])
            yield execution["executionArn"]
        running = self._pages(
            "list_executions", "executions", stateMachineArn=state_machine_arn, statusFilter="RUNNING"
        )
        for execution in running:
            if execution["executionArn"] not in seen:
                yield execution["executionArn"]
