"""template.yaml keeps the promises the code relies on: table shape, event routing, stream filter, API auth,
and a log group, alarm and dead-letter queue on every asynchronous edge."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from runwatch_dev.local.table_from_template import DEFAULT_TEMPLATE, load_template

EVENTS = Path(__file__).resolve().parents[2] / "events"

TEMPLATE = load_template(DEFAULT_TEMPLATE)
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
ALL_RULES = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Events::Rule"}
# The default bus's rules (every deploy) and the central bus's (only with member accounts).
RULES = {name: r for name, r in ALL_RULES.items() if "Condition" not in r}
CENTRAL_RULES = {name: r for name, r in ALL_RULES.items() if r.get("Condition") == "HasCentralBus"}
FORWARDING = load_template(Path(DEFAULT_TEMPLATE).parent / "forwarding" / "template.yaml")

CONTRACT_GSIS = {
    "by_flow": ("flow_pk", "started_sk"),
    "recent": ("recent_pk", "started_sk"),
    "by_status": ("status_pk", "started_sk"),
    "active_keys": ("active_pk", "sk"),
    "by_queue_keys": ("queue_pk", "sk"),
    "by_step_keys": ("step_pk", "task_order_sk"),
    "by_step_status_keys": ("step_status_pk", "task_order_sk"),
    "by_run_id": ("run_id_pk", "flow"),
    "by_user": ("user_pk", "started_sk"),
    "by_project": ("project_pk", "started_sk"),
    "by_project_only": ("project_only_pk", "started_sk"),
}
# The run lookup by (flow, run id) only needs where the run is; every run listing index carries whole runs; the
# task and sweeper indexes carry keys only (a task's write reaches them only when their keys change).
KEYS_AND_PLACE = {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["account", "region", "kind"]}
KEYS_ONLY_GSIS = {"active_keys", "by_queue_keys", "by_step_keys", "by_step_status_keys"}


def matches(pattern: Any, event: Any) -> bool:
    """The subset of EventBridge / Lambda filter pattern matching the template uses (values and prefix)."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(
            key in event and matches(sub, event[key]) for key, sub in pattern.items()
        )
    assert isinstance(pattern, list), pattern
    for option in pattern:
        if isinstance(option, dict) and "prefix" in option:
            if isinstance(event, str) and event.startswith(option["prefix"]):
                return True
        elif option == event:
            return True
    return False


def _keys(schema: list[dict[str, str]]) -> tuple[str, ...]:
    order = {"HASH": 0, "RANGE": 1}
    return tuple(k["AttributeName"] for k in sorted(schema, key=lambda k: order[k["KeyType"]]))


# -- table ------------------------------------------------------------------------------------------------


def test_status_table_matches_the_key_design() -> None:
    table = RESOURCES["StatusTable"]
    props = table["Properties"]

    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert _keys(props["KeySchema"]) == ("pk", "sk")
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert {i["IndexName"]: _keys(i["KeySchema"]) for i in props["GlobalSecondaryIndexes"]} == CONTRACT_GSIS
    assert {i["IndexName"]: i["Projection"] for i in props["GlobalSecondaryIndexes"]} == {
        name: KEYS_AND_PLACE
        if name == "by_run_id"
        else {"ProjectionType": "KEYS_ONLY" if name in KEYS_ONLY_GSIS else "ALL"}
        for name in CONTRACT_GSIS
    }
    used = {"pk", "sk"} | {name for keys in CONTRACT_GSIS.values() for name in keys}
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == dict.fromkeys(
        used, "S"
    )
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}


# -- ingest routing ---------------------------------------------------------------------------------------


THREE_PATTERNS = [
    (["aws.batch"], ["Batch Job Queue Blocked"]),
    (["aws.batch"], ["Batch Job State Change"]),
    (["aws.states"], ["Step Functions Execution Status Change"]),
]


def _patterns(rules: dict[str, Any]) -> list[tuple[list[str], list[str]]]:
    return sorted(
        (r["Properties"]["EventPattern"]["source"], r["Properties"]["EventPattern"]["detail-type"])
        for r in rules.values()
    )


