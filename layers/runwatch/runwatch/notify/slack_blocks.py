"""Notification -> Slack Block Kit message, kept within Block Kit's limits whatever the input size.

Slack rejects a whole message when one limit is exceeded (`invalid_blocks`), so every text is cut to its
limit here and `check_limits` states the limits the renderer promises (the tests run it on extreme input).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from runwatch.domain.alerts import RUN_LATE, TASK_STUCK
from runwatch.domain.notification_policy import (
    RUN_ABORTED,
    RUN_FAILED,
    RUN_SUCCEEDED,
    RUN_TIMED_OUT,
    TASK_RETRYING,
)
from runwatch.domain.times import iso
from runwatch.notify.message import AttemptReport, Notification, format_duration

MAX_BLOCKS: Final = 50
MAX_HEADER: Final = 150
MAX_SECTION_TEXT: Final = 3000
MAX_FIELDS: Final = 10
MAX_FIELD_TEXT: Final = 2000
MAX_CONTEXT_ELEMENTS: Final = 10
MAX_CONTEXT_TEXT: Final = 3000
MAX_ACTIONS: Final = 25
MAX_BUTTON_TEXT: Final = 75
MAX_URL: Final = 3000
MAX_FALLBACK_TEXT: Final = 3000

# Shown in full up to these sizes; the rest is summarised so one huge reason cannot crowd out the links.
REASON_PREVIEW: Final = 1500
EXCEPTION_PREVIEW: Final = 500
# The traceback's last lines (NOTIFY_LOG_LINES) go in a section of their own, within its text limit.
LOG_LINES_PREVIEW: Final = MAX_SECTION_TEXT - 20
ATTEMPT_REASON_PREVIEW: Final = 200
MAX_ATTEMPT_LINES: Final = 10
MAX_TAGS_SHOWN: Final = 8
NAME_PREVIEW: Final = 100

_EMOJI = {
    RUN_FAILED: ":x:",
    RUN_TIMED_OUT: ":hourglass:",
    RUN_ABORTED: ":no_entry_sign:",
    RUN_SUCCEEDED: ":white_check_mark:",
    TASK_RETRYING: ":repeat:",
    TASK_STUCK: ":warning:",
    RUN_LATE: ":snail:",
}
_LINK_LABELS = {
    "dashboard": "Open in runwatch",
    "logs": "Logs",
    "batch_job": "Batch job",
    "execution": "Step Functions execution",
}
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")
_PARTIAL_ENTITY_START = re.compile(r"^[a-z]{0,4};")


def escape(text: str) -> str:
    """Slack mrkdwn control characters; user text (failure reasons, names) must never become markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """Cut to `limit` characters with an ellipsis, never leaving half an escaped entity."""
    if len(text) <= limit:
        return text
    head = _PARTIAL_ENTITY.sub("", text[: limit - 1])
    return head + "…"


def _task_name(step: str, task_id: str) -> str:
    return f"`{cut(escape(step), NAME_PREVIEW)}/{cut(escape(task_id), NAME_PREVIEW)}`"


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit), "emoji": True}


def _mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": cut(text, limit)}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _fields(notification: Notification) -> dict[str, Any]:
    values = [
        ("Status", notification.status),
        ("Orchestrator", notification.orchestrator),
        ("Project / branch", " / ".join(v for v in (notification.project, notification.branch) if v) or None),
        ("User", notification.user),
        ("Duration", format_duration(notification.duration_ms)),
        ("Started", iso(notification.started_at)),
    ]
    fields = [_mrkdwn(f"*{label}*\n{escape(value)}", MAX_FIELD_TEXT) for label, value in values if value]
    return {"type": "section", "fields": fields[:MAX_FIELDS]}


def _exit(code: int | None) -> str:
    return f", exit code {code}" if code is not None else ""


