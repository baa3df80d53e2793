"""Reading decoded JSON into typed values, and naming every field that is wrong, by where it is.

Events come from AWS and from people (replays, redrives, hand-made test events), routing rules from operators: a
malformed one must be rejected with a reason a person can act on (`detail.createdAt: Input should be a valid
integer, got 'yesterday'`), never half applied. A `Fields` reads one JSON object; the objects inside it share its
list of problems, so one pass finds them all and `check()` raises them together. Plain Python rather than a
validation library: ingest, the sweeper and the notifier read these, and their cold start pays for every import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

Location = tuple[str | int, ...]
Problem = tuple[Location, str]
_MAX_PROBLEMS_SHOWN = 3
_SHOWN_VALUE_CHARS = 40
_MISSING: Any = object()


class InvalidFields(ValueError):
    """What is wrong with a JSON object: each problem's location (`detail.attempts.0.startedAt`) and rule."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.describe())

    def describe(self, limit: int = _MAX_PROBLEMS_SHOWN) -> str:
        shown = [
            f"{'.'.join(str(p) for p in where) or 'event'}: {rule}" for where, rule in self.problems[:limit]
        ]
        more = len(self.problems) - limit
        return "; ".join(shown) + (f" (+{more} more)" if more > 0 else "")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_VALUE_CHARS else text[: _SHOWN_VALUE_CHARS - 3] + "..."


def _whole(value: object) -> int | None:
    """An integer, also when sent as an integral float or a numeric string; None when it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _number(value: object) -> float | None:
    """A number, also when sent as a numeric string; None when it is none."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


