"""PynamoDB models of runwatch's single table: item kinds, their attributes and the indexes.

The keys these items are stored under are spelled in store/keys.py; the conversions between these items and
the domain's states are in store/records.py. No code outside runwatch.store sees these classes: the store
hands out domain states (RunState, TaskState, Marker) instead.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from runwatch.store import raw_reads


class _Index(GlobalSecondaryIndex[Any]):
    class Meta:
        projection = AllProjection()


class ByFlowIndex(_Index):
    class Meta:
        index_name = "by_flow"
        projection = AllProjection()

    flow_pk = UnicodeAttribute(hash_key=True)
    started_sk = UnicodeAttribute(range_key=True)


class RecentIndex(_Index):
    class Meta:
        index_name = "recent"
        projection = AllProjection()

    recent_pk = UnicodeAttribute(hash_key=True)
    started_sk = UnicodeAttribute(range_key=True)


class ByStatusIndex(_Index):
    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status_pk = UnicodeAttribute(hash_key=True)
    started_sk = UnicodeAttribute(range_key=True)


class ByUserIndex(_Index):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_pk = UnicodeAttribute(hash_key=True)
    started_sk = UnicodeAttribute(range_key=True)


class ByProjectIndex(_Index):
    """A project's runs on one branch."""

    class Meta:
        index_name = "by_project"
        projection = AllProjection()

    project_pk = UnicodeAttribute(hash_key=True)
    started_sk = UnicodeAttribute(range_key=True)


class ByProjectOnlyIndex(_Index):
    """A project's runs on all its branches."""

    class Meta:
        index_name = "by_project_only"
        projection = AllProjection()

    project_only_pk = UnicodeAttribute(hash_key=True)
    started_sk = UnicodeAttribute(range_key=True)


class ByRunIdIndex(GlobalSecondaryIndex[Any]):
    """Where a run id exists: one entry per flow, account and region, with just those attributes."""

    class Meta:
        index_name = "by_run_id"
        projection = IncludeProjection(["account", "region", "kind"])  # kind: PynamoDB filters on it

    run_id_pk = UnicodeAttribute(hash_key=True)
    flow = UnicodeAttribute(range_key=True)


class _KeysOnlyIndex(GlobalSecondaryIndex[Any]):
    """An index of the task and sweeper reads: it holds keys only, so a write of an item whose index keys did
    not change writes nothing to it; readers fetch the items (store/keyed_reads.py)."""

    class Meta:
        projection = KeysOnlyProjection()


class ActiveIndex(_KeysOnlyIndex):
    """Sparse: runs not finished, and runs that ended while their steps counted unfinished tasks (until the
    sweeper takes them out). Tasks carry no entry: the sweeper finds them from the runs' step summaries
    (store/active.py). The sort key is the table's, so an entry never moves while its run is in it."""

    class Meta:
        index_name = "active_keys"
        projection = KeysOnlyProjection()

    active_pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class ByQueueIndex(_KeysOnlyIndex):
    class Meta:
        index_name = "by_queue_keys"
        projection = KeysOnlyProjection()

    queue_pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class ByStepIndex(_KeysOnlyIndex):
    class Meta:
        index_name = "by_step_keys"
        projection = KeysOnlyProjection()

    step_pk = UnicodeAttribute(hash_key=True)
    task_order_sk = UnicodeAttribute(range_key=True)


class ByStepStatusIndex(_KeysOnlyIndex):
    class Meta:
        index_name = "by_step_status_keys"
        projection = KeysOnlyProjection()

    step_status_pk = UnicodeAttribute(hash_key=True)
    task_order_sk = UnicodeAttribute(range_key=True)


class AttemptAttribute(MapAttribute[str, Any]):
    attempt = NumberAttribute()
    batch_status = UnicodeAttribute()
    job_id = UnicodeAttribute(null=True)
    created_at = NumberAttribute(null=True)
    started_at = NumberAttribute(null=True)
    stopped_at = NumberAttribute(null=True)
    status_reason = UnicodeAttribute(null=True)
    container_reason = UnicodeAttribute(null=True)
    exit_code = NumberAttribute(null=True)
    log_stream = UnicodeAttribute(null=True)
    exception = UnicodeAttribute(null=True)
    vcpu = NumberAttribute(null=True)
    memory_mib = NumberAttribute(null=True)
    gpu = NumberAttribute(null=True)


