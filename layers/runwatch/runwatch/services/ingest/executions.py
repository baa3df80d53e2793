"""The Step Functions path: an execution status change -> its run, once its state machine is known to be Metaflow's.

Identification: a state machine's flow comes from the registry in the table, the execution event's own hint,
or DescribeStateMachine (Metaflow's marker); verdicts are cached, Metaflow ones in memory too. An execution of
a machine nothing identifies yet is parked (kept in the table with a TTL) and applied when a Batch job of that
execution names the flow; it never creates a flow on a guess. A failed execution's `cause` holds the failed
job, which is one more observation of that task (applied through the Batch path).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Protocol

from runwatch.aws.state_machines import InspectorUnavailable, StateMachineInspector
from runwatch.events.batch import JobObservation, NotMetaflow
from runwatch.events.envelope import RejectedEvent, parse_event
from runwatch.events.models import BatchJobStateChangeEvent, StepFunctionsExecutionStatusChangeEvent
from runwatch.events.step_functions import ExecutionObservation, observe_execution
from runwatch.services.ingest.batch import observe_metaflow_job
from runwatch.services.ingest.joins import Joins
from runwatch.services.ingest.reporting import APPLIED, DUPLICATE, IGNORED, PARKED, Counters
from runwatch.services.lru import LRU

_NOT_METAFLOW = ""  # registry verdict for state machines that are not Metaflow's


class MachineRegistry(Protocol):
    """runwatch.store.repository.StatusRepository: state machine verdicts and parked execution events."""

    def state_machine_flow(self, arn: str) -> tuple[bool, str | None]: ...
    def record_state_machine(self, arn: str, flow: str | None, source: str) -> None: ...
    def park_execution(self, execution_arn: str, order_key: str, event_json: str) -> None: ...
    def parked_executions(self, execution_arn: str) -> list[tuple[str, str]]: ...
    def drop_parked(self, execution_arn: str, order_key: str) -> None: ...


class ExecutionPath:
    def __init__(
        self,
        joins: Joins,
        registry: MachineRegistry,
        counters: Counters,
        apply_job: Callable[[JobObservation], str],
        inspector: StateMachineInspector | None = None,
        state_machine_prefix: str | None = None,
        cache_size: int = 20_000,
    ) -> None:
        self.joins = joins
        self.registry = registry
        self.counters = counters
        self.apply_job = apply_job
        self.inspector = inspector
        self.state_machine_prefix = state_machine_prefix
        self._machines: LRU[str, str] = LRU(1_000)
        self._drained: LRU[str, bool] = LRU(cache_size)

    def apply_event(self, event: StepFunctionsExecutionStatusChangeEvent) -> str:
        observation = _observe(event)
        flow = self._flow_of_machine(observation)
        if flow == _NOT_METAFLOW:
            self.counters.add("foreign_executions")
            return IGNORED
        if flow is None:
            # Serialised only here: most execution events belong to a known machine and are never parked.
            event_json = event.to_json()
            self.registry.park_execution(observation.execution_arn, _order_key(observation), event_json)
            # A Batch event may have identified the machine meanwhile and missed what was just parked.
            known, flow = self.registry.state_machine_flow(observation.state_machine_arn)
            if not known or not flow:
                return PARKED
            self._machines.put(observation.state_machine_arn, flow)
            self._drain_parked(observation.execution_arn, flow)
            return APPLIED
        return APPLIED if self._apply_identified(observation, flow) else DUPLICATE

    def identify(self, state_machine_arn: str, flow: str, execution_arn: str) -> None:
        """A Batch job proves its state machine is Metaflow's: record it and apply what waited for it."""
        if self._machines.get(state_machine_arn) != flow:
            known, stored = self.registry.state_machine_flow(state_machine_arn)
            if not known or stored != flow:
                self.registry.record_state_machine(state_machine_arn, flow, "batch-job")
            self._machines.put(state_machine_arn, flow)
        # Once a batch: its other jobs of the execution would read the same parked events (it is marked
        # drained only when the batch is written).
        if execution_arn not in self._drained and self.joins.first_in_batch(("parked", execution_arn)):
            self._drain_parked(execution_arn, flow)

    def _apply_identified(self, observation: ExecutionObservation, flow: str) -> bool:
        """Join an execution of a known Metaflow flow into its run (and its failed job into that task)."""
        changed = self.joins.run(observation.run_state(flow, self.state_machine_prefix))
        if observation.failed_job is not None:
            job = self._observe_failed_job(observation)
            if job is not None and self.apply_job(job) == APPLIED:
                changed = True
        return changed

    def _observe_failed_job(self, observation: ExecutionObservation) -> JobObservation | None:
        """The failed job that Step Functions puts in `cause` is one more observation of that task."""
        assert observation.failed_job is not None
        at = datetime.fromtimestamp(observation.fact.at / 1000, tz=UTC)
        try:
            return observe_metaflow_job(
                observation.failed_job,
                observation.account,
                observation.region,
                at,
                False,
                self.state_machine_prefix,
            )
        except (NotMetaflow, RejectedEvent):
            return None

    def _flow_of_machine(self, observation: ExecutionObservation) -> str | None:
        """The flow, _NOT_METAFLOW, or None when nothing tells yet."""
        arn = observation.state_machine_arn
        cached = self._machines.get(arn)
        if cached is not None:
            return cached
        known, flow = self.registry.state_machine_flow(arn)
        verdict: str | None = (flow or _NOT_METAFLOW) if known else None
        if verdict is None and observation.flow_hint:
            verdict = observation.flow_hint
            self.registry.record_state_machine(arn, verdict, "execution-event")
        if verdict is None and self.inspector is not None:
            try:
                described = self.inspector.flow_of(arn)
            except InspectorUnavailable:
                described = None
            else:
                verdict = described or _NOT_METAFLOW
                self.registry.record_state_machine(arn, described, "describe-state-machine")
        if verdict:  # only Metaflow verdicts are kept in memory: a negative one is re-read (it can expire)
            self._machines.put(arn, verdict)
        return verdict

    def _drain_parked(self, execution_arn: str, flow: str) -> None:
        for order_key, event_json in self.registry.parked_executions(execution_arn):
            event = parse_event(event_json)
            if not isinstance(event, BatchJobStateChangeEvent):
                self._apply_identified(_observe(event), flow)
            # Dropped once what it joined is written: a failed write leaves it parked for the redelivery.
            self.joins.after_batch(partial(self.registry.drop_parked, execution_arn, order_key))
        self.joins.after_batch(partial(self._drained.put, execution_arn, True))


def _observe(event: StepFunctionsExecutionStatusChangeEvent) -> ExecutionObservation:
    return observe_execution(event.detail, account=event.account, region=event.region, event_time=event.time)


def _order_key(observation: ExecutionObservation) -> str:
    fact = observation.fact
    return f"{fact.redrive_count:04d}#{int(fact.terminal)}#{fact.at:016d}#{fact.status}"