def test_three_rules_feed_the_ingest_queue_with_a_dead_letter_queue() -> None:
    assert set(ALL_RULES) == set(RULES) | set(CENTRAL_RULES)
    assert _patterns(RULES) == _patterns(CENTRAL_RULES) == THREE_PATTERNS
    assert all("EventBusName" not in r["Properties"] for r in RULES.values())  # the default bus
    assert all(r["Properties"]["EventBusName"] == {"Ref": "CentralEventBus"} for r in CENTRAL_RULES.values())
    for rule in ALL_RULES.values():
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def test_queue_policy_admits_exactly_the_rules() -> None:
    (statement,) = RESOURCES["IngestQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    always = [s["Fn::GetAtt"][0] for s in sources if "Fn::GetAtt" in s]
    central = [s["Fn::If"] for s in sources if "Fn::If" in s]
    assert sorted(always) == sorted(RULES)
    assert all(c[0] == "HasCentralBus" and c[2] == {"Ref": "AWS::NoValue"} for c in central)
    assert sorted(c[1]["Fn::GetAtt"][0] for c in central) == sorted(CENTRAL_RULES)


# -- many accounts ------------------------------------------------------------------------------------------
def test_a_single_account_deploy_has_no_central_bus() -> None:
    """Without SourceAccountIds or SourceOrganizationId every central resource is left out."""
    params = TEMPLATE["Parameters"]
    assert params["SourceAccountIds"]["Default"] == "" and params["SourceOrganizationId"]["Default"] == ""
    conditions = TEMPLATE["Conditions"]
    assert conditions["HasCentralBus"] == {
        "Fn::Or": [{"Condition": "HasSourceAccounts"}, {"Condition": "HasSourceOrganization"}]
    }
    assert conditions["HasSourceAccounts"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "SourceAccountIds"}]}, ""]}]
    }
    assert conditions["HasSourceOrganization"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SourceOrganizationId"}, ""]}]
    }
    central = {name for name, r in RESOURCES.items() if "Central" in name}
    assert central == {
        "CentralEventBus",
        "CentralEventBusAccountsPolicy",
        "CentralEventBusOrganizationPolicy",
    } | set(CENTRAL_RULES)
    assert {RESOURCES[name]["Condition"] for name in central} == {
        "HasCentralBus",
        "HasSourceAccounts",
        "HasSourceOrganization",
    }
    assert TEMPLATE["Outputs"]["CentralEventBusArn"]["Condition"] == "HasCentralBus"


def test_the_central_bus_admits_the_member_accounts_or_the_organization() -> None:
    accounts = RESOURCES["CentralEventBusAccountsPolicy"]
    assert accounts["Condition"] == "HasSourceAccounts"
    statement = accounts["Properties"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "events:PutEvents")
    assert statement["Principal"] == {"AWS": {"Ref": "SourceAccountIds"}}
    organization = RESOURCES["CentralEventBusOrganizationPolicy"]
    assert organization["Condition"] == "HasSourceOrganization"
    statement = organization["Properties"]["Statement"]
    assert statement["Principal"] == "*"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "SourceOrganizationId"}}}
    for policy in (accounts, organization):
        assert policy["Properties"]["Statement"]["Resource"] == {"Fn::GetAtt": ["CentralEventBus", "Arn"]}


def test_forwarding_sends_the_three_detail_types_to_the_central_bus_with_its_role() -> None:
    resources = FORWARDING["Resources"]
    rules = {name: r for name, r in resources.items() if r["Type"] == "AWS::Events::Rule"}
    assert _patterns(rules) == THREE_PATTERNS
    for rule in rules.values():
        assert "EventBusName" not in rule["Properties"]  # the member account's default bus
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Ref": "CentralEventBusArn"}
        assert target["RoleArn"] == {"Fn::GetAtt": ["ForwardingRole", "Arn"]}
    role = resources["ForwardingRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    (policy,) = role["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": {"Ref": "CentralEventBusArn"}}
    ]


def _is_service_event(path: Path) -> bool:
    """An EventBridge event from an AWS service; the sweeper's schedule ticks (source aws.events) reach the
    sweeper through SAM's schedule rule, not through the ingest rules."""
    event = json.loads(path.read_text())
    return bool(event.get("detail-type")) and event.get("source") != "aws.events"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in EVENTS.glob("*/*.json") if _is_service_event(p)),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_sample_event_is_routed_by_exactly_one_rule(path: Path) -> None:
    event = json.loads(path.read_text())

    for rules in (RULES, CENTRAL_RULES):
        routed = [name for name, rule in rules.items() if matches(rule["Properties"]["EventPattern"], event)]
        assert len(routed) == 1, routed


