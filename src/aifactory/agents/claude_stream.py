"""Reading Claude Code's `--output-format stream-json` as it streams, and judging how the run ended.

The CLI prints one JSON object per line: `system` (`init` with the session id, `api_retry` while it
retries a 429 or 529), `assistant` turns (text and `tool_use` blocks), `user` turns (tool results),
`rate_limit_event` (the subscription's limit, with `resetsAt`), and a final `result` (success or
error, the answer, usage, cost, duration). `ClaudeStream.feed` takes each line as it arrives, keeping
only counters and the last answer, so a long run costs no memory; event types it does not know are
ignored, because newer CLIs add some. Each tool call goes to `on_tool` when its result arrives (so
whether it failed is known); calls still waiting for one when the stream ends go out from `flush`.
`conclude` turns what was seen into success, a limit (the factory moves the step to the next
choice) or a failure with its reason. Pure: no I/O here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aifactory.agents.base import Ending, ToolCall, ToolSink, ignore_tool
from aifactory.domain.usage import Usage

_LIMIT_TEXT = re.compile(r"You've hit your .*limit|usage limit reached", re.IGNORECASE)
_OLD_LIMIT = re.compile(r"Claude AI usage limit reached\|(\d+)")
"""Claude Code 1.x ended a subscription's run with `Claude AI usage limit reached|<epoch>`."""
_LOGIN_TEXT = re.compile(r"Not logged in|Invalid API key|OAuth token|/login", re.IGNORECASE)
_TARGETS = ("file_path", "notebook_path", "command", "pattern", "path", "url", "query", "description")
"""The input that says what a Claude Code tool acted on, in order of preference (`Bash`: command)."""
_LIMIT_STATUSES = frozenset({429, 529})
_AUTH_STATUSES = frozenset({401, 403})


