"""DynamoDB reads skip botocore's walk through the model: items come back as DynamoDB sent them, and the keys
of a BatchGetItem go out as the store wrote them.

botocore parses a response by walking the operation's output shape: every attribute of every item is an
`AttributeValue` structure visited member by member, which made up 40 % of a 200-task run detail. For the
types runwatch stores (S, N, BOOL, NULL, L, M, SS, NS) that walk returns exactly the JSON DynamoDB sent, so
the items are taken from the body with `json.loads` before botocore parses the rest (counts, keys, consumed
capacity). A body that may hold a binary value (B, BS: botocore decodes their base64) or an error takes
botocore's way unchanged.

Requests are serialized by the same kind of walk over the input shape: for a BatchGetItem of 100 keys that was
3 ms of CPU against 0.2 ms for `json.dumps` of the same parameters, which is what botocore's JSON serializer
makes of them when they hold no binary value. So botocore serializes the request with one key a table
(`provide-client-params`: it still sees the tables, which its endpoint rules read, and valid parameters) and the body is then set to
the JSON of the parameters as given (`before-call`, before the request is signed). Parameters JSON cannot hold
(a binary key value) are left to botocore.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Where each read operation keeps its items in the response: Responses holds {table: [items]}.
_ITEM_FIELDS = {"Query": "Items", "Scan": "Items", "GetItem": "Item", "BatchGetItem": "Responses"}
_BINARY = re.compile(rb'"BS?"\s*:')
# Where a BatchGetItem's body waits, in botocore's context of the request, between the two events.
_BODY = "runwatch.raw_body"


def register(events: Any) -> None:
    """Install on a botocore session's (or client's) event emitter; its later clients read this way."""
    for operation in _ITEM_FIELDS:
        events.register(f"before-parse.dynamodb.{operation}", take_items)
    events.register("provide-client-params.dynamodb.BatchGetItem", hold_keys)
    events.register("before-call.dynamodb.BatchGetItem", send_keys)


def take_items(
    operation_model: Any, response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """Move the items out of the body into what botocore adds to its parsed response."""
    field = _ITEM_FIELDS.get(operation_model.name)
    body = response_dict.get("body")
    if field is None or response_dict.get("status_code", 500) >= 300 or not isinstance(body, bytes):
        return
    if not body or _BINARY.search(body):
        return
    document = json.loads(body)
    if not isinstance(document, dict) or field not in document:
        return
    customized_response_dict[field] = document.pop(field)
    response_dict["body"] = json.dumps(document).encode()


def hold_keys(params: dict[str, Any], context: dict[str, Any], **_: Any) -> dict[str, Any] | None:
    """A BatchGetItem's body as JSON, kept in the request's context; botocore gets the parameters with one key
    a table to serialize. None (botocore's way) when the parameters are not all JSON (bytes)."""
    try:
        context[_BODY] = json.dumps(params).encode()
    except TypeError:
        return None
    requests = params.get("RequestItems", {})
    # One key a table, so that the parameters stay valid where botocore validates them (at least one key).
    return {
        **params,
        "RequestItems": {table: {**read, "Keys": read["Keys"][:1]} for table, read in requests.items()},
    }


def send_keys(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """Put the body hold_keys kept in the request botocore serialized, before it is signed and sent."""
    body = context.pop(_BODY, None)
    if body is not None:
        params["body"] = body