def test_ingest_queue_redrives_to_its_dead_letter_queue() -> None:
    queue = RESOURCES["IngestQueue"]["Properties"]
    function_timeout = RESOURCES["IngestFunction"]["Properties"].get(
        "Timeout", TEMPLATE["Globals"]["Function"]["Timeout"]
    )

    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]}
    assert queue["VisibilityTimeout"] >= 6 * function_timeout


# -- notifier stream filter -------------------------------------------------------------------------------


def _stream_record(event_name: str, pk: str, sk: str, status: str | None = None) -> dict[str, Any]:
    image = {"pk": {"S": pk}, "sk": {"S": sk}} | ({"status": {"S": status}} if status else {})
    return {
        "eventName": event_name,
        "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": sk}}, "NewImage": image},
    }


def _stream_patterns() -> list[Any]:
    stream = RESOURCES["NotifierFunction"]["Properties"]["Events"]["TableStream"]["Properties"]
    return [json.loads(f["Pattern"]) for f in stream["FilterCriteria"]["Filters"]]


@pytest.mark.parametrize(
    "record",
    [
        _stream_record("INSERT", "FLOWS", "TrainFlow"),
        _stream_record("MODIFY", "SM#arn:aws:states:us-east-1:1:stateMachine:x", "#SM"),
        _stream_record("INSERT", "SFNEXEC#arn:aws:states:us-east-1:1:execution:x:y", "#EXEC"),
        _stream_record("REMOVE", "RUN#TrainFlow#1700", "#RUN", "failed"),
        # DynamoDB Local's name for a TTL deletion; AWS sends REMOVE with a service principal.
        _stream_record("UNKNOWN_TO_SDK_VERSION", "RUN#TrainFlow#1700", "#RUN", "failed"),
    ],
    ids=["flow", "state-machine", "parked-execution", "remove", "ttl-delete"],
)
def test_stream_filter_ignores_bookkeeping_and_deletions(record: dict[str, Any]) -> None:
    assert not any(matches(p, record) for p in _stream_patterns())


def test_stream_filter_passes_a_run_that_failed() -> None:
    record = _stream_record("MODIFY", "RUN#TrainFlow#1700", "#RUN", "failed")

    assert any(matches(p, record) for p in _stream_patterns())


def test_notifier_failures_end_in_its_dead_letter_queue() -> None:
    stream = RESOURCES["NotifierFunction"]["Properties"]["Events"]["TableStream"]["Properties"]

    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["NotifierDeadLetterQueue", "Arn"]
    }
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["BisectBatchOnFunctionError"] is True


# -- API --------------------------------------------------------------------------------------------------


def test_only_health_and_dashboard_are_open() -> None:
    api_paths = RESOURCES["RunwatchApi"]["Properties"]["DefinitionBody"]["paths"]
    events = RESOURCES["ApiFunction"]["Properties"]["Events"].values()
    routes = {e["Properties"]["Path"] for e in events if e["Type"] == "Api"}

    protected = {path for path, item in api_paths.items() if "security" in item.get("get", {})}
    assert routes - protected == {"/health", "/"}
    assert protected <= routes
    for path in protected:
        choice = api_paths[path]["get"]["security"]["Fn::If"]
        assert choice == ["UseIam", [{"AWS_IAM": []}], [{"api_key": []}]]