def _root_cause(notification: Notification) -> str | None:
    failure = notification.failure
    if failure is None:
        return None
    label = "Failed attempt" if notification.type == TASK_RETRYING else "Root cause"
    where = (
        f"{_task_name(failure.step, failure.task_id)} attempt {failure.attempt}"
        if failure.step
        else "the run"
    )
    text = f"*{label}:* {where}: *{escape(failure.failure_class)}*{_exit(failure.exit_code)}"
    if failure.reason:
        text += "\n```" + cut(escape(failure.reason), REASON_PREVIEW) + "```"
    if failure.exception:
        text += "\n*Exception:* `" + cut(escape(failure.exception.replace("`", "'")), EXCEPTION_PREVIEW) + "`"
    return text


def _log_lines(notification: Notification) -> str | None:
    """The traceback's last lines as a code block, cut from the top so the exception stays visible."""
    failure = notification.failure
    if failure is None or not failure.log_lines:
        return None
    text = escape("\n".join(failure.log_lines).replace("```", "'''"))
    if len(text) > LOG_LINES_PREVIEW:
        text = "…" + _PARTIAL_ENTITY_START.sub("", text[len(text) - LOG_LINES_PREVIEW + 1 :])
    return "```" + text + "```"


def _attempt_line(attempt: AttemptReport) -> str:
    line = f"• #{attempt.attempt} {attempt.status}"
    if attempt.failure_class:
        line += f": {escape(attempt.failure_class)}{_exit(attempt.exit_code)}"
    if attempt.reason and attempt.status == "failed":
        line += f" - {cut(escape(attempt.reason), ATTEMPT_REASON_PREVIEW)}"
    return line


def _attempt_history(notification: Notification) -> str | None:
    task = notification.task
    if task is None or not task.attempts:
        return None
    shown = task.attempts[-MAX_ATTEMPT_LINES:]
    lines = [f"*Attempts of {_task_name(task.step, task.task_id)}* ({escape(task.status)})"]
    if len(task.attempts) > len(shown):
        lines.append(f"… {len(task.attempts) - len(shown)} earlier attempts")
    lines.extend(_attempt_line(a) for a in shown)
    return "\n".join(lines)


def _others(notification: Notification) -> str | None:
    others = notification.failed_tasks - (1 if notification.failure and notification.failure.step else 0)
    if others <= 0 or notification.type == TASK_RETRYING:
        return None
    noun = "task" if others == 1 else "tasks"
    return f"*{others}* other {noun} failed or were killed."


def _context(notification: Notification) -> dict[str, Any]:
    elements = [_mrkdwn(f"severity *{notification.severity}*", MAX_CONTEXT_TEXT)]
    occurred = iso(notification.occurred_at)
    if occurred:
        elements.append(_mrkdwn(escape(occurred), MAX_CONTEXT_TEXT))
    tags = list(notification.tags)
    shown = [_mrkdwn(f"`{escape(tag)}`", MAX_CONTEXT_TEXT) for tag in tags[:MAX_TAGS_SHOWN]]
    elements.extend(shown)
    if len(tags) > len(shown):
        elements.append(_mrkdwn(f"+{len(tags) - len(shown)} tags", MAX_CONTEXT_TEXT))
    return {"type": "context", "elements": elements[:MAX_CONTEXT_ELEMENTS]}


def _actions(notification: Notification) -> dict[str, Any] | None:
    buttons = [
        {
            "type": "button",
            "text": _plain(_LINK_LABELS.get(name, name), MAX_BUTTON_TEXT),
            "url": url,
            "action_id": f"link_{name}",
        }
        for name, url in notification.links
        if len(url) <= MAX_URL
    ]
    return {"type": "actions", "elements": buttons[:MAX_ACTIONS]} if buttons else None


def fallback_text(notification: Notification) -> str:
    """The top-level `text`: what push notifications and screen readers show."""
    text = f"{notification.title}"
    failure = notification.failure
    if failure is not None:
        where = f" in {failure.step}/{failure.task_id}" if failure.step else ""
        text += f": {failure.failure_class}{where}{_exit(failure.exit_code)}"
        if failure.exception:
            text += f": {failure.exception}"
    elif notification.message:
        text += f": {notification.message}"
    return cut(escape(text), MAX_FALLBACK_TEXT)