class FailureAttribute(MapAttribute[str, Any]):
    at = NumberAttribute()
    step = UnicodeAttribute()
    task_id = UnicodeAttribute()
    attempt = NumberAttribute()
    failure_class = UnicodeAttribute()
    status_reason = UnicodeAttribute(null=True)
    exit_code = NumberAttribute(null=True)
    exception = UnicodeAttribute(null=True)


class UsageAttribute(MapAttribute[str, Any]):
    """A run's compute sums (domain/usage.py UsageTotals), as of its last status change."""

    vcpu_ms = NumberAttribute(default=0)
    memory_ms = NumberAttribute(default=0)
    gpu_ms = NumberAttribute(default=0)
    wasted_vcpu_ms = NumberAttribute(default=0)
    live_vcpu = NumberAttribute(default=0)
    live_vcpu_at = NumberAttribute(default=0)
    live_memory = NumberAttribute(default=0)
    live_memory_at = NumberAttribute(default=0)
    live_gpu = NumberAttribute(default=0)
    live_gpu_at = NumberAttribute(default=0)


class ExecutionAttribute(MapAttribute[str, Any]):
    redrive_count = NumberAttribute()
    terminal = BooleanAttribute()
    at = NumberAttribute()
    status = UnicodeAttribute()
    error = UnicodeAttribute(null=True)
    cause = UnicodeAttribute(null=True)


class TableItem(Model):
    """Every item of the table; `kind` picks the subclass when a query returns mixed items."""

    class Meta:
        table_name = "runwatch"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    expires_at = NumberAttribute(null=True)


class StatusItem(TableItem):
    """Shared by runs and tasks: optimistic locking and the sweeper's sparse index (only runs set `active_pk`)."""

    version = VersionAttribute()
    status = UnicodeAttribute()
    flow = UnicodeAttribute()
    run_id = UnicodeAttribute()
    account = UnicodeAttribute()
    region = UnicodeAttribute()
    orchestrator = UnicodeAttribute()
    active_pk = UnicodeAttribute(null=True)
    active_index = ActiveIndex()
    # Set by a write that must not notify (a backfill without --notify); every other write clears it.
    quiet = BooleanAttribute(null=True)


class RunItem(StatusItem, discriminator="run"):
    user = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    production_token = UnicodeAttribute(null=True)
    project = UnicodeAttribute(null=True)
    branch = UnicodeAttribute(null=True)
    tags = ListAttribute[str](default=list)  # a list of strings (DynamoDB L of S)
    state_machine = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    first_seen_at = NumberAttribute(null=True)
    execution = ExecutionAttribute(null=True)
    execution_stopped_at = NumberAttribute(null=True)
    redrive_at = NumberAttribute(null=True)
    end_succeeded_at = NumberAttribute(null=True)
    failures = ListAttribute[FailureAttribute](of=FailureAttribute, default=list)
    killed_at = NumberAttribute(null=True)
    abandoned_at = NumberAttribute(null=True)
    activity_at = NumberAttribute(null=True)
    usage = UsageAttribute(null=True)
    # Derived, stored for listings and for the notifier reading the stream.
    started_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    failure = FailureAttribute(null=True)
    flow_pk = UnicodeAttribute(null=True)
    recent_pk = UnicodeAttribute(null=True)
    status_pk = UnicodeAttribute(null=True)
    started_sk = UnicodeAttribute(null=True)
    run_id_pk = UnicodeAttribute(null=True)
    user_pk = UnicodeAttribute(null=True)
    project_pk = UnicodeAttribute(null=True)
    project_only_pk = UnicodeAttribute(null=True)
    by_flow_index = ByFlowIndex()
    by_run_id_index = ByRunIdIndex()
    recent_index = RecentIndex()
    by_status_index = ByStatusIndex()
    by_user_index = ByUserIndex()
    by_project_index = ByProjectIndex()
    by_project_only_index = ByProjectOnlyIndex()


