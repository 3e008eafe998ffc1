"""Reading `codex exec --json` as it streams, and judging how the run ended.

Codex prints one JSON event per line: `thread.started` (the session id, to resume), `turn.started`,
`item.started`/`item.updated`/`item.completed` (an `agent_message`, a `command_execution`, a
`file_change`, an `mcp_tool_call`, `reasoning`, a non-fatal `error` item such as a warning),
`turn.completed` with the turn's usage, and on failure an `error` event (also sent while it
reconnects, so not final by itself) and `turn.failed`. `CodexStream.feed` keeps counters and the last
answer only; event and item types it does not know are ignored, because newer CLIs add some.
`conclude` turns what was seen into success, a limit (the factory moves the step to the next
choice, after the reset time when codex names one) or a failure with its reason. Pure: no I/O here.

Codex writes a usage limit's reset time in the process's local time ("try again at 3:04 PM", or
"... at Mar 17th, 2030 5:46 PM" on another day); the agent runs it with TZ=UTC so the time is
readable here, to the minute.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aifactory.agents.base import Ending, ToolCall, ToolSink, ignore_tool
from aifactory.domain.usage import Usage

_TOOL_ITEMS = frozenset({"command_execution", "file_change", "mcp_tool_call", "web_search"})
_USAGE_LIMIT = re.compile(r"hit your usage limit|usage_limit_reached|usage limit has been reached", re.I)
_OTHER_LIMIT = re.compile(
    r"\b429\b|Too Many Requests|rate limit|Quota exceeded|insufficient_quota|high demand|overloaded|\b529\b",
    re.IGNORECASE,
)
_LOGIN = re.compile(
    r"\b401\b|\b403 Forbidden|Unauthorized|Not logged in|Missing environment variable|"
    r"refresh token|log in again|codex login",
    re.IGNORECASE,
)
_RESET = re.compile(
    r"try again at (?:(?P<month>[A-Z][a-z]{2}) (?P<day>\d{1,2})(?:st|nd|rd|th), (?P<year>\d{4}) )?"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2}) (?P<half>[AP]M)",
    re.IGNORECASE,
)


@dataclass
class CodexStream:
    """What the stream said so far; feed it lines in order, then `conclude`."""

    on_tool: ToolSink = ignore_tool
    root: str = ""
    """The worktree, cut from the paths the calls name."""
    session_id: str | None = None
    tool_calls: int = 0
    last_text: str = ""
    usage: Usage = field(default_factory=Usage)
    turns: int = 0
    failure: str | None = None
    """`turn.failed`'s message: the run is over and did not finish the step."""
    last_error: str = ""
    """The latest `error` event, kept for a stream that breaks off before its turn ends."""
    warnings: int = 0
    unreadable: int = 0

    @property
    def finished(self) -> bool:
        """A turn completed or failed: nothing more is needed from the stream."""
        return self.turns > 0 or self.failure is not None

    def feed(self, line: bytes | str) -> None:
        """Take one line of stdout; blank and non-JSON lines are counted, not fatal."""
        text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
        if not text.strip():
            return
        try:
            event = json.loads(text)
        except json.JSONDecodeError:
            self.unreadable += 1
            return
        if isinstance(event, dict):
            self._take(event)
        else:
            self.unreadable += 1

    def _take(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "thread.started" and isinstance(event.get("thread_id"), str):
            self.session_id = event["thread_id"]
        elif kind == "item.completed" and isinstance(event.get("item"), dict):
            self._item(event["item"])
        elif kind == "turn.completed":
            self.turns += 1
            if isinstance(event.get("usage"), dict):
                self.usage += usage_of(event["usage"])
        elif kind == "turn.failed":
            error = event.get("error")
            said = error.get("message") if isinstance(error, dict) else None
            self.failure = str(said or self.last_error or "the turn failed")
        elif kind == "error":
            self.last_error = str(event.get("message") or "")

    def _item(self, item: dict[str, Any]) -> None:
        kind = item.get("type")
        if kind in _TOOL_ITEMS:
            self.tool_calls += 1
            self.on_tool(self._tool(str(kind), item))
        elif kind == "agent_message" and isinstance(item.get("text"), str):
            self.last_text = item["text"]
        elif kind == "error":
            self.warnings += 1

    def _tool(self, kind: str, item: dict[str, Any]) -> ToolCall:
        """A completed item as a tool call: the command run, the files changed, the tool or query."""
        changes = item.get("changes")
        if kind == "file_change" and isinstance(changes, list):
            paths = (str(c.get("path", "")) for c in changes if isinstance(c, dict))
            prefix = self.root.rstrip("/") + "/"
            target = ", ".join(path.removeprefix(prefix) if self.root else path for path in paths)
        else:
            target = str(item.get("command") or item.get("tool") or item.get("query") or "")
        ok = item.get("status") == "completed" and item.get("exit_code") in (None, 0)
        return ToolCall.of(kind, target, ok=ok)


def usage_of(raw: dict[str, Any]) -> Usage:
    """The ledger's convention, which OpenAI's already is: input tokens include the cached ones."""

    def count(key: str) -> int:
        value = raw.get(key)
        return value if isinstance(value, int) else 0

    return Usage(
        input_tokens=count("input_tokens"),
        output_tokens=count("output_tokens"),
        cache_read_tokens=count("cached_input_tokens"),
        cache_write_tokens=count("cache_write_input_tokens"),
    )


def conclude(
    stream: CodexStream, exit_code: int | None, stderr: str = "", now: datetime | None = None
) -> Ending:
    """Judge a finished (or broken) stream; `exit_code` None means the process was killed."""
    if stream.failure is not None:
        return _failed(stream.failure, now or datetime.now(UTC))
    if stream.turns:
        return Ending(True, stream.last_text.strip() or "(the agent gave no summary)")
    how = "was killed" if exit_code is None else f"exited with code {exit_code}"
    said = stream.last_error or _last_line(stderr)
    if said and (_USAGE_LIMIT.search(said) or _LOGIN.search(said)):
        return _failed(said, now or datetime.now(UTC))
    detail = f"; it said: {said}" if said else ""
    return Ending(False, f"the agent's output stopped before its turn ended (it {how}){detail}")


def _failed(said: str, now: datetime) -> Ending:
    """A failed turn: a usage limit (with its reset time), a rate limit, a login problem, or else."""
    if _USAGE_LIMIT.search(said):
        return Ending(False, f"usage limit: {said}", True, reset_time(said, now))
    if _LOGIN.search(said):
        return Ending(False, said, login=True)
    if _OTHER_LIMIT.search(said):
        return Ending(False, said, True)
    return Ending(False, said)


def reset_time(said: str, now: datetime) -> datetime | None:
    """When codex says to try again, in UTC, rounded up to the next minute; None when it does not say."""
    found = _RESET.search(said)
    if found is None:
        return None
    hour = int(found["hour"]) % 12 + (12 if found["half"].upper() == "PM" else 0)
    if found["year"]:
        month = datetime.strptime(found["month"].title(), "%b").month
        day = datetime(int(found["year"]), month, int(found["day"]), tzinfo=UTC)
    else:
        day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(hours=hour, minutes=int(found["minute"]) + 1)


def _last_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
