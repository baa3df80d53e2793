"""The API built from settings the way the handler builds it, and flows whose newest run has expired."""

from __future__ import annotations

import os
from dataclasses import replace

from runwatch.domain.run_state import RunKey, RunState
from runwatch.settings import ApiSettings
from runwatch.store.repository import StatusRepository
from runwatch.wiring import build_api
from tests.unit.api.rest import call

T0 = 1_795_000_000_000


def test_built_from_settings(repository: StatusRepository, table_name: str) -> None:
    """TABLE_NAME and AWS_ENDPOINT_URL_DYNAMODB (set by the fixture) are all the function needs."""
    kept = RunState(
        RunKey("TrainFlow", "1795000000000001", account="123456789012", region="us-east-1"),
        "batch",
        first_seen_at=T0,
    )
    repository.save_run(kept, None)
    repository.record_flow_run(kept)
    # A flow entry whose run item is gone (TTL removes runs; the flow entry stays).
    repository.record_flow_run(
        RunState(
            RunKey("OldFlow", "1700000000000000", account="123456789012", region="us-east-1"),
            "batch",
            first_seen_at=T0 - 10**10,
        )
    )

    settings = ApiSettings.from_env(os.environ)
    app = build_api(settings)
    body = call(app, "/flows").json()
    assert [(f["flow"], f["last_run"] and f["last_run"]["run_id"]) for f in body["flows"]] == [
        ("OldFlow", None),
        ("TrainFlow", "1795000000000001"),
    ]
    token = call(app, "/flows?limit=1").json()["next_token"]
    # Tokens are signed with a key derived from the table name unless PAGE_TOKEN_SECRET gives one.
    other = build_api(replace(settings, page_token_secret="another"))
    assert call(other, f"/flows?next_token={token}").status == 400
    assert call(app, f"/flows?next_token={token}").json()["flows"][0]["flow"] == "TrainFlow"
