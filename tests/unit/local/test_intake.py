"""POST /events bodies through the intake: counts, rejected events to the dead-letter file, bad bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runwatch.events.envelope import RejectedEvent
from runwatch.store.repository import StoreUnavailable
from runwatch_dev.local.dead_letters import FileDeadLetters
from runwatch_dev.local.intake import BadBody, EventIntake, IntakeInterrupted


class ScriptedIngestor:
    """Answers each event by its "outcome" field: an ingest outcome, or the name of an error to raise."""

    def ingest(self, raw: str | bytes | dict[str, Any]) -> str:
        assert isinstance(raw, dict)
        outcome = str(raw["outcome"])
        if outcome == "rejected":
            raise RejectedEvent(f"bad event {raw['n']}")
        if outcome == "down":
            raise StoreUnavailable("DynamoDB is down")
        if outcome == "bug":
            raise KeyError("oops")
        return outcome


def _intake(tmp_path: Path) -> tuple[EventIntake, FileDeadLetters]:
    letters = FileDeadLetters(
        tmp_path / "dead-letters.jsonl", clock=lambda: datetime(2026, 11, 26, tzinfo=UTC)
    )
    return EventIntake(ScriptedIngestor(), letters), letters


def _body(*outcomes: str) -> bytes:
    return json.dumps([{"n": n, "outcome": outcome} for n, outcome in enumerate(outcomes)]).encode()


def test_outcomes_are_counted_and_rejections_are_dead_lettered(tmp_path: Path) -> None:
    intake, letters = _intake(tmp_path)

    report = intake.post(_body("applied", "duplicate", "parked", "ignored", "rejected", "bug"))

    assert report.as_dict() == {
        "accepted": 3,
        "ignored": 1,
        "rejected": 2,
        "errors": [
            {"index": 4, "reason": "bad event 4"},
            {"index": 5, "reason": "unexpected error: KeyError"},
        ],
    }
    assert letters.read() == [
        {
            "rejected_at": "2026-11-26T00:00:00.000Z",
            "reason": "bad event 4",
            "body": '{"n": 4, "outcome": "rejected"}',
        },
        {
            "rejected_at": "2026-11-26T00:00:00.000Z",
            "reason": "unexpected error: KeyError",
            "body": '{"n": 5, "outcome": "bug"}',
        },
    ]


def test_one_event_is_a_batch_of_one(tmp_path: Path) -> None:
    intake, _ = _intake(tmp_path)
    assert intake.post(b'{"n": 0, "outcome": "applied"}').accepted == 1


@pytest.mark.parametrize("body", [b"{nope", b"\xff\xfe", b'"text"', b"12", b"null"])
def test_a_body_that_is_not_events_is_refused(tmp_path: Path, body: bytes) -> None:
    intake, letters = _intake(tmp_path)
    with pytest.raises(BadBody):
        intake.post(body)
    assert letters.read() == []


def test_an_unavailable_store_stops_the_request_and_says_how_far_it_got(tmp_path: Path) -> None:
    intake, letters = _intake(tmp_path)

    with pytest.raises(IntakeInterrupted) as interrupted:
        intake.post(_body("applied", "ignored", "down", "applied"))

    assert interrupted.value.report.total == 2
    assert letters.read() == []  # not dead-lettered: it may pass, so the caller resends
