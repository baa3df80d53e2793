"""Step summaries kept in DynamoDB Local by the real transactions equal a recount of the stored tasks, after a
shuffled replay with duplicates by two consumers whose caches go stale (so writes lose races and retry)."""

from __future__ import annotations

import json
import random

from runwatch.domain.run_state import RunKey, run_key_of
from runwatch.domain.step_summary import recount
from runwatch.services.ingest import Ingestor
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from runwatch_dev.local.synth import RunSpec, simulate_run
from tests.unit.ingest.scenarios import replay

T0 = 1_795_000_000_000
SPECS = [
    RunSpec(flow="SumFlow", run_id="1", fanout=12, start_ms=T0),
    RunSpec(
        flow="SumFlow", run_id="2", fanout=6, outcomes={"train": {1: ["oom", "ok"], 3: ["user_code"] * 3}}
    ),
    RunSpec(
        flow="SumFlow",
        run_id="sfn-3",
        orchestrator="step-functions",
        state_machine="demo.prod.SumFlow",
        fanout=5,
        outcomes={"train": {0: ["spot", "ok"]}},
        start_ms=T0,
    ),
]


def test_kept_summaries_equal_a_recount_after_a_racy_shuffled_replay(repository: StatusRepository) -> None:
    events = [e for spec in SPECS for e in simulate_run(spec, random.Random(spec.run_id))]
    rng = random.Random(7)
    delivered = events + rng.sample(events, len(events) // 4)
    rng.shuffle(delivered)
    consumers = (Ingestor(repository), Ingestor(repository))
    for event in delivered:
        rng.choice(consumers).ingest(json.dumps(event))

    reader = RunReader()
    for spec in SPECS:
        key = RunKey(spec.flow, spec.run_id, account="123456789012", region="us-east-1")
        _, tasks = repository.run_with_tasks(key)
        run, kept = reader.run_with_steps(key)
        assert run is not None
        steps = {t.key.step for t in tasks}
        want = {step: recount(step, [t for t in tasks if t.key.step == step]) for step in steps}
        assert {summary.step: summary for summary in kept} == want, spec.run_id


def test_batches_write_a_steps_tasks_in_one_transaction_and_keep_summaries_exact(
    repository: StatusRepository,
) -> None:
    """Batches of up to 30 events by two consumers with stale caches: transactions of many tasks lose races
    on some of them (StaleItems) or on the step's bounds, and are joined again; nothing is counted twice or
    lost, and the bounds are the widest."""
    events = [e for spec in SPECS for e in simulate_run(spec, random.Random(spec.run_id))]
    rng = random.Random(11)
    delivered = events + rng.sample(events, len(events) // 4)
    rng.shuffle(delivered)
    # Two containers: each its own repository, so each learns the step bounds the other wrote by losing.
    consumers = (Ingestor(repository), Ingestor(StatusRepository()))
    first = 0
    while first < len(delivered):
        size = rng.randint(1, 30)
        batch = [(str(first + i), json.dumps(e)) for i, e in enumerate(delivered[first : first + size])]
        result = rng.choice(consumers).ingest_batch(batch)
        assert not result.failed and not result.rejected
        first += size
    assert sum(c.joins.conflicts for c in consumers) > 0  # the stale caches did lose races

    expected = replay(events)
    reader = RunReader()
    for spec in SPECS:
        key = RunKey(spec.flow, spec.run_id, account="123456789012", region="us-east-1")
        _, tasks = repository.run_with_tasks(key)
        run, kept = reader.run_with_steps(key)
        assert run is not None and run.status == expected.runs[key].state.status
        assert {t.key: t for t in tasks} == {
            k: v.state for k, v in expected.tasks.items() if run_key_of(k) == key
        }
        want = {
            step: recount(step, [t for t in tasks if t.key.step == step])
            for step in {t.key.step for t in tasks}
        }
        assert {summary.step: summary for summary in kept} == want, spec.run_id
