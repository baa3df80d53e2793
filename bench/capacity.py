"""Consumed capacity, as DynamoDB bills it: every request a botocore client makes asks for it and it is summed.

DynamoDB Local reports the capacity units of each request (`ReturnConsumedCapacity=INDEXES`: the table's and
each index's) as DynamoDB does, so the bench can state write and read units per event instead of requests.
A conditional write whose condition fails is billed too but its error carries no capacity: it is counted
apart, at one write unit each (a lower bound: it is billed at the size of the item it compared against).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_FAILED_CONDITION = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})


@dataclass
class CapacityMeter:
    """Write and read units per table and index ("<table>" or "<table>/<index>"), and failed conditions."""

    write_units: Counter[str] = field(default_factory=Counter)
    read_units: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    write_units_by_operation: Counter[str] = field(default_factory=Counter)
    failed_conditional_writes: int = 0

    def attach(self, client: Any) -> None:
        """Meter every later request of a botocore DynamoDB client."""
        client.meta.events.register("provide-client-params.dynamodb.*", self._ask)
        client.meta.events.register("after-call.dynamodb.*", self._add)

    @property
    def total_write_units(self) -> float:
        return sum(self.write_units.values()) + self.failed_conditional_writes

    @property
    def total_read_units(self) -> float:
        return sum(self.read_units.values())

    def _ask(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in READS or model.name in WRITES:
            params["ReturnConsumedCapacity"] = "INDEXES"

    def _add(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation not in READS and operation not in WRITES:
            return
        self.requests[operation] += 1
        if parsed.get("Error", {}).get("Code") in _FAILED_CONDITION and operation in WRITES:
            self.failed_conditional_writes += 1
            return
        consumed = parsed.get("ConsumedCapacity") or []
        units = self.write_units if operation in WRITES else self.read_units
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            _add_entry(units, entry)
            if operation in WRITES:
                self.write_units_by_operation[operation] += float(entry.get("CapacityUnits", 0.0))


def _add_entry(units: Counter[str], entry: dict[str, Any]) -> None:
    """One ConsumedCapacity: the table's units and each index's, or only the total when no split is given."""
    table = entry.get("TableName", "?")
    parts = {table: entry.get("Table", {}).get("CapacityUnits")}
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for index, capacity in (entry.get(kind) or {}).items():
            parts[f"{table}/{index}"] = capacity.get("CapacityUnits")
    if all(value is None for value in parts.values()):
        units[table] += float(entry.get("CapacityUnits", 0.0))
        return
    for name, value in parts.items():
        units[name] += float(value or 0.0)
