"""Any permutation of a run's events, with any duplicates, ends in the state of the in-order stream,
step summaries included (and those equal a recount of the tasks), also when concurrent writers send their
step changes to the summary's shards."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runwatch.domain.usage import task_usage, total
from runwatch.services.ingest import Ingestor
from runwatch_dev.local.synth import RunSpec, simulate_run
from runwatch_dev.local.synth_parallel import ParallelSpec, simulate_parallel_run
from tests.fakes.memory_store import MemoryStore
from tests.unit.ingest.scenarios import recounted_steps, replay, snapshot

ATTEMPT_ENDINGS = ["ok", "user_code", "oom", "spot", "timeout", "image_pull"]


@st.composite
def run_specs(draw: st.DrawFn, index: int) -> RunSpec:
    sfn = draw(st.booleans())
    fanout = draw(st.integers(1, 3))
    outcomes: dict[int, list[str]] = {}
    for task in range(fanout):
        plan = draw(st.lists(st.sampled_from(ATTEMPT_ENDINGS), min_size=1, max_size=3))
        outcomes[task] = plan
    flow = draw(st.sampled_from(["TrainFlow", "ScoringFlow"]))
    return RunSpec(
        flow=flow,
        run_id=f"sfn-run-{index}" if sfn else f"17950000000{index}",
        orchestrator="step-functions" if sfn else "batch",
        state_machine=f"demo.prod.{flow}" if sfn else None,
        fanout=fanout,
        max_retries=draw(st.integers(0, 2)),
        outcomes={"train": outcomes},
        start_ms=1_795_000_000_000 + index * 1_000,
        execution_outcome=draw(st.sampled_from([None, None, "TIMED_OUT", "ABORTED"])) if sfn else None,
    )


@st.composite
def parallel_runs(draw: st.DrawFn, index: int) -> list[dict[str, Any]]:
    """A local run whose `train` step is one `@parallel` job of 2-3 nodes, retried as a whole."""
    nodes = draw(st.integers(2, 3))
    outcomes = {
        node: draw(st.lists(st.sampled_from(ATTEMPT_ENDINGS), min_size=1, max_size=2))
        for node in range(nodes)
    }
    run = RunSpec(
        flow="TorchFlow",
        run_id=f"17960000000{index}",
        max_retries=draw(st.integers(0, 1)),
        start_ms=1_795_000_000_000 + index * 1_000,
    )
    return simulate_parallel_run(ParallelSpec(run, nodes=nodes, outcomes=outcomes))


@st.composite
def run_events(draw: st.DrawFn, index: int) -> list[dict[str, Any]]:
    if draw(st.integers(0, 3)) == 0:
        return draw(parallel_runs(index))
    return simulate_run(draw(run_specs(index)))


@st.composite
def event_streams(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    count = draw(st.integers(1, 2))
    events = [e for i in range(count) for e in draw(run_events(i))]
    shuffled = draw(st.permutations(events))
    duplicates = draw(st.lists(st.sampled_from(events), max_size=len(events) // 2))
    positions = draw(
        st.lists(st.integers(0, len(shuffled)), min_size=len(duplicates), max_size=len(duplicates))
    )
    delivered = list(shuffled)
    for event, position in zip(duplicates, positions, strict=True):
        delivered.insert(position, copy.deepcopy(event))
    return events, delivered


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(event_streams())
def test_any_order_with_duplicates_ends_in_the_in_order_state(
    streams: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    in_order, delivered = streams
    store = replay(delivered)
    assert snapshot(store) == snapshot(replay(in_order))
    assert store.steps == recounted_steps(store)  # step summaries: exactly a full recount of the tasks
    # Compute used: each step's kept sums are exactly its tasks' attempts' sums (resources x running time).
    for (flow, run_id, step), summary in store.steps.items():
        tasks = [
            v.state
            for key, v in store.tasks.items()
            if (key.flow, key.run_id, key.step) == (flow, run_id, step)
        ]
        assert summary.usage == total(task_usage(t) for t in tasks)
    assert any(s.usage.vcpu_ms or s.usage.live_vcpu for s in store.steps.values())


@settings(max_examples=50, deadline=None)
@given(event_streams())
def test_replaying_everything_again_writes_nothing(
    streams: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    _, delivered = streams
    store = replay(delivered)
    writes = store.write_requests
    replay(delivered, store)
    assert store.write_requests == writes


@settings(max_examples=50, deadline=None)
@given(event_streams(), st.lists(st.booleans(), min_size=1))
def test_two_consumers_with_stale_caches_end_in_the_in_order_state(
    streams: tuple[list[dict[str, Any]], list[dict[str, Any]]], turns: list[bool]
) -> None:
    """Two ingestors share the store but not their caches: each lost race re-reads, none double-counts."""
    in_order, delivered = streams
    store = MemoryStore()
    consumers = (Ingestor(store), Ingestor(store))
    for i, event in enumerate(delivered):
        consumers[turns[i % len(turns)]].ingest(event)
    assert snapshot(store) == snapshot(replay(in_order))
    assert store.steps == recounted_steps(store)


def apply_in_turns(
    consumers: tuple[Ingestor, Ingestor], delivered: list[dict[str, Any]], sizes: list[int], turns: list[bool]
) -> None:
    """Deliver the events in batches of the drawn sizes, each to the consumer whose turn it is."""
    first = 0
    for turn in range(len(delivered)):
        if first >= len(delivered):
            break
        size = sizes[turn % len(sizes)]
        batch = [(f"m-{first + i}", event) for i, event in enumerate(delivered[first : first + size])]
        result = consumers[turns[turn % len(turns)]].ingest_batch(batch)
        assert not result.failed and not result.rejected
        first += size


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_streams(), st.lists(st.integers(1, 12), min_size=1), st.lists(st.booleans(), min_size=1))
def test_batches_applied_by_two_consumers_end_in_the_in_order_state(
    streams: tuple[list[dict[str, Any]], list[dict[str, Any]]], sizes: list[int], turns: list[bool]
) -> None:
    """Events coalesced per batch (each item written once per batch) by two consumers with stale caches."""
    in_order, delivered = streams
    store = MemoryStore()
    consumers = (Ingestor(store), Ingestor(store))
    apply_in_turns(consumers, delivered, sizes, turns)
    assert snapshot(store) == snapshot(replay(in_order))
    assert store.steps == recounted_steps(store)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    event_streams(),
    st.lists(st.integers(1, 12), min_size=1),
    st.lists(st.booleans(), min_size=1),
    st.lists(st.booleans(), min_size=1, max_size=8).filter(lambda held: not all(held)),
)
def test_writers_that_meet_on_a_step_item_land_in_shards_and_end_in_the_in_order_state(
    streams: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    sizes: list[int],
    turns: list[bool],
    held: list[bool],
) -> None:
    """Two consumers whose writes find the step's item (or a shard) held by another writer, as `held` says:
    their retries go to shards, and the summaries merged from them equal the in-order replay's."""
    in_order, delivered = streams
    schedule = itertools.cycle(held)
    store = MemoryStore(taken=lambda step, shard: next(schedule))
    consumers = (Ingestor(store), Ingestor(store))
    apply_in_turns(consumers, delivered, sizes, turns)
    assert snapshot(store) == snapshot(replay(in_order))
    assert store.steps == recounted_steps(store)
    if any(held[:1]):  # the very first step write found its item held
        assert any(shard for (*_, shard) in store.step_items)
