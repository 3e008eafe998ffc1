"""Reading Gemini CLI's `--output-format stream-json` as it streams, and judging how the run ended.

The CLI prints one JSON object per line: `init` (session id, model), `message` (the user's prompt, then
the model's text in `delta` pieces), `tool_use` and `tool_result`, `error` (a warning or an error the
run goes on after, such as a detected loop), and a final `result` (`status` success or error, the
error's message, and `stats` with the run's tokens and tool calls). The result names no HTTP status:
a quota or rate limit is told by its message ("Suggested retry after 30s.", "You have exhausted your
daily quota", "Resource has been exhausted") and ends as a limit, so the factory gives the step to its
next choice. `GeminiStream.feed` keeps only counters and the latest turn's text; event types it does
not know are ignored. Pure: no I/O here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aifactory.agents.base import Ending, ToolCall, ToolSink, ignore_tool
from aifactory.domain.usage import Usage

_RETRY_AFTER = re.compile(r"(?:Suggested retry after|Please retry in) ([0-9.]+)(ms|s)\b")
_LIMIT_TEXT = re.compile(
    r"exhausted your (?:daily )?(?:quota|capacity)|Quota exceeded|Resource has been exhausted|"
    r"RESOURCE_EXHAUSTED|rate limit|model is overloaded|capacity exceeded",
    re.IGNORECASE,
)
_LOGIN_TEXT = re.compile(
    r"API key not valid|must specify the GEMINI_API_KEY|Please set an Auth method|UNAUTHENTICATED|"
    r"PERMISSION_DENIED|unregistered callers",
    re.IGNORECASE,
)
_TURN_LIMIT = re.compile(r"max(?:imum)? session turns", re.IGNORECASE)
AUTH_EXIT = 41
"""Gemini CLI's exit code when no login or key is configured (`FATAL_AUTHENTICATION_ERROR`)."""


@dataclass
class GeminiStream:
    """What the stream said so far; feed it lines in order, then `conclude`.

    Each tool call goes to `on_tool` when its `tool_result` arrives (so it says whether it worked),
    and calls left without a result when the stream ends go with `flush`.
    """

    on_tool: ToolSink = ignore_tool
    session_id: str | None = None
    model: str | None = None
    tool_calls: int = 0
    failed_tools: int = 0
    errors: list[str] = field(default_factory=list)
    """Messages of `error` events (warnings too), oldest first."""
    result: dict[str, Any] | None = None
    unreadable: int = 0
    _text: list[str] = field(default_factory=list)
    """The model's text since its last tool call: the final answer once the run ends."""
    _pending: dict[str, ToolCall] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """The result event was read: nothing more is needed from the stream."""
        return self.result is not None

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
        if kind == "init":
            self.session_id = event.get("session_id") if isinstance(event.get("session_id"), str) else None
            self.model = event.get("model") if isinstance(event.get("model"), str) else None
        elif kind == "message" and event.get("role") == "assistant":
            content = event.get("content")
            if isinstance(content, str):
                self._text.append(content)
        elif kind == "tool_use":
            self.tool_calls += 1
            self._text.clear()
            self._pending[str(event.get("tool_id"))] = _tool(event)
        elif kind == "tool_result":
            failed = event.get("status") == "error"
            self.failed_tools += failed
            call = self._pending.pop(str(event.get("tool_id")), None)
            if call is not None:
                self.on_tool(ToolCall(call.tool, call.target, ok=not failed))
        elif kind == "error" and isinstance(event.get("message"), str):
            self.errors.append(event["message"])
        elif kind == "result":
            self.result = event

    def flush(self) -> None:
        """Report the calls that got no result (the stream was cut, or the turn limit came first)."""
        for call in self._pending.values():
            self.on_tool(ToolCall(call.tool, call.target, ok=False))
        self._pending.clear()

    @property
    def last_text(self) -> str:
        """The model's answer after its last tool call."""
        return "".join(self._text).strip()

    @property
    def usage(self) -> Usage:
        """Tokens of the whole run from the result's `stats`; `input_tokens` includes the cached ones."""
        stats = (self.result or {}).get("stats")
        if not isinstance(stats, dict):
            return Usage()

        def count(key: str) -> int:
            value = stats.get(key)
            return value if isinstance(value, int) else 0

        return Usage(
            input_tokens=count("input_tokens"),
            output_tokens=count("output_tokens"),
            cache_read_tokens=count("cached"),
        )


def _tool(event: dict[str, Any]) -> ToolCall:
    """A `tool_use` event as the ledger keeps it: the tool and the path or command it acted on."""
    given = event.get("parameters")
    given = given if isinstance(given, dict) else {}
    target = next(
        (str(given[key]) for key in ("file_path", "command", "path", "pattern") if given.get(key)), ""
    )
    return ToolCall.of(str(event.get("tool_name") or "?"), target)


def conclude(stream: GeminiStream, exit_code: int | None, stderr: str = "") -> Ending:
    """Judge a finished (or broken) stream; `exit_code` None means the process was killed."""
    result = stream.result
    if result is None:
        return _broken(exit_code, stderr)
    if result.get("status") == "success":
        return Ending(True, stream.last_text or "(the agent gave no summary)")
    error = result.get("error")
    said = error.get("message") if isinstance(error, dict) else None
    text = " ".join(str(said or (stream.errors[-1] if stream.errors else "")).split())
    if limit := _limit(text, result.get("timestamp")):
        return limit
    if _LOGIN_TEXT.search(text):
        return Ending(False, text, login=True)
    if _TURN_LIMIT.search(text) or any(_TURN_LIMIT.search(e) for e in stream.errors):
        return Ending(False, f"did not finish within its turn limit ({text})")
    return Ending(False, text or f"the run ended with status {result.get('status')!r}")


def _limit(text: str, timestamp: object) -> Ending | None:
    """A quota or rate limit, back after the delay the API suggested (counted from the result's time)."""
    delay = _RETRY_AFTER.search(text)
    if delay is None and not _LIMIT_TEXT.search(text):
        return None
    until = None
    if delay is not None and isinstance(timestamp, str):
        amount = float(delay.group(1)) / (1000 if delay.group(2) == "ms" else 1)
        try:
            until = datetime.fromisoformat(timestamp) + timedelta(seconds=amount)
        except ValueError:
            until = None
    return Ending(False, f"quota or rate limit: {text}", limited=True, until=until)


def _broken(exit_code: int | None, stderr: str) -> Ending:
    """No result line: the CLI refused to start (no login) or its output was cut short."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = next((line for line in lines if _LOGIN_TEXT.search(line)), lines[-1] if lines else "")
    if exit_code == AUTH_EXIT or _LOGIN_TEXT.search(said):
        return Ending(False, said or "no login or API key configured", login=True)
    how = "was killed" if exit_code is None else f"exited with code {exit_code}"
    detail = f"; stderr: {said}" if said else ""
    return Ending(False, f"the agent's output stopped before its result (it {how}){detail}")
