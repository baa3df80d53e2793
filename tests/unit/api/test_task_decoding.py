"""The read side's own decoding of task items gives exactly what records.task_from_item gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from runwatch.domain.task_state import AttemptState, TaskKey, TaskState
from runwatch.domain.vocab import BATCH_RANK
from runwatch.store.models import TaskItem
from runwatch.store.records import task_from_item, task_to_item
from runwatch.store.run_queries import task_state_from_raw

_text = st.none() | st.text(max_size=40)
_ms = st.none() | st.integers(min_value=0, max_value=4_102_444_800_000)

attempts = st.lists(
    st.builds(
        AttemptState,
        attempt=st.integers(min_value=0, max_value=9),
        batch_status=st.sampled_from(sorted(BATCH_RANK)),
        job_id=_text,
        created_at=_ms,
        started_at=_ms,
        stopped_at=_ms,
        status_reason=_text,
        container_reason=_text,
        exit_code=st.none() | st.integers(min_value=-1, max_value=255),
        log_stream=_text,
        exception=_text,
        vcpu=st.none() | st.sampled_from([0.25, 0.5, 1.0, 2.0]) | st.integers(min_value=1, max_value=96),
        memory_mib=st.none() | st.integers(min_value=1, max_value=2_000_000),
        gpu=st.none() | st.integers(min_value=0, max_value=8),
    ),
    max_size=4,
)

tasks = st.builds(
    TaskState,
    key=st.builds(
        TaskKey,
        st.just("TrainFlow"),
        st.just("17"),
        st.sampled_from(["start", "train"]),
        st.text(min_size=1, max_size=12),
    ),
    orchestrator=st.sampled_from(["batch", "step-functions"]),
    attempts=attempts.map(tuple),
    max_attempts=st.none() | st.integers(min_value=1, max_value=10),
    split_index=st.none() | st.integers(min_value=0, max_value=10_000),
    job_queue=_text,
    blocked_reason=_text,
    blocked_at=_ms,
    last_event_at=_ms,
    log_group=_text,
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(tasks)
def test_fast_decoding_matches_the_records_mapping(state: TaskState) -> None:
    raw = task_to_item(state, 3, 1_795_000_000_000, 90).serialize()
    assert task_state_from_raw(raw) == task_from_item(TaskItem.from_raw_data(raw))
    assert task_state_from_raw(raw).attempts == state.attempts


def test_numbers_stay_whole_or_fractional_as_dynamodb_wrote_them() -> None:
    raw = task_to_item(
        TaskState(key=TaskKey("F", "1", "s", "2", account="1", region="r"), orchestrator="batch"),
        1,
        1_795_000_000_000,
        90,
    ).serialize()
    attempt = {"attempt": {"N": "0"}, "batch_status": {"S": "RUNNING"}}
    written = [("0.25", 0.25), ("1.0", 1), ("4", 4), ("1E+1", 10)]
    raw["attempts"] = {"L": [{"M": {**attempt, "vcpu": {"N": text}}} for text, _ in written]}

    vcpus = [a.vcpu for a in task_state_from_raw(raw).attempts]

    assert vcpus == [value for _, value in written]
    assert [type(v) for v in vcpus] == [float, int, int, int]
