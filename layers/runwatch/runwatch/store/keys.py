"""The key layout of runwatch's single table: this module alone spells partition and sort keys.

    run      pk RUN#<account>#<region>#<flow>#<run_id>   sk #RUN   GSIs by_flow, recent, by_status, active_keys,
                                                        by_run_id (<run_id>, sorted by <flow>), by_user (USER#<user>),
                                                        by_project (PROJECT#<project>#<branch>),
                                                        by_project_only (PROJECTONLY#<project>)
    run tag  pk TAG#<tag>             sk <started_at>#<run_id>#<run pk>   one per (tag, run): runs by tag
    task     pk RUN#<account>#<region>#<flow>#<run_id>   sk TASK#<step>#<task_id>
                                                    GSIs by_queue_keys (while pending),
                                                    by_step_keys, by_step_status_keys (task order)
    step     pk RUN#<account>#<region>#<flow>#<run_id>   sk STEP#<step>   the step's summary counters and bounds
             and, only once writers met on it, its shards   sk STEP#<step>#<k>   (k in 1..STEP_SHARDS-1)
    flow     pk FLOWS                 sk <flow>
    registry pk SM#<state machine arn> sk #SM
    parked   pk SFNEXEC#<execution arn> sk <redrive>#<terminal>#<time>#<status>
    marker   pk MARK#<kind>#<subject> sk <what>                      notification and sweeper markers
    job      pk JOB#<Batch job id>    sk #JOB#<attempt, 4 digits>   one per (job, attempt): the task attempt
                                                    it ran; the newest sorts last (lookups by job id read it
                                                    first). Items of the former shape, sk #JOB, sort before
                                                    every #JOB#... and are read until their TTL removes them.

One Query on a run's partition returns the run with all its tasks and attempts; the run's detail reads only
the run and its step items (sort key `#RUN` and `STEP#...`) and pages each step's tasks from `by_step_keys`, whose
sort key `task_order_sk` spells the display order (split index, then task id numerically). The GSIs serve the run
listings (newest first) and the sweeper's view of what is not finished (`active_keys`: runs only; their
unfinished tasks are found from their step summaries); the sparse ones only hold items while they are active
or pending, so they stay small. A run's identity is (account, region, flow, run id)
(docs/design.md §2); `by_run_id` (partition: the run id, sort key: the flow) finds the flows, accounts and
regions a run id exists in with one Query, and those of a (flow, run id) with a key condition on the flow.
A change of identity is made here and in the conversions of store/records.py, nowhere else.
"""

from __future__ import annotations

RUN_SK = "#RUN"
JOB_SK = "#JOB"  # the prefix of every job sort key, and the whole key of the former one-item shape
JOB_ATTEMPT_DIGITS = 4
TASK_SK_PREFIX = "TASK#"
STEP_SK_PREFIX = "STEP#"
STATE_MACHINE_SK = "#SM"
FLOWS_PK = "FLOWS"
ACTIVE_RUN = "ACTIVE#RUN"
RECENT_RUNS = "RUNS"
_MARKER_PREFIX = "MARK#"


def run_pk(account: str, region: str, flow: str, run_id: str) -> str:
    return f"RUN#{account}#{region}#{flow}#{run_id}"


def run_id_pk(run_id: str) -> str:
    """The `by_run_id` index's partition: a run id in every flow, account and region it exists in (its sort
    key is the run's `flow` attribute)."""
    return run_id


def job_pk(job_id: str) -> str:
    """A Batch job id's lookup item (a node of a multi-node job is `<job id>#<node index>`)."""
    return f"JOB#{job_id}"


def job_attempt_sk(attempt: int) -> str:
    """A job's attempt, zero-padded so that string order is numeric order. Metaflow runs at most a handful of
    attempts of a task (its MAX_ATTEMPTS is 6), so four digits leave room to spare and keep the key short."""
    return f"{JOB_SK}#{attempt:0{JOB_ATTEMPT_DIGITS}d}"


def task_sk(step: str, task_id: str) -> str:
    return f"{TASK_SK_PREFIX}{step}#{task_id}"


