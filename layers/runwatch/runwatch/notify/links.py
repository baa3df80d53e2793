"""Links a notification carries: the dashboard's run page and the AWS console pages behind a failure."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

_CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


def _console(region: str, partition: str, service_path: str) -> str | None:
    host = _CONSOLE_HOSTS.get(partition)
    if host is None:
        return None
    return f"https://{region}.{host}/{service_path}?region={region}"


def _logs_segment(value: str) -> str:
    # The CloudWatch console wants URL-encoded path parts with "%" itself written as "$25".
    return quote(value, safe="").replace("%", "$25")


@dataclass(frozen=True, slots=True)
class LinkBuilder:
    dashboard_url: str | None = None

    def run_page(
        self, flow: str, run_id: str, account: str | None = None, region: str | None = None
    ) -> str | None:
        """The dashboard's page of a run; account and region address it among runs with the same id."""
        if not self.dashboard_url:
            return None
        base = self.dashboard_url.split("#", 1)[0]
        page = f"{base}#/flows/{quote(flow, safe='')}/runs/{quote(run_id, safe='')}"
        where = urlencode(
            {name: value for name, value in (("account", account), ("region", region)) if value}
        )
        return f"{page}?{where}" if where else page

    @staticmethod
    def log_stream(
        region: str | None, log_group: str | None, stream: str | None, partition: str = "aws"
    ) -> str | None:
        if not (region and log_group and stream):
            return None
        console = _console(region, partition, "cloudwatch/home")
        if console is None:
            return None
        return f"{console}#logsV2:log-groups/log-group/{_logs_segment(log_group)}/log-events/{_logs_segment(stream)}"

    @staticmethod
    def batch_job(region: str | None, job_id: str | None, partition: str = "aws") -> str | None:
        if not (region and job_id):
            return None
        console = _console(region, partition, "batch/home")
        return f"{console}#jobs/detail/{quote(job_id, safe='')}" if console else None

    @staticmethod
    def execution(region: str | None, execution_arn: str | None) -> str | None:
        if not (region and execution_arn):
            return None
        partition = execution_arn.split(":")[1] if execution_arn.startswith("arn:") else "aws"
        console = _console(region, partition, "states/home")
        return f"{console}#/v2/executions/details/{execution_arn}" if console else None
