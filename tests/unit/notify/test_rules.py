"""Routing rules from a file or SSM: clear errors naming the rule and field, TTL re-reads, safe fallbacks."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from runwatch.domain.notification_policy import RoutingRules
from runwatch.notify.rules import RulesError, RulesSource, load_rules_file, parse_rules, ssm_rules

GOOD = {
    "rules": [{"name": "ml", "match": {"project": "churn", "types": ["run.failed"]}, "channels": ["slack"]}]
}


def test_json_and_yaml_files_load(tmp_path: Path) -> None:
    (tmp_path / "rules.json").write_text(json.dumps(GOOD))
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - name: ml\n    match: {project: churn, types: [run.failed]}\n    channels: [slack]\n"
    )

    assert load_rules_file(tmp_path / "rules.json") == load_rules_file(tmp_path / "rules.yaml")
    assert load_rules_file(tmp_path / "rules.json").rules[0].channels == ["slack"]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            {"rules": [GOOD["rules"][0], {"match": {"types": ["run.fial"]}, "channels": ["slack"]}]},
            "rule 1, match.types[0]: unknown notification type 'run.fial'",
        ),
        ({"rules": [{"channels": ["email"]}]}, "rule 0, channels[0]: unknown channel 'email'"),
        (
            {"rules": [{"match": {"failure_classes": "oops"}, "channels": []}]},
            "rule 0, match.failure_classes[0]",
        ),
        (
            {"rules": [{"match": {"flwo": "X"}, "channels": []}]},
            "rule 0, match.flwo: Extra inputs are not permitted",
        ),
        ({"rules": [{"match": {}}]}, "rule 0, channels: Field required"),
        ({"rule": []}, "rule: Extra inputs are not permitted"),
        ({"rules": [{"channels": ["slack"], "stop": "maybe"}]}, "rule 0, stop:"),
        (["not a rule"], "rule 0: Input should be an object, got 'not a rule'"),
        ({"rules": {"channels": ["slack"]}}, "rules: Input should be a valid list"),
        (
            {"rules": [{"channels": ["email", "fax"]}]},
            "rule 0, channels[0]: unknown channel 'email' (known: slack, webhook, sns); rule 0, channels[1]",
        ),
    ],
)
def test_errors_name_the_rule_and_field(tmp_path: Path, rules: object, message: str) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))

    with pytest.raises(RulesError) as error:
        load_rules_file(path)

    assert f"invalid notification rules in {path}" in str(error.value)
    assert message in str(error.value)


def test_syntax_errors_and_missing_files_are_clear(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{rules: ")
    (tmp_path / "bad.yaml").write_text("rules: [\n")

    with pytest.raises(RulesError, match=r"bad.json: not valid JSON"):
        load_rules_file(tmp_path / "bad.json")
    with pytest.raises(RulesError, match=r"bad.yaml: not valid YAML"):
        load_rules_file(tmp_path / "bad.yaml")
    with pytest.raises(RulesError, match=r"cannot read notification rules file .*missing.json"):
        load_rules_file(tmp_path / "missing.json")


def test_an_empty_file_and_a_bare_list_are_accepted() -> None:
    assert parse_rules("", "rules.yaml") == RoutingRules()
    assert (
        parse_rules('{"rules": [{"match": {"types": null}, "channels": "sns"}]}', "r.json")
        .rules[0]
        .match.types
        is None
    )
    assert parse_rules(json.dumps(GOOD["rules"]), "rules.json") == parse_rules(json.dumps(GOOD), "rules.json")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@mock_aws
def test_ssm_rules_are_cached_for_the_ttl_and_a_bad_value_keeps_the_last_good() -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    name = "/runwatch/dev/notify-rules"
    ssm.put_parameter(Name=name, Value=json.dumps(GOOD), Type="String")
    cached = RulesSource(ssm_rules(ssm, name, ttl=3600))
    clock = _Clock()
    uncached = RulesSource(ssm_rules(ssm, name, ttl=0), retry_after=60, clock=clock)

    first = cached()
    assert first.rules[0].name == "ml" and uncached() == first

    ssm.put_parameter(Name=name, Value='{"rules": [{"channels": ["pager"]}]}', Overwrite=True)
    assert cached() is first, "cached within the TTL"
    assert uncached() == first, "an invalid value keeps the last good rules"

    ssm.put_parameter(Name=name, Value='{"rules": []}', Overwrite=True)
    assert uncached() == first, "after a failure the parameter is asked again only after retry_after"
    clock.now = 61
    assert uncached() == RoutingRules()


@mock_aws
def test_a_bad_value_is_parsed_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/bad", Value="{not json", Type="String")
    clock = _Clock()
    source = RulesSource(ssm_rules(ssm, "/bad", ttl=0), retry_after=0, clock=clock)

    with caplog.at_level("ERROR"):
        for _ in range(3):
            assert source() == RoutingRules()
    assert len([r for r in caplog.records if "notification rules unusable" in r.getMessage()]) == 1


@mock_aws
def test_a_missing_or_invalid_parameter_without_good_rules_means_the_defaults() -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")

    assert RulesSource(ssm_rules(ssm, "/nope"))() == RoutingRules()
    ssm.put_parameter(Name="/bad", Value="{not json", Type="String")
    with pytest.raises(RulesError, match="SSM parameter /bad: not valid JSON"):
        ssm_rules(ssm, "/bad")()
    assert RulesSource(ssm_rules(ssm, "/bad"))() == RoutingRules()