def step_sk(step: str) -> str:
    return f"{STEP_SK_PREFIX}{step}"


def step_shard_sk(step: str, shard: int) -> str:
    """A shard of a step's summary (shard >= 1; step names are Python identifiers, so '#' cannot clash and
    every `STEP#` read finds the shards beside their step's item)."""
    return f"{step_sk(step)}#{shard}"


def step_tasks_pk(account: str, region: str, flow: str, run_id: str, step: str) -> str:
    """Partition of the `by_step_keys` index: one step's tasks (inside the run's account-qualified partition)."""
    return f"{run_pk(account, region, flow, run_id)}#STEP#{step}"


# The task statuses `by_step_status_keys` lists: what a user looks for in a big step (what runs now, what
# broke). Tasks in the others (pending, starting, succeeded) carry no entry, so the way through them costs no
# index write: a task that succeeds first time writes its entry twice (running, then gone) instead of moving
# it at each status (seven writes). A page filtered on another status reads the step's pages instead.
INDEXED_TASK_STATUSES = frozenset({"running", "retrying", "failed", "killed"})


def step_status_pk(account: str, region: str, flow: str, run_id: str, step: str, status: str) -> str:
    """Partition of the `by_step_status_keys` index: one step's tasks in one of INDEXED_TASK_STATUSES."""
    return f"{step_tasks_pk(account, region, flow, run_id, step)}#{status}"


def task_order_sk(split_index: int | None, task_id: str) -> str:
    """Sorts as the run detail shows tasks: split index first (none last), then the id, digits numerically.

    Non-negative integers are zero-padded to 20 digits so that string order is numeric order.
    """
    split = "1" if split_index is None else f"0{split_index:020d}"
    natural = f"0{int(task_id):020d}" if task_id.isascii() and task_id.isdigit() else f"1{task_id}"
    return f"{split}#{natural}"


def flow_pk(flow: str) -> str:
    return f"FLOW#{flow}"


def status_pk(status: str) -> str:
    return f"STATUS#{status}"


def queue_pk(queue_arn: str) -> str:
    return f"QUEUE#{queue_arn}"


def started_sk(started_iso: str, run_id: str) -> str:
    return f"{started_iso}#{run_id}"


def user_pk(user: str) -> str:
    return f"USER#{user}"


def project_pk(project: str, branch: str) -> str:
    return f"PROJECT#{project}#{branch}"


def project_only_pk(project: str) -> str:
    """A project's runs on every branch (a partition of its own: `by_project` is keyed per branch)."""
    return f"PROJECTONLY#{project}"


def tag_pk(tag: str) -> str:
    return f"TAG#{tag}"


def tag_sk(started: str, run_pk_value: str) -> str:
    """A run tag's sort key: the run's `started_sk` (so time ranges and order work as on the run indexes),
    then the run's partition key, which tells apart runs of the same id in other flows or accounts."""
    return f"{started}#{run_pk_value}"


def started_range(since_iso: str | None, until_iso: str | None) -> tuple[str, str] | None:
    """Bounds of sort keys starting with `<started_at>#` for since <= started_at <= until (both optional).

    Start times are fixed-width ISO 8601 (domain.times.iso), so text order is time order; `$` sorts right
    after `#`, so every key of a run started at `until` is below `<until>$`."""
    if since_iso is None and until_iso is None:
        return None
    return (since_iso or "0", f"{until_iso}$" if until_iso is not None else "~")


def state_machine_pk(arn: str) -> str:
    return f"SM#{arn}"


def parked_pk(execution_arn: str) -> str:
    return f"SFNEXEC#{execution_arn}"


def marker_pk(kind: str, subject: str) -> str:
    return f"{_MARKER_PREFIX}{kind}#{subject}"


def marker_of_pk(pk: str) -> tuple[str, str]:
    """(kind, subject) of a marker's partition key (kinds never contain '#'; subjects may)."""
    if not pk.startswith(_MARKER_PREFIX):
        raise ValueError(f"not a marker key: {pk!r}")
    kind, _, subject = pk.removeprefix(_MARKER_PREFIX).partition("#")
    return kind, subject
