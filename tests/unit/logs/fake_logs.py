"""An in-memory CloudWatch Logs client with GetLogEvents' documented backward paging.

`startFromHead=False` returns the newest `limit` events before the position the token names (the end of
the stream without a token), oldest first, and a `nextBackwardToken` for the events before them; at the
start of the stream it returns the token it was given. `empty_pages` answers that many calls with no
events (a sparse stream does), `errors` raises those exceptions on the next calls.
"""

from __future__ import annotations

from typing import Any


class FakeLogsClient:
    def __init__(self, streams: dict[tuple[str, str], list[tuple[int, str]]] | None = None) -> None:
        self.streams = streams or {}
        self.errors: list[Exception] = []
        self.empty_pages = 0
        self.calls_without_events = 0
        self.requests: list[dict[str, Any]] = []

    def get_log_events(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        if self.errors:
            raise self.errors.pop(0)
        from botocore.exceptions import ClientError

        key = (kwargs["logGroupName"], kwargs["logStreamName"])
        if key not in self.streams:
            error = {
                "Error": {
                    "Code": "ResourceNotFoundException",
                    "Message": "The specified log stream does not exist.",
                }
            }
            raise ClientError(error, "GetLogEvents")
        assert kwargs["startFromHead"] is False
        events = self.streams[key]
        token = kwargs.get("nextToken")
        end = len(events) if token is None else int(token.removeprefix("b/").partition("~")[0])
        if self.empty_pages:
            # An empty answer mid-stream still moves the token (CloudWatch steps back in time).
            self.empty_pages -= 1
            self.calls_without_events += 1
            start, backward = end, f"b/{end}~{self.calls_without_events}"
        else:
            start = max(0, end - min(kwargs.get("limit", 10_000), 10_000))
            backward = token if (token is not None and start == end == 0) else f"b/{start}"
        return {
            "events": [
                {"timestamp": ts, "message": message, "ingestionTime": ts}
                for ts, message in events[start:end]
            ],
            "nextBackwardToken": backward,
            "nextForwardToken": f"f/{end}",
        }
