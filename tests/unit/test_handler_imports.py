"""A handler's import (Lambda's INIT) creates no AWS client, opens no connection and never loads boto3
or Powertools Parser's event models (each a large share of a cold start, and not needed); the API and the
notifier, which never parse an EventBridge event, do not load ingest's event parsing either, and ingest, the
sweeper and the notifier, whose settings, events and routing rules are plain dataclasses, do not load pydantic
(tests/build checks their first event too). The notifier loads the system's CA certificates at import only
when a Slack or webhook channel is configured.

Each handler is imported in a fresh interpreter, as Lambda does, with the function's folder and the layer's
source on sys.path, the Lambda configuration it is deployed with (channels, rules parameter, dead-letter
queue), and botocore's client creation and every socket connection made to fail: building the service at
import must leave every client to its first use.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fresh_interpreter import last_line, run_python

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import socket, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import botocore.session

def refuse(*args, **kwargs):
    raise AssertionError("an AWS client or connection was made at import")

botocore.session.Session.create_client = refuse
socket.socket.connect = refuse
import app
unwanted = ("boto3", "aws_lambda_powertools.utilities.parser", *sys.argv[3:])
print("loaded:", *sorted(name for name in unwanted if name in sys.modules))
"""

ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00",
    "AWS_SECRET_ACCESS_KEY": "example",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "TABLE_NAME": "runwatch-unit",
    "POWERTOOLS_TRACE_DISABLED": "true",
    # What template.yaml configures: every client the functions can ask for is configured.
    "REJECTED_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/rejected",
    "NOTIFY_RULES_PARAMETER": "/runwatch/rules",
    "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:runwatch",
    "SLACK_WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack",
    "WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hook",
    "DASHBOARD_URL": "https://runwatch.example/",
    "RECONCILE": "on",
}


EVENT_PARSING = ("runwatch.services.ingest.dispatch", "runwatch.events.models")
UNWANTED = {
    "ingest": ("pydantic",),
    "api": EVENT_PARSING,
    "notifier": (*EVENT_PARSING, "pydantic"),
    "sweeper": ("pydantic",),
}


@pytest.mark.parametrize("function", ["ingest", "api", "notifier", "sweeper"])
def test_handler_import_makes_no_client_and_no_connection(function: str) -> None:
    assert _probe_import(_PROBE, function, ENV, *UNWANTED[function]) == "loaded:"


def _probe_import(probe: str, function: str, env: dict[str, str], *args: str) -> str:
    """Run `probe` in a fresh interpreter with the function's folder and the layer's source on its path:
    the last line it prints."""
    paths = (str(ROOT / "functions" / function), str(ROOT / "layers" / "runwatch"))
    return last_line(run_python(probe, *paths, *args, env=env, timeout=300))


_CERTIFICATES_PROBE = """
import ssl, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
loaded = []
load_default_certs = ssl.SSLContext.load_default_certs

def counting(self, *args, **kwargs):
    loaded.append(1)
    return load_default_certs(self, *args, **kwargs)

ssl.SSLContext.load_default_certs = counting
import app
print("certificates loaded:", len(loaded))
"""

HTTP_CHANNELS = ("SLACK_WEBHOOK_SECRET_ARN", "WEBHOOK_SECRET_ARN")


@pytest.mark.parametrize(
    ("channels", "loaded"),
    [(HTTP_CHANNELS, 1), (HTTP_CHANNELS[1:], 1), ((), 0)],
    ids=["both", "webhook", "none"],
)
def test_the_notifier_loads_ca_certificates_at_import_only_for_an_http_channel(
    channels: tuple[str, ...], loaded: int
) -> None:
    """Loading them is some 40 ms: at INIT when a Slack or webhook channel will need them, never otherwise."""
    env = {name: value for name, value in ENV.items() if name not in HTTP_CHANNELS or name in channels}
    assert _probe_import(_CERTIFICATES_PROBE, "notifier", env) == f"certificates loaded: {loaded}"


_COLLECTOR_PROBE = """
import gc, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
before = sum(generation["collections"] for generation in gc.get_stats())
import app
during = sum(generation["collections"] for generation in gc.get_stats()) - before
print("collections while loading:", during, "enabled:", gc.isenabled(), "frozen:", gc.get_freeze_count() > 0)
"""


@pytest.mark.parametrize("function", ["ingest", "api", "notifier", "sweeper"])
def test_a_handler_loads_without_collecting_garbage_and_leaves_the_collector_on(function: str) -> None:
    """Collections while the function loads walk objects that live as long as the container (a tenth of an
    import's instructions); after it, the collector is on again, with what was loaded frozen out of its walks."""
    assert (
        _probe_import(_COLLECTOR_PROBE, function, ENV)
        == "collections while loading: 0 enabled: True frozen: True"
    )
