"""Join helpers for the status lattice: merging is commutative, associative and idempotent.

That is what makes ingest correct under duplicates and any delivery order: the stored state is the join of
every observation seen, so the order they arrive in cannot change the result.
"""

from __future__ import annotations


def first_set[T: (int, float, str)](a: T | None, b: T | None) -> T | None:
    """The larger of two values where either may be unknown (a deterministic tie-break for strings)."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def earliest(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def latest(a: int | None, b: int | None) -> int | None:
    return first_set(a, b)
