"""The local dead-letter queue: rejected events appended to a JSON Lines file with the reason.

In AWS a rejected event goes to the ingest dead-letter queue with the reason as a message attribute
(services/ingest_queue.SqsDeadLetters); locally it goes to one line of this file, so a newcomer can see
what was refused and why, and post it again once fixed:

    {"rejected_at": "2026-11-26T19:32:05.123Z", "reason": "...", "body": "<the event as JSON text>"}
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE_NAME = "dead-letters.jsonl"


def _now() -> datetime:
    return datetime.now(tz=UTC)


class FileDeadLetters:
    """Implements the ingest consumer's DeadLetters interface (`send(body, reason)`) on a local file."""

    def __init__(self, path: str | os.PathLike[str], clock: Callable[[], datetime] = _now) -> None:
        self.path = Path(path)
        self._clock = clock
        # Request threads and the demo player reject concurrently; one line must never interleave another.
        self._lock = threading.Lock()

    def send(self, body: str, reason: str) -> None:
        line = json.dumps(
            {"rejected_at": _iso(self._clock()), "reason": reason, "body": body}, ensure_ascii=False
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def read(self) -> list[dict[str, Any]]:
        """Every dead letter so far, oldest first (for tests and tools)."""
        if not self.path.is_file():
            return []
        with self.path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
