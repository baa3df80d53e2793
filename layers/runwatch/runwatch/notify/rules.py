"""Loading routing rules: a JSON or YAML file locally, an SSM parameter in AWS (re-read after a TTL).

Errors name the source, the rule index and the field (`rule 2, match.types[0]: unknown notification type
'run.fial'`). A file is checked when the notifier starts; a bad SSM value keeps the last good rules (or the
defaults) and logs the error, because a typo must not silence failure notifications.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runwatch.domain.notification_policy import RoutingRules
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


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{_location(tuple(item['loc']))}: {message}")
    return "; ".join(problems)


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
        return RoutingRules.model_validate(data)
    except ValidationError as error:
        raise RulesError(f"invalid notification rules in {source}: {_describe(error)}") from None


def load_rules_file(path: str | Path) -> RoutingRules:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesError(f"cannot read notification rules file {path}: {error.strerror or error}") from None
    return parse_rules(text, str(path))


class RulesSource:
    """The current rules: loaded on first use, then again every `ttl` seconds.

    A failed reload keeps the rules that were working; with none yet, the defaults apply.
    """

    def __init__(
        self,
        load: Callable[[], RoutingRules],
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self.ttl = ttl
        self.clock = clock
        self._rules: RoutingRules | None = None
        self._loaded_at = 0.0

    def __call__(self) -> RoutingRules:
        now = self.clock()
        if self._rules is None or now - self._loaded_at >= self.ttl:
            try:
                self._rules = self._load()
            except RulesError as error:
                logger.error(
                    "notification rules unusable",
                    error=str(error),
                    keeping="last good" if self._rules else "defaults",
                )
                self._rules = self._rules or RoutingRules()
            self._loaded_at = now
        return self._rules

    @classmethod
    def fixed(cls, rules: RoutingRules) -> RulesSource:
        return cls(lambda: rules, ttl=float("inf"))


def ssm_rules(client: Any, name: str) -> Callable[[], RoutingRules]:
    """A loader for the rules in SSM parameter `name`; a missing parameter means the defaults."""

    def load() -> RoutingRules:
        try:
            answer = client.get_parameter(Name=name)
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code") or type(error).__name__
            if code == "ParameterNotFound":
                return RoutingRules()
            raise RulesError(f"cannot read SSM parameter {name} ({code})") from None
        return parse_rules(str(answer["Parameter"].get("Value") or ""), f"SSM parameter {name}")

    return load