class Fields:
    """One JSON object being read. Required readers give a placeholder when the field is wrong: the caller
    builds its value, then `check()` raises InvalidFields before anything uses it."""

    __slots__ = ("_data", "_problems", "_quiet", "_where")

    def __init__(self, data: object, where: Location = (), problems: list[Problem] | None = None) -> None:
        self._where = where
        self._problems: list[Problem] = [] if problems is None else problems
        self._data: dict[str, Any] = data if isinstance(data, dict) else {}
        self._quiet = False
        if not isinstance(data, dict):
            self._problems.append((where, f"Input should be an object, got {_shown(data)}"))
            self._quiet = True  # the fields of what is not an object are not wrong a second time

    def check(self) -> None:
        """Raise InvalidFields naming every problem found so far, in this object and those inside it."""
        if self._problems:
            raise InvalidFields(self._problems)

    def problem(self, rule: str, *path: str | int) -> None:
        """Note what is wrong at `path` inside this object (its own place when `path` is empty)."""
        if not self._quiet:
            self._problems.append(((*self._where, *path), rule))

    def has(self, name: str) -> bool:
        """Whether the field is given (null counts as not given)."""
        return self._data.get(name) is not None

    def _get(self, name: str) -> Any:
        """The value, or _MISSING when absent or null (a null optional field is an absent one)."""
        value = self._data.get(name)
        return _MISSING if value is None else value

    def text(self, name: str, *, min_length: int = 0, pattern: re.Pattern[str] | None = None) -> str:
        value = self._data.get(name, _MISSING)
        if value is _MISSING:
            self.problem("Field required", name)
        elif not isinstance(value, str):
            self.problem(f"Input should be a valid string, got {_shown(value)}", name)
        elif len(value) < min_length:
            self.problem(f"String should have at least {min_length} character{'s' * (min_length > 1)}", name)
        elif pattern is not None and not pattern.search(value):
            self.problem(f"String should match pattern '{pattern.pattern}', got {_shown(value)}", name)
        else:
            return value
        return ""

    def choice[T](self, name: str, choices: tuple[T, ...]) -> T:
        """One of `choices` (strings); the first of them as the placeholder when it is not."""
        value = self._data.get(name, _MISSING)
        if value is _MISSING:
            self.problem("Field required", name)
        elif value in choices:
            return value  # type: ignore[no-any-return]
        else:
            expected = ", ".join(f"'{c}'" for c in choices[:-1]) + f" or '{choices[-1]}'"
            self.problem(f"Input should be {expected}, got {_shown(value)}", name)
        return choices[0]

    def time(self, name: str) -> datetime:
        """An ISO 8601 date and time (EventBridge's `time`)."""
        value = self._data.get(name, _MISSING)
        if value is _MISSING:
            self.problem("Field required", name)
            return datetime.min
        try:
            return datetime.fromisoformat(value)
        except (TypeError, ValueError):
            self.problem(f"Input should be a valid datetime, got {_shown(value)}", name)
            return datetime.min

    def optional_text(self, name: str) -> str | None:
        value = self._get(name)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.problem(f"Input should be a valid string, got {_shown(value)}", name)
            return None
        return value

    def optional_whole(self, name: str, *, minimum: int | None = None) -> int | None:
        value = self._get(name)
        if value is _MISSING:
            return None
        number = _whole(value)
        if number is None:
            self.problem(f"Input should be a valid integer, got {_shown(value)}", name)
        elif minimum is not None and number < minimum:
            self.problem(f"Input should be greater than or equal to {minimum}, got {number}", name)
            return None
        return number

    def optional_number(self, name: str) -> float | None:
        value = self._get(name)
        if value is _MISSING:
            return None
        number = _number(value)
        if number is None:
            self.problem(f"Input should be a valid number, got {_shown(value)}", name)
        return number

    def flag(self, name: str, default: bool) -> bool:
        found = self.optional_flag(name)
        return default if found is None else found

    def optional_flag(self, name: str) -> bool | None:
        value = self._get(name)
        if value is _MISSING or isinstance(value, bool):
            return None if value is _MISSING else value
        self.problem(f"Input should be a valid boolean, got {_shown(value)}", name)
        return None

    def optional_mapping(self, name: str) -> dict[str, Any] | None:
        """A JSON object kept as it is (its fields are read elsewhere, if at all)."""
        value = self._get(name)
        if value is _MISSING or isinstance(value, dict):
            return None if value is _MISSING else value
        self.problem(f"Input should be an object, got {_shown(value)}", name)
        return None

    def _list(self, name: str, required: bool) -> list[Any]:
        value = self._get(name)
        if value is _MISSING:
            if required:
                self.problem("Field required", name)
            return []
        if not isinstance(value, list):
            self.problem(f"Input should be a valid list, got {_shown(value)}", name)
            return []
        return value

    def only(self, *names: str) -> None:
        """Every other field of this object is a problem (a misspelt one must not be ignored)."""
        for name in self._data:
            if name not in names:
                self.problem("Extra inputs are not permitted", name)

    def texts(self, name: str, *, required: bool = False, one_or_many: bool = False) -> list[str]:
        """A list of strings (or one string, read as a list of it); empty when absent and not required."""
        if one_or_many and isinstance(self._data.get(name), str):
            return [self._data[name]]
        found: list[str] = []
        for index, value in enumerate(self._list(name, required)):
            if isinstance(value, str):
                found.append(value)
            else:
                self.problem(f"Input should be a valid string, got {_shown(value)}", name, index)
        return found

    def text_map(self, name: str) -> dict[str, str]:
        """An object of strings (Batch's `parameters`, `tags`); empty when absent."""
        value = self.optional_mapping(name) or {}
        for key, item in value.items():
            if not isinstance(item, str):
                self.problem(f"Input should be a valid string, got {_shown(item)}", name, key)
                return {}
        return value

    def pairs(self, name: str, key: str = "name", value: str = "value") -> list[tuple[str, str | None]]:
        """A list of `{"name": ..., "value": ...}` objects (how AWS writes a job's environment) as pairs; a
        Batch job carries dozens, so well-formed items are read without a Fields each."""
        found: list[tuple[str, str | None]] = []
        for index, item in enumerate(self._list(name, False)):
            if isinstance(item, dict):
                text, given = item.get(key), item.get(value)
                if isinstance(text, str) and (given is None or isinstance(given, str)):
                    found.append((text, given))
                    continue
            inner = Fields(item, (*self._where, name, index), self._problems)
            found.append((inner.text(key), inner.optional_text(value)))
        return found

    def inner(self, name: str) -> Fields:
        """An object inside this one: required (a missing one is a problem, its own fields are not)."""
        if name not in self._data:
            self.problem("Field required", name)
            return Fields({})
        return Fields(self._data[name], (*self._where, name), self._problems)

    def optional_inner(self, name: str) -> Fields | None:
        value = self._get(name)
        return None if value is _MISSING else Fields(value, (*self._where, name), self._problems)

    def inner_list(self, name: str) -> list[Fields]:
        """A list of objects; empty when absent."""
        return [
            Fields(v, (*self._where, name, i), self._problems) for i, v in enumerate(self._list(name, False))
        ]


def read_object[T](data: object, read: Callable[[Fields], T]) -> T:
    """`read` applied to one JSON object; raises InvalidFields naming every problem it found."""
    fields = Fields(data)
    value = read(fields)
    fields.check()
    return value
