"""DynamoDB reads hand over their items as DynamoDB sent them, without botocore's walk through the model.

botocore parses a response by walking the operation's output shape: every attribute of every item is an
`AttributeValue` structure visited member by member, which made up 40 % of a 200-task run detail. For the
types runwatch stores (S, N, BOOL, NULL, L, M, SS, NS) that walk returns exactly the JSON DynamoDB sent, so
the items are taken from the body with `json.loads` before botocore parses the rest (counts, keys, consumed
capacity). A body that may hold a binary value (B, BS: botocore decodes their base64) or an error takes
botocore's way unchanged.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Where each read operation keeps its items in the response: Responses holds {table: [items]}.
_ITEM_FIELDS = {"Query": "Items", "Scan": "Items", "GetItem": "Item", "BatchGetItem": "Responses"}
_BINARY = re.compile(rb'"BS?"\s*:')


def register(events: Any) -> None:
    """Install on a botocore session's (or client's) event emitter; its later clients read this way."""
    for operation in _ITEM_FIELDS:
        events.register(f"before-parse.dynamodb.{operation}", take_items)


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
