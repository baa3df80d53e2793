"""moto's server on 127.0.0.1, for a built function in another process to call "AWS" (never DynamoDB).

A built handler runs in a fresh interpreter, so moto's in-process decorator cannot reach it; the server can,
through `AWS_ENDPOINT_URL`. The table stays DynamoDB Local (`AWS_ENDPOINT_URL_DYNAMODB` wins over it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from runwatch_dev.local.dynamodb_local import free_port


@contextmanager
def moto_server() -> Iterator[str]:
    """The endpoint of a fresh moto server; stopped on exit."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
