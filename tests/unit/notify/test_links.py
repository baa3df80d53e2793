"""Links in notifications: dashboard run page and AWS console pages, encoded as each site expects."""

from __future__ import annotations

from runwatch.notify.links import LinkBuilder


def test_dashboard_run_page() -> None:
    links = LinkBuilder("https://abc.execute-api.us-east-1.amazonaws.com/prod/")

    assert links.run_page("TrainFlow", "sfn-a/b") == (
        "https://abc.execute-api.us-east-1.amazonaws.com/prod/#/flows/TrainFlow/runs/sfn-a%2Fb"
    )
    assert LinkBuilder(None).run_page("F", "1") is None


def test_cloudwatch_log_stream_uses_the_consoles_double_encoding() -> None:
    url = LinkBuilder.log_stream("eu-west-1", "/aws/batch/job", "metaflow_x/default/abc123")

    assert url == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#logsV2:log-groups/log-group/$252Faws$252Fbatch$252Fjob/log-events/metaflow_x$252Fdefault$252Fabc123"
    )
    assert LinkBuilder.log_stream("eu-west-1", "/aws/batch/job", None) is None


def test_batch_job_and_execution_pages() -> None:
    arn = "arn:aws-us-gov:states:us-gov-west-1:1:execution:TrainFlow:abc"

    assert LinkBuilder.batch_job("us-east-1", "job-1") == (
        "https://us-east-1.console.aws.amazon.com/batch/home?region=us-east-1#jobs/detail/job-1"
    )
    assert LinkBuilder.execution("us-gov-west-1", arn) == (
        "https://us-gov-west-1.console.amazonaws-us-gov.com/states/home?region=us-gov-west-1"
        f"#/v2/executions/details/{arn}"
    )
    assert LinkBuilder.batch_job("us-east-1", "job-1", partition="aws-iso") is None
