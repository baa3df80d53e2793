"""Is a state machine Metaflow's? Asked of DescribeStateMachine, with Metaflow's own test.

Metaflow recognises its deployments by `metaflow.flow_name` in the start state's Parameters.Parameters
(step_functions.py get_existing_deployment); runwatch uses the same test.
"""

from __future__ import annotations

import json
from typing import Any, Protocol


class InspectorUnavailable(Exception):
    """The state machine could not be described (permissions, throttling, network)."""


class StateMachineInspector(Protocol):
    def flow_of(self, state_machine_arn: str) -> str | None:
        """The Metaflow flow the state machine runs, None if it is not Metaflow's."""
        ...


def flow_of_definition(definition: str) -> str | None:
    try:
        document = json.loads(definition)
        start = document["States"][document["StartAt"]]
        params = start.get("Parameters", {}).get("Parameters", {})
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    flow = params.get("metaflow.flow_name") if isinstance(params, dict) else None
    return flow if isinstance(flow, str) and flow else None


class DescribeStateMachineInspector:
    def __init__(self, client: Any) -> None:
        self._client = client

    def flow_of(self, state_machine_arn: str) -> str | None:
        try:
            response = self._client.describe_state_machine(stateMachineArn=state_machine_arn)
        except Exception as exc:  # botocore's ClientError, EndpointConnectionError, ...
            raise InspectorUnavailable(type(exc).__name__) from None
        return flow_of_definition(response.get("definition", ""))
