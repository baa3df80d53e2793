"""Items taken from a read's body as sent equal what botocore's parser makes of them; other bodies are
left to botocore."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
from botocore.parsers import create_parser

from runwatch.store.raw_reads import take_items

_MODEL = botocore.session.get_session().get_service_model("dynamodb")

ITEM = {
    "pk": {"S": "RUN#123456789012#us-east-1#TrainFlow#17"},
    "sk": {"S": "TASK#train#3"},
    "version": {"N": "12"},
    "ratio": {"N": "1.5"},
    "quiet": {"BOOL": True},
    "gone": {"NULL": True},
    "tags": {"L": [{"S": "team:ml"}, {"N": "3"}]},
    "attempts": {"L": [{"M": {"attempt": {"N": "0"}, "status_reason": {"S": 'says "B": no'}}}]},
    "names": {"SS": ["a", "b"]},
    "sizes": {"NS": ["1", "2"]},
}


def _parse(operation: str, document: dict[str, Any], status: int = 200, hook: bool = True) -> dict[str, Any]:
    """What a client returns for this response body, with or without take_items before botocore's parse."""
    model = _MODEL.operation_model(operation)
    response = {"body": json.dumps(document).encode(), "status_code": status, "headers": {}}
    custom: dict[str, Any] = {}
    if hook:
        take_items(operation_model=model, response_dict=response, customized_response_dict=custom)
    parsed = create_parser("json").parse(response, model.output_shape)
    parsed.update(custom)
    parsed.pop("ResponseMetadata", None)
    return parsed


def test_query_items_equal_the_parsed_ones_and_the_rest_is_still_parsed() -> None:
    document = {
        "Items": [ITEM, {**ITEM, "sk": {"S": "TASK#train#4"}}],
        "Count": 2,
        "ScannedCount": 2,
        "LastEvaluatedKey": {"pk": ITEM["pk"], "sk": {"S": "TASK#train#4"}},
        "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5},
    }
    assert _parse("Query", document) == _parse("Query", document, hook=False)
    assert _parse("Query", document)["Count"] == 2


def test_get_item_and_batch_get_items_equal_the_parsed_ones() -> None:
    assert _parse("GetItem", {"Item": ITEM}) == _parse("GetItem", {"Item": ITEM}, hook=False)
    batch = {"Responses": {"t": [ITEM]}, "UnprocessedKeys": {}}
    assert _parse("BatchGetItem", batch) == _parse("BatchGetItem", batch, hook=False)


def test_a_binary_value_is_left_to_botocore_which_decodes_it() -> None:
    document = {"Items": [{**ITEM, "blob": {"B": "aGVsbG8="}}], "Count": 1, "ScannedCount": 1}
    assert _parse("Query", document)["Items"][0]["blob"] == {"B": b"hello"}


def test_an_error_body_is_left_to_botocore() -> None:
    document = {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": "no table"}
    assert _parse("Query", document, status=400) == _parse("Query", document, status=400, hook=False)