def render(notification: Notification) -> dict[str, Any]:
    """The JSON body for a Slack incoming webhook."""
    emoji = _EMOJI.get(notification.type, ":information_source:")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(f"{emoji} {notification.title}", MAX_HEADER)},
        _fields(notification),
    ]
    texts = [
        escape(notification.message) if notification.message and notification.type != TASK_RETRYING else None,
        _root_cause(notification),
        _log_lines(notification),
        _others(notification),
        _attempt_history(notification),
        f"*Hint:* {escape(notification.hint)}" if notification.hint else None,
    ]
    blocks.extend(_section(text) for text in texts if text)
    blocks.append(_context(notification))
    actions = _actions(notification)
    if actions:
        blocks.append(actions)
    return {"text": fallback_text(notification), "blocks": blocks[:MAX_BLOCKS]}


# -- limits --------------------------------------------------------------------------------------------
def _text_of(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def _header_problems(where: str, block: dict[str, Any]) -> list[str]:
    return [f"{where}: header text > {MAX_HEADER}"] if len(_text_of(block.get("text"))) > MAX_HEADER else []


def _section_problems(where: str, block: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if "text" not in block and "fields" not in block:
        problems.append(f"{where}: section without text or fields")
    if len(_text_of(block.get("text"))) > MAX_SECTION_TEXT:
        problems.append(f"{where}: section text > {MAX_SECTION_TEXT}")
    fields = block.get("fields") or []
    if len(fields) > MAX_FIELDS:
        problems.append(f"{where}: {len(fields)} > {MAX_FIELDS} fields")
    problems.extend(
        f"{where}: field {i} > {MAX_FIELD_TEXT}"
        for i, f in enumerate(fields)
        if len(_text_of(f)) > MAX_FIELD_TEXT
    )
    return problems


def _context_problems(where: str, block: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    elements = block.get("elements") or []
    if not 0 < len(elements) <= MAX_CONTEXT_ELEMENTS:
        problems.append(f"{where}: {len(elements)} context elements (1..{MAX_CONTEXT_ELEMENTS})")
    problems.extend(
        f"{where}: element {i} > {MAX_CONTEXT_TEXT}"
        for i, e in enumerate(elements)
        if len(_text_of(e)) > MAX_CONTEXT_TEXT
    )
    return problems


def _actions_problems(where: str, block: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    elements = block.get("elements") or []
    if not 0 < len(elements) <= MAX_ACTIONS:
        problems.append(f"{where}: {len(elements)} actions (1..{MAX_ACTIONS})")
    for i, element in enumerate(elements):
        if len(_text_of(element.get("text"))) > MAX_BUTTON_TEXT:
            problems.append(f"{where}: button {i} text > {MAX_BUTTON_TEXT}")
        if len(str(element.get("url", ""))) > MAX_URL:
            problems.append(f"{where}: button {i} url > {MAX_URL}")
    return problems


_BLOCK_CHECKS: dict[str, Callable[[str, dict[str, Any]], list[str]]] = {
    "header": _header_problems,
    "section": _section_problems,
    "context": _context_problems,
    "actions": _actions_problems,
}


def check_limits(payload: dict[str, Any]) -> list[str]:
    """Every Block Kit limit the payload breaks (empty when Slack will accept it)."""
    problems: list[str] = []
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("missing top-level text fallback")
    elif len(text) > MAX_FALLBACK_TEXT:
        problems.append(f"text has {len(text)} > {MAX_FALLBACK_TEXT} characters")
    blocks = payload.get("blocks") or []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} > {MAX_BLOCKS} blocks")
    for index, block in enumerate(blocks):
        where = f"blocks[{index}] ({block.get('type')})"
        check = _BLOCK_CHECKS.get(block.get("type"))
        problems.extend(check(where, block) if check else [f"{where}: block type not checked"])
    return problems