# -- operations -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_a_log_group_with_retention_and_an_errors_alarm(function: str) -> None:
    log_groups = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::Logs::LogGroup"]
    alarms = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::CloudWatch::Alarm"]

    assert {"Fn::Sub": f"/aws/lambda/${{{function}}}"} in [g["LogGroupName"] for g in log_groups]
    assert all(g["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in log_groups)
    assert any(
        a["MetricName"] == "Errors"
        and a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
        for a in alarms
    )


@pytest.mark.parametrize("queue", ["IngestDeadLetterQueue", "NotifierDeadLetterQueue"])
def test_dead_letter_queues_raise_an_alarm(queue: str) -> None:
    alarms = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::CloudWatch::Alarm"]

    assert any(
        a["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and a["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}
        and a["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        for a in alarms
    )


# -- security scan (checkov) ------------------------------------------------------------------------------


def test_every_queue_is_encrypted_at_rest() -> None:
    queues = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue"}

    assert queues
    # SSE-SQS: EventBridge cannot send to a queue encrypted with the aws/sqs key.
    assert {name: props.get("SqsManagedSseEnabled") for name, props in queues.items()} == dict.fromkeys(
        queues, True
    )


def test_the_notification_topic_uses_the_aws_managed_key() -> None:
    assert RESOURCES["NotifyTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"


def test_api_access_logs_go_to_a_log_group_with_retention() -> None:
    setting = RESOURCES["RunwatchApi"]["Properties"]["AccessLogSetting"]
    log_group = RESOURCES["ApiAccessLogGroup"]

    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert "${ApiAccessLogGroup}" in setting["DestinationArn"]["Fn::Sub"]
    # One JSON object per request; API Gateway requires the request id in it.
    line = json.loads(setting["Format"])
    assert line["requestId"] == "$context.requestId"


def test_api_stage_waits_for_the_api_gateway_cloudwatch_role() -> None:
    api = RESOURCES["RunwatchApi"]
    ready = RESOURCES["ApiGatewayAccountReady"]
    account = RESOURCES["ApiGatewayAccount"]
    role = RESOURCES["ApiGatewayLogsRole"]

    assert api["DependsOn"] == "ApiGatewayAccountReady"
    assert ready["Metadata"]["ApiGatewayAccount"] == {
        "Fn::If": ["CreateApiGatewayCloudWatchRole", {"Ref": "ApiGatewayAccount"}, "none"]
    }
    assert account["Condition"] == role["Condition"] == "CreateApiGatewayCloudWatchRole"
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}
    # The account setting outlives the stack, so the role it names must too.
    assert role["DeletionPolicy"] == "Retain"


def test_ingest_concurrency_is_reserved_and_polled_alike() -> None:
    props = RESOURCES["IngestFunction"]["Properties"]
    scaling = props["Events"]["Queue"]["Properties"]["ScalingConfig"]

    assert props["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasIngestConcurrency", {"Ref": "IngestConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    # Polling no faster than the reservation keeps throttles from counting towards maxReceiveCount.
    assert scaling == {
        "Fn::If": [
            "HasIngestConcurrency",
            {"MaximumConcurrency": {"Ref": "IngestConcurrency"}},
            {"Ref": "AWS::NoValue"},
        ]
    }


def test_notifier_concurrency_is_reserved() -> None:
    assert RESOURCES["NotifierFunction"]["Properties"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasNotifierConcurrency", {"Ref": "NotifierConcurrency"}, {"Ref": "AWS::NoValue"}]
    }


SKIPS = [
    (name, skip)
    for name, resource in RESOURCES.items()
    for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
]


def test_there_are_checkov_skips() -> None:
    assert len(SKIPS) > 10


@pytest.mark.parametrize("name, skip", SKIPS, ids=[f"{name}-{skip.get('id')}" for name, skip in SKIPS])
def test_every_checkov_skip_names_a_check_and_says_why(name: str, skip: dict[str, Any]) -> None:
    assert set(skip) == {"id", "comment"}
    assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"])
    assert isinstance(skip["comment"], str)
    assert len(skip["comment"]) > 20
    assert "\n" not in skip["comment"]


def test_a_check_is_skipped_once_per_resource() -> None:
    ids = [(name, skip["id"]) for name, skip in SKIPS]

    assert len(ids) == len(set(ids))


def test_the_sweeper_assumes_member_roles_only_with_a_role_name() -> None:
    sweeper = RESOURCES["SweeperFunction"]["Properties"]
    assert sweeper["Environment"]["Variables"]["RECONCILE_ROLE_NAME"] == {"Ref": "ReconcileRoleName"}
    assert TEMPLATE["Parameters"]["ReconcileRoleName"]["Default"] == ""
    assert TEMPLATE["Conditions"]["HasReconcileRole"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReconcileRoleName"}, ""]}]
    }
    (statements,) = (p["Statement"] for p in sweeper["Policies"])
    (assume,) = [s["Fn::If"] for s in statements if "Fn::If" in s]
    condition, statement, otherwise = assume
    assert (condition, otherwise) == ("HasReconcileRole", {"Ref": "AWS::NoValue"})
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${ReconcileRoleName}"}
