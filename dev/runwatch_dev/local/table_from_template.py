"""Create the status table on DynamoDB Local exactly as template.yaml declares it.

template.yaml is the single description of the table (keys, indexes, stream, TTL); tests and the local
stack build their tables from it instead of repeating it, so the two cannot drift apart. Properties
that only exist in AWS (PITR, SSE, deletion protection, tags) are ignored.

Needs PyYAML, a development dependency: this module is for the local stack and tests, never Lambda.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
from typing import Any

import yaml

from runwatch_dev.local.dynamodb_local import REPO_ROOT

DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
TABLE_LOGICAL_ID = "StatusTable"


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short tags (!Ref, !Sub, !GetAtt, !If, ...) as plain data."""


def _construct_short_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    # !Ref X -> {"Ref": X}; !GetAtt A.B -> {"Fn::GetAtt": ["A", "B"]}; any other !Name -> {"Fn::Name": ...}
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise yaml.constructor.ConstructorError(
            None, None, f"unexpected node for !{tag_suffix}", node.start_mark
        )
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    if tag_suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{tag_suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_short_tag)


def load_template(template_path: str | os.PathLike[str] = DEFAULT_TEMPLATE) -> dict[str, Any]:
    """template.yaml as a dict, with short tags turned into their long ``Fn::`` form."""
    path = os.path.abspath(template_path)
    # Parsing takes tens of milliseconds and every integration test creates a table: parse once per
    # version of the file, hand out copies.
    return copy.deepcopy(_parse(path, os.stat(path).st_mtime_ns))


@functools.lru_cache(maxsize=4)
def _parse(path: str, mtime_ns: int) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        template = yaml.load(handle, Loader=_CloudFormationLoader)
    if not isinstance(template, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return template


def table_properties(
    template_path: str | os.PathLike[str] = DEFAULT_TEMPLATE, logical_id: str = TABLE_LOGICAL_ID
) -> dict[str, Any]:
    """The ``Properties`` of the table resource ``logical_id``."""
    resources = load_template(template_path).get("Resources", {})
    resource = resources.get(logical_id)
    if not resource or resource.get("Type") != "AWS::DynamoDB::Table":
        raise ValueError(f"{template_path} has no AWS::DynamoDB::Table named {logical_id}")
    properties: dict[str, Any] = resource["Properties"]
    return properties


def create_table_request(
    table_name: str, properties: dict[str, Any], *, stream: bool = True
) -> dict[str, Any]:
    """boto3 ``create_table`` arguments for CloudFormation table ``properties`` (without its stream when
    ``stream`` is false)."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        # DynamoDB Local ignores capacity; on-demand keeps the request free of throughput numbers.
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = [
        {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
        for index in properties.get("GlobalSecondaryIndexes", [])
    ]
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    specification = properties.get("StreamSpecification")
    if specification and stream:
        # CloudFormation implies StreamEnabled from the view type; the API wants it said.
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": specification["StreamViewType"],
        }
    return request


def create_table(
    client: Any,
    table_name: str,
    template_path: str | os.PathLike[str] = DEFAULT_TEMPLATE,
    *,
    logical_id: str = TABLE_LOGICAL_ID,
    stream: bool = True,
) -> None:
    """Create ``table_name`` on the endpoint of boto3 DynamoDB ``client`` from the template, wait for it
    and enable its TTL. A table that already exists is left as it is (its TTL is still switched on).

    ``stream=False`` leaves the template's stream out, for tables whose stream nobody reads (the
    benchmarks'): DynamoDB Local writes a stream record with every write, which costs about as much as the
    write itself, and its writes slow down as the records pile up in the process (bench/seed.py)."""
    properties = table_properties(template_path, logical_id)
    # Already there is fine: creating the table is idempotent by design.
    with contextlib.suppress(client.exceptions.ResourceInUseException):
        client.create_table(**create_table_request(table_name, properties, stream=stream))
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})

    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled", False) is True:
        _enable_ttl(client, table_name, ttl["AttributeName"])


def _enable_ttl(client: Any, table_name: str, attribute: str) -> None:
    current = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
    )
