"""A marker: the record that something was done once (a notification sent, an alert raised).

Markers are claimed with a conditional write, so whoever creates one first does the thing; the notifier reads
alert markers from the table's stream. `kind` groups markers (`notify`, `alert`), `subject` is what they are
about (a run), `what` names the one thing done; times are epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Marker:
    kind: str
    subject: str
    what: str
    created_at: int
    detail: str | None = None
