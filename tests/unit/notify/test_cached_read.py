"""Values read from AWS are kept for their TTL, a failed read is not kept and is reported by its code only,
and reading needs no boto3 (the notifier's first event would pay for importing it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from runwatch.notify.cached_read import CachedRead, ReadFailed
from tests.fresh_interpreter import last_line, run_python

ROOT = Path(__file__).resolve().parents[3]


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Reads:
    """Answers each read with the next value, or raises it when it is an exception."""

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _denied(message: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": message}}, "GetSecretValue")


def test_a_value_is_kept_for_its_ttl_then_read_again() -> None:
    clock, reads = _Clock(), _Reads("v1", "v2")
    value = CachedRead(reads, max_age=60, clock=clock)

    assert (value.get(), value.get()) == ("v1", "v1")
    clock.now = 59.9
    assert value.get() == "v1"
    clock.now = 60
    assert value.get() == "v2" and reads.count == 2


def test_a_zero_ttl_reads_every_time() -> None:
    reads = _Reads("v1", "v2")
    value = CachedRead(reads, max_age=0, clock=_Clock())

    assert (value.get(), value.get()) == ("v1", "v2")


def test_a_failure_names_the_code_only_and_is_not_kept() -> None:
    clock = _Clock()
    value = CachedRead(_Reads(_denied("s3cr3t-arn is not yours"), "v1"), max_age=60, clock=clock)

    with pytest.raises(ReadFailed) as error:
        value.get()
    assert error.value.code == "AccessDenied" and "s3cr3t" not in str(error.value)
    assert value.get() == "v1", "the next get reads again"


def test_a_connection_failure_is_a_read_failure() -> None:
    value = CachedRead(_Reads(EndpointConnectionError(endpoint_url="https://ssm.example")), max_age=60)

    with pytest.raises(ReadFailed, match="EndpointConnectionError"):
        value.get()


_PROBE = """
import sys
sys.path[:0] = [sys.argv[1]]
from runwatch.notify.rules import ssm_rules
from runwatch.notify.secrets import secrets_manager_endpoint

class Client:
    def get_parameter(self, Name):
        return {"Parameter": {"Value": '{"rules": []}'}}

    def get_secret_value(self, SecretId):
        return {"SecretString": "https://hooks.example.com/in"}

ssm_rules(Client(), "/rules")()
secrets_manager_endpoint(Client(), "arn", "webhook").get()
print("boto3 loaded" if "boto3" in sys.modules else "boto3 not loaded")
"""


def test_reading_rules_and_secrets_loads_no_boto3() -> None:
    assert last_line(run_python(_PROBE, str(ROOT / "layers" / "runwatch"))) == "boto3 not loaded"
