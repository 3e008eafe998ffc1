"""Reading Aider's plain-text output as it streams, and judging how the run ended.

Aider has no machine-readable output: with `--no-pretty --no-stream` it prints its banner, the
model's reply as text, a usage report per model request (`Tokens: 2.8k sent, 24 received.` and, for
a model with known prices, `Cost: $0.01 message, $0.02 session.`), `Applied edit to PATH` per file
it changed, and errors as litellm prints them (`litellm.RateLimitError: ...` followed by Aider's
description and `Retrying in 0.2 seconds...`). It exits 0 even when the model call failed, so the
verdict comes from these lines. Token counts above 1000 are rounded by Aider ("2.8k"): the ledger
gets them as printed. `AiderOutput.feed` keeps counters and the last reply only; lines it does not
know are the model's text or Aider's chatter, never fatal. Pure: no I/O here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from aifactory.agents.base import Ending, ToolCall, ToolSink, ignore_tool
from aifactory.domain.usage import Usage

_TOKENS = re.compile(
    r"^Tokens: (?P<sent>[\d.]+[kM]?) sent(?:, (?P<write>[\d.]+[kM]?) cache write)?"
    r"(?:, (?P<hit>[\d.]+[kM]?) cache hit)?, (?P<received>[\d.]+[kM]?) received\."
)
_SESSION_COST = re.compile(r"Cost: \$(?P<message>[\d.]+) message, \$(?P<session>[\d.]+) session\.")
_APPLIED = re.compile(r"^Applied edit to (?P<path>.+)$")
_ERROR = re.compile(r"^litellm\.(?P<name>\w+Error|Timeout): (?P<text>.*)$")
_LIMIT_ERRORS = frozenset({"RateLimitError", "RouterRateLimitError"})
_OVERLOAD_ERRORS = frozenset({"InternalServerError", "ServiceUnavailableError", "BadGatewayError"})
_LIMIT_TEXT = re.compile(r"\bError (?:429|529)\b|overloaded|rate limit", re.IGNORECASE)
"""An overload can arrive as a plain `APIError` ("Error 529"), depending on litellm's provider."""
_LOGIN_ERRORS = frozenset({"AuthenticationError", "PermissionDeniedError"})
_RETRYING = re.compile(r"^Retrying in [\d.]+ seconds")
_MALFORMED = "The LLM did not conform to the edit format."
_GAVE_UP = re.compile(r"^Only \d+ reflections allowed, stopping\.")
_SCALE = {"": 1, "k": 1000, "M": 1_000_000}


def tokens(printed: str) -> int:
    """Aider's `format_tokens` read back: "703", "2.8k", "12k" (rounded as printed)."""
    unit = printed[-1] if printed[-1] in "kM" else ""
    number = printed[: len(printed) - len(unit)]
    return round(Decimal(number) * _SCALE[unit])


@dataclass
class AiderOutput:
    """What Aider printed so far; feed it lines in order, then `conclude`.

    Aider has no tool calls of its own: each edit it applied goes to `on_tool` as an `edit` of that file.
    """

    on_tool: ToolSink = ignore_tool
    applied: list[str] = field(default_factory=list)
    sent: int = 0
    received: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cost: Decimal | None = None
    reports: int = 0
    """Usage reports seen: one per model answer Aider received."""
    limits: int = 0
    """Rate-limit or overload errors seen, each followed by one of Aider's own retries."""
    retries: int = 0
    malformed: int = 0
    gave_up: bool = False
    error: str = ""
    """The last error litellm raised, as `Name: text`; cleared by a later answer."""
    login: bool = False
    _reply: list[str] = field(default_factory=list)
    _last_reply: list[str] = field(default_factory=list)

    def feed(self, line: bytes | str) -> None:
        """Take one line of stdout; anything unrecognised is part of the model's reply."""
        text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
        text = text.rstrip("\r\n")
        if (tokens_seen := _TOKENS.match(text)) is not None:
            self._report(tokens_seen, text)
        elif (applied := _APPLIED.match(text)) is not None:
            self.applied.append(applied.group("path").strip())
            self.on_tool(ToolCall.of("edit", self.applied[-1]))
        elif (error := _ERROR.match(text)) is not None:
            self._error(error.group("name"), error.group("text"))
        elif text.startswith("Cost: $"):
            self._take_cost(text)
        elif _RETRYING.match(text):
            self.retries += 1
        elif text == _MALFORMED:
            self.malformed += 1
        elif _GAVE_UP.match(text):
            self.gave_up = True
        else:
            self._reply.append(text)

    def _report(self, found: re.Match[str], text: str) -> None:
        self.reports += 1
        self.sent += tokens(found.group("sent"))
        self.received += tokens(found.group("received"))
        self.cache_write += tokens(found.group("write")) if found.group("write") else 0
        self.cache_read += tokens(found.group("hit")) if found.group("hit") else 0
        self._take_cost(text)
        self._last_reply, self._reply = self._reply, []
        self.error = ""

    def _take_cost(self, text: str) -> None:
        cost = _SESSION_COST.search(text)
        if cost is not None:
            self.cost = Decimal(cost.group("session"))

    def _error(self, name: str, text: str) -> None:
        self.error = f"{name}: {text}"
        if name in _LIMIT_ERRORS or name in _OVERLOAD_ERRORS or _LIMIT_TEXT.search(text):
            self.limits += 1
        if name in _LOGIN_ERRORS:
            self.login = True

    @property
    def usage(self) -> Usage:
        """Tokens as Aider reported them; its `sent` already counts the cache writes."""
        return Usage(
            input_tokens=self.sent + self.cache_read,
            output_tokens=self.received,
            cache_read_tokens=self.cache_read,
            cache_write_tokens=self.cache_write,
            cost=self.cost,
        )

    @property
    def summary(self) -> str:
        """The closing prose of the model's last answer (outside its code blocks), at most 2000 chars."""
        prose: list[str] = []
        fenced = False
        for line in self._last_reply:
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced:
                prose.append(line)
        paragraphs = [p.strip() for p in "\n".join(prose).split("\n\n") if p.strip()]
        return paragraphs[-1][:2000] if paragraphs else ""


def conclude(output: AiderOutput, exit_code: int | None, stderr: str = "") -> Ending:
    """Judge a finished (or stopped) run; `exit_code` None means the process was stopped or killed."""
    if output.login:
        return Ending(False, output.error, login=True)
    if output.limits and (output.error or exit_code is None):
        tried = f" after {output.retries} retries of its own" if output.retries else ""
        return Ending(False, f"{output.error or 'rate limited'}{tried}", limited=True)
    failure = _failure(output, exit_code, stderr.strip().splitlines()[-1] if stderr.strip() else "")
    if failure:
        return Ending(False, failure)
    edits = ", ".join(output.applied) if output.applied else "no files"
    return Ending(True, output.summary or f"Aider edited {edits}.")


def _failure(output: AiderOutput, exit_code: int | None, said: str) -> str:
    """Why the run did not finish the step, or "" when it did."""
    detail = f": {said}" if said else ""
    if exit_code is None:
        return said or "Aider was stopped before it finished"
    if exit_code != 0:
        return f"Aider exited with code {exit_code}{detail}"
    if output.error:
        return f"the model call failed: {output.error}"
    if output.gave_up:
        return f"the model's edits did not apply ({output.malformed} malformed replies)"
    if not output.reports:
        return f"Aider ended without an answer from the model{detail}"
    return ""