class TaskItem(StatusItem, discriminator="task"):
    step = UnicodeAttribute()
    task_id = UnicodeAttribute()
    attempts = ListAttribute[AttemptAttribute](of=AttemptAttribute, default=list)
    max_attempts = NumberAttribute(null=True)
    split_index = NumberAttribute(null=True)
    job_queue = UnicodeAttribute(null=True)
    blocked_reason = UnicodeAttribute(null=True)
    blocked_at = NumberAttribute(null=True)
    last_event_at = NumberAttribute(null=True)
    log_group = UnicodeAttribute(null=True)
    # Derived (true or absent), stored so the notifier's stream filter only wakes for tasks being retried.
    has_failed_attempt = BooleanAttribute(null=True)
    queue_pk = UnicodeAttribute(null=True)
    by_queue_index = ByQueueIndex()
    # Derived: the step's tasks in display order, all of them and per status.
    step_pk = UnicodeAttribute(null=True)
    step_status_pk = UnicodeAttribute(null=True)
    task_order_sk = UnicodeAttribute(null=True)
    by_step_index = ByStepIndex()
    by_step_status_index = ByStepStatusIndex()


class StepItem(TableItem, discriminator="step"):
    """A step's summary, or a shard of it: bounds here, counters as top-level numbers `c_<counter>` (ADD
    needs top level). Written only in the transaction of a task's change, bounds conditional on widening;
    store/step_items.py merges a step's shards on read.
    """

    step = UnicodeAttribute()
    first_created_at = NumberAttribute(null=True)
    earliest_start = NumberAttribute(null=True)
    latest_stop = NumberAttribute(null=True)


class FlowItem(TableItem, discriminator="flow"):
    flow = UnicodeAttribute()
    last_run_id = UnicodeAttribute()
    last_account = UnicodeAttribute()
    last_region = UnicodeAttribute()
    last_started_sk = UnicodeAttribute()


class RunTagItem(TableItem, discriminator="run_tag"):
    """One (tag, run): runs by tag, newest first (a list attribute cannot key an index).

    Holds the run's identity and copies of the run's attributes a listing filters on, so a tag listing
    filters before it reads the runs; rewritten when one of them changes, moved when the run's start does.
    """

    flow = UnicodeAttribute()
    run_id = UnicodeAttribute()
    account = UnicodeAttribute()
    region = UnicodeAttribute()
    started_sk = UnicodeAttribute()
    orchestrator = UnicodeAttribute()
    user = UnicodeAttribute(null=True)
    project = UnicodeAttribute(null=True)
    branch = UnicodeAttribute(null=True)
    tags = ListAttribute[str](default=list)


class StateMachineItem(TableItem, discriminator="state_machine"):
    """Whether a state machine is Metaflow's, and which flow it runs (None: verified not Metaflow)."""

    flow = UnicodeAttribute(null=True)
    verdict_source = UnicodeAttribute()
    checked_at = NumberAttribute()


class ParkedExecutionItem(TableItem, discriminator="parked_execution"):
    """An execution event kept until a Batch event or DescribeStateMachine ties it to a Metaflow flow."""

    event = UnicodeAttribute()


class JobItem(TableItem, discriminator="job"):
    """Which task and attempt a Batch job ran: written once per job (and per later attempt of the same job)."""

    flow = UnicodeAttribute()
    run_id = UnicodeAttribute()
    step = UnicodeAttribute()
    task_id = UnicodeAttribute()
    attempt = NumberAttribute()
    account = UnicodeAttribute()
    region = UnicodeAttribute()


class MarkerItem(TableItem, discriminator="marker"):
    """A fact that something was done once (a notification sent, an alert raised)."""

    created_at = NumberAttribute()
    detail = UnicodeAttribute(null=True)


def bind(table_name: str, host: str | None = None, region: str | None = None, session: Any = None) -> None:
    """Point every model at a table (tests use one table each; Lambda reads TABLE_NAME once).

    `session`: a botocore session for the table's client (the one the function's other clients come from);
    PynamoDB makes its own when it is None.
    """
    models = (
        TableItem,
        StatusItem,
        RunItem,
        TaskItem,
        StepItem,
        FlowItem,
        RunTagItem,
        StateMachineItem,
        ParkedExecutionItem,
        MarkerItem,
        JobItem,
    )
    for model in models:
        model.Meta.table_name = table_name
        setattr(model.Meta, "host", host)  # noqa: B010 - Meta declares no host until bound
        if region:
            model.Meta.region = region
        model._connection = None
    # One connection (one botocore client) for all item types: each client costs ~0.3 s at cold start.
    shared = TableItem._get_connection()
    for model in models:
        model._connection = shared
    if session is not None:
        shared.connection._local.session = session  # PynamoDB takes no session; this is the one it would make
    # Its client, made at the first request, takes items from the bodies of reads as they are.
    raw_reads.register(shared.connection.session)
