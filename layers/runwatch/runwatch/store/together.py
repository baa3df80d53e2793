"""DynamoDB requests that do not wait on each other's answers, sent at the same time.

A run's detail reads a page of task keys per step, then the tasks of all those pages: each request is a round
trip spent mostly waiting on DynamoDB, so the requests of one round go out together from a few threads and
the round takes about as long as its slowest request instead of their sum.

The table's one botocore client (wiring.bind_table) is safe to share between threads. PynamoDB makes it at
its first request from the session of the thread asking, so it is made here, on the calling thread, before
any other thread sends: every request then goes through the session the store configured (store/raw_reads.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from runwatch.store.models import TableItem

# Requests in flight besides the calling thread's; with it, within the client's pool of 10 connections.
MAX_THREADS = 8

_pool: ThreadPoolExecutor | None = None


def all_together[T](calls: Sequence[Callable[[], T]]) -> list[T]:
    """Each call's result, in the calls' order. The first call runs on the calling thread, the others on the
    pool's threads at the same time; the first error any of them raised is raised here."""
    if len(calls) <= 1:
        return [call() for call in calls]
    _ = TableItem._get_connection().connection.client  # made on this thread: see the module's docstring
    futures = [_threads().submit(call) for call in calls[1:]]
    first = calls[0]()
    return [first, *(future.result() for future in futures)]


def _threads() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="dynamodb")
    return _pool