@dataclass
class ClaudeStream:
    """What the stream said so far; feed it lines in order, then `conclude`."""

    session_id: str | None = None
    version: str | None = None
    tool_calls: int = 0
    retries: int = 0
    last_text: str = ""
    result: dict[str, Any] | None = None
    limit_until: datetime | None = None
    limit_kind: str = ""
    unreadable: int = 0
    retry_delay_s: float | None = None
    """How long the CLI last waited before retrying a 429 or 529: the server's retry-after, if it sent one."""
    on_tool: ToolSink = ignore_tool
    root: str = ""
    """The worktree, left out of the paths tool calls report."""
    _pending: dict[str, ToolCall] = field(default_factory=dict)
    """Tool calls by id, waiting for their result."""
    _turns: dict[str, Usage] = field(default_factory=dict)
    """Usage per assistant message id: what is known when the stream breaks before its result."""

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
        if isinstance(event.get("session_id"), str):
            self.session_id = event["session_id"]
        if kind == "system" and event.get("subtype") == "init":
            self.version = event.get("claude_code_version")
        elif kind == "system" and event.get("subtype") == "api_retry":
            self.retries += 1
            delay = event.get("retry_delay_ms")
            if isinstance(delay, int | float) and event.get("error_status") in _LIMIT_STATUSES:
                self.retry_delay_s = delay / 1000
        elif kind == "assistant":
            self._assistant(event.get("message") or {})
        elif kind == "user":
            self._results(event.get("message") or {})
        elif kind == "rate_limit_event":
            self._rate_limit(event.get("rate_limit_info") or {})
        elif kind == "result":
            self.result = event

    def _assistant(self, message: dict[str, Any]) -> None:
        blocks = message.get("content") or []
        for block in blocks:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                self.tool_calls += 1
                self._pending[str(block.get("id"))] = self._tool(block)
        texts = [b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)]
        if texts:
            self.last_text = "\n".join(texts)
        if isinstance(message.get("id"), str) and isinstance(message.get("usage"), dict):
            self._turns[message["id"]] = usage_of(message["usage"])

    def _tool(self, block: dict[str, Any]) -> ToolCall:
        tool = str(block.get("name") or "?")
        given = block.get("input")
        given = given if isinstance(given, dict) else {}
        target = next((str(given[key]) for key in _TARGETS if given.get(key)), "")
        if self.root:
            target = target.removeprefix(self.root.rstrip("/") + "/")
        return ToolCall.of(tool, target)

    def _results(self, message: dict[str, Any]) -> None:
        blocks = message.get("content")
        for block in blocks if isinstance(blocks, list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                call = self._pending.pop(str(block.get("tool_use_id")), None)
                if call is not None:
                    self.on_tool(ToolCall(call.tool, call.target, ok=not block.get("is_error")))

    def flush(self) -> None:
        """Report the calls that got no result (the stream was cut, or the turn limit came first)."""
        for call in self._pending.values():
            self.on_tool(ToolCall(call.tool, call.target, ok=False))
        self._pending.clear()

    def _rate_limit(self, info: dict[str, Any]) -> None:
        if info.get("status") != "rejected":
            return
        self.limit_kind = str(info.get("rateLimitType") or "usage")
        resets = info.get("resetsAt")
        if isinstance(resets, int | float):
            self.limit_until = datetime.fromtimestamp(resets, UTC)

    @property
    def usage(self) -> Usage:
        """Tokens and cost of the whole run: the result's totals, else what the turns reported."""
        if self.result is not None and isinstance(self.result.get("usage"), dict):
            cost = self.result.get("total_cost_usd")
            priced = Decimal(str(cost)) if isinstance(cost, int | float) else None
            return usage_of(self.result["usage"]).model_copy(update={"cost": priced})
        return sum(self._turns.values(), Usage())


def usage_of(raw: dict[str, Any]) -> Usage:
    """The ledger's convention: input tokens include the cache reads and writes, counted apart too."""

    def count(key: str) -> int:
        value = raw.get(key)
        return value if isinstance(value, int) else 0

    read, written = count("cache_read_input_tokens"), count("cache_creation_input_tokens")
    return Usage(
        input_tokens=count("input_tokens") + read + written,
        output_tokens=count("output_tokens"),
        cache_read_tokens=read,
        cache_write_tokens=written,
    )


def conclude(stream: ClaudeStream, exit_code: int | None, stderr: str = "") -> Ending:
    """Judge a finished (or broken) stream; `exit_code` None means the process was killed."""
    result = stream.result
    if result is None:
        return _broken(stream, exit_code, stderr)
    text = str(result.get("result") or stream.last_text or "").strip()
    limit = _limit(stream, result, text)
    if limit is not None:
        return limit
    status = result.get("api_error_status")
    if result.get("is_error") and (status in _AUTH_STATUSES or _LOGIN_TEXT.search(text)):
        return Ending(False, text or f"API error {status}", login=True)
    subtype = str(result.get("subtype") or "")
    if subtype == "error_max_turns":
        return Ending(False, f"did not finish within its turn limit ({result.get('num_turns')} turns)")
    if result.get("is_error") or subtype != "success":
        return Ending(False, text or f"the run ended with {subtype or 'an error'}")
    return Ending(True, text or "(the agent gave no summary)")


def _limit(stream: ClaudeStream, result: dict[str, Any], text: str) -> Ending | None:
    """The subscription's usage limit (with its reset time when known), or a 429/529 after retries;
    in Bedrock mode the CLI reports Bedrock's ThrottlingException, before or inside the stream, as a 429."""
    if stream.limit_kind or result.get("api_error") == "usage_limit_reached":
        return Ending(
            False, f"usage limit ({stream.limit_kind or 'usage'}): {text}", True, stream.limit_until
        )
    old = _OLD_LIMIT.search(text)
    if old:
        return Ending(False, "usage limit reached", True, datetime.fromtimestamp(int(old.group(1)), UTC))
    if not result.get("is_error"):
        return None
    if _LIMIT_TEXT.search(text):
        return Ending(False, f"usage limit: {text}", True)
    status = result.get("api_error_status")
    if status in _LIMIT_STATUSES:
        tried = f" after {stream.retries} retries of its own" if stream.retries else ""
        return Ending(False, f"API error {status}{tried}: {text}", True)
    return None


def _broken(stream: ClaudeStream, exit_code: int | None, stderr: str) -> Ending:
    """No result line: the stream was cut (a crash, a kill, a closed pipe), so the step did not finish."""
    how = "was killed" if exit_code is None else f"exited with code {exit_code}"
    said = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if _LOGIN_TEXT.search(said):
        return Ending(False, said, login=True)
    if stream.limit_kind:
        return Ending(False, f"usage limit ({stream.limit_kind})", True, stream.limit_until)
    detail = f"; stderr: {said}" if said else ""
    return Ending(False, f"the agent's output stopped before its result (it {how}){detail}")
