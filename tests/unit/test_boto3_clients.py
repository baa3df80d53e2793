"""The development tools' client factory: boto3's clients, of the session given (a profile, a region) or of
boto3's default one, and no session to share, so the table and the credential check make their own."""

from __future__ import annotations

import boto3

from runwatch_dev.boto3_clients import Boto3Clients


def test_clients_come_from_the_given_session() -> None:
    clients = Boto3Clients(boto3.Session(region_name="eu-west-1"))

    assert clients("batch").meta.region_name == "eu-west-1"
    assert clients("batch", region_name="ap-south-1").meta.region_name == "ap-south-1"


def test_without_a_session_clients_are_boto3s_default_ones() -> None:
    clients = Boto3Clients()

    assert clients("stepfunctions").meta.service_model.service_name == "stepfunctions"
    assert clients("stepfunctions").meta.region_name == "us-east-1"  # the tests' AWS_DEFAULT_REGION


def test_it_has_no_session_to_share() -> None:
    assert Boto3Clients().session() is None
