"""A stored state with the version it was read at: what every conditional write of it is conditional on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Versioned:
    state: Any
    version: int
