"""DynamoDB's errors as the store's two outcomes: a lost race (Conflict and its kinds) or an unavailable store.

Apart from the repository so that every store module (the repository, the keyed reads it uses, the queries)
maps errors the same way without importing one another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from runwatch.store.versioned import Versioned

CONDITIONAL_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
SERVER_ERROR = "InternalServerError"
# Cancellation reasons that mean "someone else got there first": re-read and join again.
_LOST_RACE = {"ConditionalCheckFailed", "TransactionConflict", "None", None}


class Conflict(Exception):
    """A conditional write found the item changed since it was read."""


class StaleItems(Conflict):
    """A write of several tasks lost a race on some of them: `stale` holds their positions in the write, and
    `found` those of them as stored now, when the failure sent them back (the others must be read)."""

    def __init__(
        self, message: str, stale: frozenset[int], found: Mapping[int, Versioned] | None = None
    ) -> None:
        super().__init__(message)
        self.stale = stale
        self.found: Mapping[int, Versioned] = found or {}


class StepBusy(Conflict):
    """A task transaction lost on its step's summary item alone: another transaction held it, or another
    writer widened its bounds further. Writing again with `spread` sends the change to a shard."""


class StoreUnavailable(Exception):
    """DynamoDB could not serve the request (throttled, unreachable, failing)."""


class OutcomeUnknown(StoreUnavailable):
    """A transaction ended in a server error (after the client's own retries): it may or may not have been
    applied. Its task writes are conditional on their versions, so re-reading them and writing again is
    exact either way; callers that cannot, treat it as unavailable."""


def guarded[R](call: Callable[[], R]) -> R:
    """Run one DynamoDB call, mapping its errors to Conflict / StoreUnavailable."""
    try:
        return call()
    except TransactWriteError as exc:
        codes = {getattr(reason, "code", None) for reason in exc.cancellation_reasons}
        if exc.cause_response_code == TRANSACTION_CANCELED and codes <= _LOST_RACE:
            raise Conflict(str(exc)) from None
        if exc.cause_response_code == SERVER_ERROR:
            raise OutcomeUnknown(f"TransactWriteError: {SERVER_ERROR}") from exc
        raise StoreUnavailable(f"TransactWriteError: {exc.cause_response_code or exc}") from exc
    except PynamoDBException as exc:
        if getattr(exc, "cause_response_code", None) == CONDITIONAL_FAILED:
            raise Conflict(str(exc)) from None
        raise StoreUnavailable(
            f"{type(exc).__name__}: {getattr(exc, 'cause_response_code', None) or exc}"
        ) from exc
