"""How one environment variable's text becomes a setting's value, or a message naming the variable.

Each reader is called with the variable's name and its (stripped, non-empty) text and raises ValueError with
the message a person sees at start: the variable, the rule and the value seen. Plain functions rather than a
validation library: every function reads its settings at cold start, and these cost nothing to import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runwatch.domain.lateness import Deadline, parse_deadlines

Reader = Callable[[str, str], Any]
VARIABLE = "runwatch.variable"


@dataclass(frozen=True, slots=True)
class Variable:
    """Where a setting is read (the first of `names` that is set) and how its text is read."""

    names: tuple[str, ...]
    read: Reader


def env(*names: str, read: Reader | None = None) -> Mapping[str, Variable]:
    """A settings field's metadata: the variables it reads, first found wins (plain text by default)."""
    return {VARIABLE: Variable(names, read or text)}


def text(name: str, value: str) -> str:
    return value


def _bound(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True, slots=True)
class Whole:
    """A whole number within optional bounds."""

    minimum: int | None = None
    maximum: int | None = None

    def __call__(self, name: str, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{name} must be a whole number, got {value!r}") from None
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"{name} must be at least {_bound(self.minimum)}, got {value}")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"{name} must be at most {_bound(self.maximum)}, got {value}")
        return number


@dataclass(frozen=True, slots=True)
class Number:
    """A number, at least `minimum` or more than `above` when given."""

    minimum: float | None = None
    above: float | None = None

    def __call__(self, name: str, value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{name} must be a number, got {value!r}") from None
        if self.minimum is not None and not number >= self.minimum:
            raise ValueError(f"{name} must be at least {_bound(self.minimum)}, got {value}")
        if self.above is not None and not number > self.above:
            raise ValueError(f"{name} must be more than {_bound(self.above)}, got {value}")
        return number


@dataclass(frozen=True, slots=True)
class OneOf:
    """One of a few words, in any case."""

    choices: tuple[str, ...]

    def __call__(self, name: str, value: str) -> str:
        if value.lower() not in self.choices:
            raise ValueError(f"{name} must be one of {', '.join(self.choices)}, got {value!r}")
        return value.lower()


@dataclass(frozen=True, slots=True)
class Matching:
    """Text that matches a regular expression as a whole."""

    pattern: str
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.pattern))

    def __call__(self, name: str, value: str) -> str:
        if not self._compiled.fullmatch(value):
            raise ValueError(f"{name} must match {self.pattern}, got {value!r}")
        return value


def web_address(name: str, value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def deadlines(name: str, value: str) -> dict[str, Deadline]:
    """`{"ScoringFlow": "06:00"}`; parse_deadlines' messages already name DEADLINES."""
    try:
        return parse_deadlines(value)
    except ValueError as exc:
        reason = str(exc)
        raise ValueError(reason if reason.startswith(name) else f"{name}: {reason}") from None
