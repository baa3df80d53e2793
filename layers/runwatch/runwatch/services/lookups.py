"""Lookups: a Batch job id, a Step Functions execution or a search text -> the run or task it names.

Every lookup is a few key reads, never a listing: a job id is one Query of its `JOB#` items, newest attempt
first, Limit 1 (written by ingest's JobLookupView), a run id or an execution (whose Metaflow run id is
`sfn-<name>`) one Query of the `by_run_id` index, a task pathspec that Query plus one GetItem per place the
run exists (at most a few).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from runwatch.domain.lookups import (
    SFN_RUN_PREFIX,
    ExecutionRef,
    JobAttempt,
    SearchTerm,
    execution_ref,
    parse_search,
)
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.task_state import TaskState
from runwatch.services.queries import AmbiguousRun, NotFoundInRun

MAX_MATCHES = 20


class LookupReader(Protocol):
    """runwatch.store.run_queries.RunReader."""

    def job(self, job_id: str) -> JobAttempt | None: ...
    def run_id_locations(self, run_id: str, limit: int = ..., flow: str | None = None) -> list[RunKey]: ...
    def runs(self, keys: list[RunKey]) -> dict[RunKey, RunState]: ...
    def task(self, key: RunKey, step: str, task_id: str) -> TaskState | None: ...


class JobNotFound(NotFoundInRun):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"Batch job {job_id} not found")


class ExecutionNotFound(NotFoundInRun):
    def __init__(self, execution: str) -> None:
        super().__init__(f"execution {execution} not found")


class BadSearch(ValueError):
    """A search text that cannot name anything (empty, or too long)."""


@dataclass(frozen=True, slots=True)
class Match:
    """A run (step, task id and attempt None) or a task (attempt set when a job id named it)."""

    kind: str  # "run" or "task"
    run: RunKey
    step: str | None = None
    task_id: str | None = None
    attempt: int | None = None


class Lookups:
    def __init__(self, reader: LookupReader) -> None:
        self.reader = reader

    def job(self, job_id: str) -> JobAttempt:
        """The task attempt a Batch job ran; a node `<id>#0` of a multi-node job is its main job's."""
        found = self.reader.job(job_id)
        main, _, node = job_id.rpartition("#")
        if found is None and main and node == "0":
            found = self.reader.job(main)
        if found is None:
            raise JobNotFound(job_id)
        return found

    def execution(self, text: str) -> RunState:
        """The run of an execution ARN or name; AmbiguousRun when a bare name exists in several places."""
        try:
            ref = execution_ref(text)
        except ValueError:
            raise ExecutionNotFound(text) from None
        runs = self._execution_runs(ref)
        if not runs:
            raise ExecutionNotFound(text)
        if len(runs) > 1:
            raise AmbiguousRun(runs[0].key.flow, ref.run_id, [run.key for run in runs])
        return runs[0]

    def _execution_runs(self, ref: ExecutionRef) -> list[RunState]:
        keys = [
            key
            for key in self.reader.run_id_locations(ref.run_id)
            if ref.account in (None, key.account) and ref.region in (None, key.region)
        ]
        found = self.reader.runs(keys[:100])
        runs = [found[key] for key in keys if key in found]
        # Two state machines may run executions of the same name: the ARN tells them apart.
        return [run for run in runs if ref.arn is None or run.execution_arn == ref.arn]

    def search(self, text: str) -> list[Match]:
        """Runs and tasks the text names, at most MAX_MATCHES; raises BadSearch for an empty text."""
        try:
            term = parse_search(text)
        except ValueError as exc:
            raise BadSearch(str(exc)) from None
        if term.kind == "execution":
            assert term.execution is not None
            found = [Match("run", run.key) for run in self._execution_runs(term.execution)]
        elif term.kind == "pathspec":
            found = self._pathspec(term)
        else:
            found = self._job_matches(term.text)
            if term.kind == "word":
                found += self._word(term.text)
        return list(dict.fromkeys(found))[:MAX_MATCHES]

    def _job_matches(self, job_id: str) -> list[Match]:
        try:
            job = self.job(job_id)
        except JobNotFound:
            return []
        key = job.task
        run = RunKey(key.flow, key.run_id, account=key.account, region=key.region)
        return [Match("task", run, key.step, key.task_id, job.attempt)]

    def _word(self, word: str) -> list[Match]:
        """A run id, or an execution name (run id `sfn-<name>`)."""
        keys = self.reader.run_id_locations(word, MAX_MATCHES)
        if not word.startswith(SFN_RUN_PREFIX):
            keys += self.reader.run_id_locations(f"{SFN_RUN_PREFIX}{word}", MAX_MATCHES)
        return [Match("run", key) for key in keys]

    def _pathspec(self, term: SearchTerm) -> list[Match]:
        assert term.flow is not None and term.run_id is not None
        keys = self.reader.run_id_locations(term.run_id, MAX_MATCHES, term.flow)
        if term.step is None or term.task_id is None:
            return [Match("run", key) for key in keys]
        return [
            Match("task", key, term.step, term.task_id)
            for key in keys
            if self.reader.task(key, term.step, term.task_id) is not None
        ]
