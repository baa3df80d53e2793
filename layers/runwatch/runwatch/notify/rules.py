"""Loading routing rules: a JSON or YAML file locally, an SSM parameter in AWS (re-read after a TTL).

Errors name the source, the rule index and the field (`rule 2, match.types[0]: unknown notification type
'run.fial'`). A file is checked when the notifier starts; a bad SSM value keeps the last good rules (or the
defaults) and logs the error once, because a typo must not silence failure notifications. The SSM value is
read and kept for a TTL (notify/cached_read.py) and parsed again only when it changed; after a failed read
the parameter is asked again only once `retry_after` seconds passed. Its client is made at the first read:
not in the notifier's cold start.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runwatch.domain.notification_policy import RoutingRules
from runwatch.json_fields import InvalidFields
from runwatch.notify.cached_read import ReadFailed, ssm_parameter
from runwatch.observability import logger


class RulesError(ValueError):
    """The rules cannot be used; the message says where and why."""


def _location(loc: tuple[int | str, ...]) -> str:
    parts = list(loc)
    where = ""
    if len(parts) >= 2 and parts[0] == "rules" and isinstance(parts[1], int):
        where = f"rule {parts[1]}"
        parts = parts[2:]
    field = ""
    for part in parts:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return ", ".join(p for p in (where, field) if p) or "top level"


def _describe(error: InvalidFields) -> str:
    return "; ".join(f"{_location(where)}: {rule}" for where, rule in error.problems)


def parse_rules(text: str, source: str) -> RoutingRules:
    """Rules from JSON, or YAML when the source is a .yaml/.yml file."""
    data: Any
    try:
        if source.endswith((".yaml", ".yml")):
            import yaml  # only the local stack reads YAML; the Lambda layer does not ship it

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except ImportError:
        raise RulesError(
            f"{source}: YAML rules need PyYAML (pip install pyyaml), or write them as JSON"
        ) from None
    except Exception as error:  # json.JSONDecodeError, yaml.YAMLError
        raise RulesError(
            f"{source}: not valid {'YAML' if source.endswith(('.yaml', '.yml')) else 'JSON'}: {error}"
        ) from None
    if data is None:
        data = {}
    if isinstance(data, list):
        data = {"rules": data}  # a bare list of rules is accepted too
    try:
        return RoutingRules.from_json(data)
    except InvalidFields as error:
        raise RulesError(f"invalid notification rules in {source}: {_describe(error)}") from None


def load_rules_file(path: str | Path) -> RoutingRules:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesError(f"cannot read notification rules file {path}: {error.strerror or error}") from None
    return parse_rules(text, str(path))


class RulesSource:
    """The current rules from a loader that caches on its own (ssm_rules: notify/cached_read.py).

    A failed load keeps the rules that were working (with none yet, the defaults), is logged once per
    distinct error, and is retried only after `retry_after` seconds.
    """

    def __init__(
        self,
        load: Callable[[], RoutingRules],
        retry_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self.retry_after = retry_after
        self.clock = clock
        self._rules: RoutingRules | None = None
        self._failed_at: float | None = None
        self._last_error: str | None = None

    def __call__(self) -> RoutingRules:
        now = self.clock()
        if (
            self._rules is not None
            and self._failed_at is not None
            and now - self._failed_at < self.retry_after
        ):
            return self._rules
        try:
            self._rules = self._load()
        except RulesError as error:
            if str(error) != self._last_error:
                logger.error(
                    "notification rules unusable",
                    error=str(error),
                    keeping="last good" if self._rules else "defaults",
                )
            self._last_error, self._failed_at = str(error), now
            self._rules = self._rules or RoutingRules()
            return self._rules
        self._last_error = self._failed_at = None
        return self._rules

    @classmethod
    def fixed(cls, rules: RoutingRules) -> RulesSource:
        return cls(lambda: rules)


def ssm_rules(client: Any, name: str, ttl: float = 60.0) -> Callable[[], RoutingRules]:
    """A loader for the rules in SSM parameter `name`, cached `ttl` seconds; a missing parameter means the
    defaults. A bad value raises RulesError, parsed once per distinct value."""
    parameter = ssm_parameter(client, name, ttl)
    parsed: dict[str, RoutingRules | RulesError] = {}

    def load() -> RoutingRules:
        try:
            text = parameter.get()
        except ReadFailed as error:
            if error.code == "ParameterNotFound":
                return RoutingRules()
            raise RulesError(f"cannot read SSM parameter {name} ({error.code})") from None
        if text not in parsed:
            parsed.clear()
            try:
                parsed[text] = parse_rules(text, f"SSM parameter {name}")
            except RulesError as error:
                parsed[text] = error
        result = parsed[text]
        if isinstance(result, RulesError):
            raise result
        return result

    return load
