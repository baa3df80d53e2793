"""Items taken from a read's body as sent equal what botocore's parser makes of them, and a BatchGetItem's
body sent as given equals what its serializer makes; other bodies and parameters are left to botocore."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from runwatch.store.raw_reads import hold_keys, register, send_keys, take_items

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


BATCH: dict[str, Any] = {
    "RequestItems": {
        "t": {
            "Keys": [{"pk": ITEM["pk"], "sk": {"S": f"TASK#train#{n}"}} for n in range(3)],
            "ConsistentRead": False,
        }
    },
    "ReturnConsumedCapacity": "TOTAL",
}


def _serialized(params: dict[str, Any], hook: bool) -> dict[str, Any]:
    """The request botocore's serializer makes of a BatchGetItem, with or without hold_keys and send_keys."""
    model = _MODEL.operation_model("BatchGetItem")
    serializer = create_serializer("json")
    if not hook:
        return serializer.serialize_to_request(params, model)
    context: dict[str, Any] = {}
    held = hold_keys(params=params, context=context)
    request = serializer.serialize_to_request(params if held is None else held, model)
    send_keys(params=request, context=context)
    assert not context  # the body is handed over once
    return request


def test_a_batch_get_request_is_the_one_botocore_serializes() -> None:
    assert _serialized(BATCH, hook=True) == _serialized(BATCH, hook=False)
    assert json.loads(_serialized(BATCH, hook=True)["body"]) == BATCH


def test_botocore_serializes_the_tables_with_one_key_each() -> None:
    context: dict[str, Any] = {}
    held = hold_keys(params=BATCH, context=context)
    first = BATCH["RequestItems"]["t"]["Keys"][0]
    assert held == {**BATCH, "RequestItems": {"t": {"Keys": [first], "ConsistentRead": False}}}
    assert BATCH["RequestItems"]["t"]["Keys"]  # the caller's parameters are left as they were


def test_a_binary_key_is_left_to_botocore_which_encodes_it() -> None:
    params = {"RequestItems": {"t": {"Keys": [{"pk": {"B": b"hello"}, "sk": {"S": "x"}}]}}}
    context: dict[str, Any] = {}
    assert hold_keys(params=params, context=context) is None
    assert not context
    assert json.loads(_serialized(params, hook=True)["body"])["RequestItems"]["t"]["Keys"][0]["pk"] == {
        "B": "aGVsbG8="
    }


def test_a_client_sends_the_keys_it_was_given() -> None:
    """Through a real client: the events fire around botocore's serializer and before signing."""
    session = botocore.session.get_session()
    register(session)
    client = session.create_client(
        "dynamodb",
        "us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    sent: list[bytes] = []

    def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        sent.append(request.body)
        assert "Signature=" in request.headers["Authorization"].decode()
        raw = _Raw(b'{"Responses": {"t": [{"pk": {"S": "p"}}]}, "UnprocessedKeys": {}}')
        return AWSResponse(request.url, 200, {}, raw)

    client.meta.events.register("before-send.dynamodb.BatchGetItem", answer)
    response = client.batch_get_item(**BATCH)
    assert [json.loads(body) for body in sent] == [BATCH]
    assert response["Responses"] == {"t": [{"pk": {"S": "p"}}]}


class _Raw:
    """The raw body of an answer made up in the test (botocore reads it as a stream)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body
