"""Consumers applying one queue's events at once, each in its own thread, as warm Lambda containers would.

Shared by the fan-out benchmark and the integration test of step summary shards, so both drive ingest the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from runwatch.services.ingest import Ingestor


def apply_concurrently(
    consumers: Sequence[Ingestor], delivered: list[str], batch_size: int
) -> list[Exception]:
    """Each consumer takes the next `batch_size` events off `delivered` (as pollers take batches off one queue) and
    applies them as one batch, until none are left. Returns the errors of the failed and rejected records: SQS would
    redeliver those, then dead-letter them."""
    lock = threading.Lock()
    failed: list[Exception] = []

    def consume(ingestor: Ingestor) -> None:
        while True:
            with lock:
                batch = [delivered.pop() for _ in range(min(batch_size, len(delivered)))]
            if not batch:
                return
            result = ingestor.ingest_batch([(str(i), event) for i, event in enumerate(batch)])
            with lock:
                failed.extend([*result.failed.values(), *result.rejected.values()])

    threads = [threading.Thread(target=consume, args=(consumer,)) for consumer in consumers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failed
