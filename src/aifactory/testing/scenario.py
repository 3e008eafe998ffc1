"""What a scenario sees and says: requests, replies and faults, the same for every wire protocol.

A scenario decides how the simulated model answers. It reads a `SimRequest` (the conversation as
plain data, whichever provider's format it arrived in) and returns a `SimReply` or a fault. Keeping
this view protocol-independent lets one scenario drive every provider's server alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

WireProtocol: TypeAlias = Literal[
    "anthropic",
    "openai",
    "openai-responses",
    "azure-openai",
    "azure-openai-responses",
    "bedrock",
    "gemini",
]
StopReason: TypeAlias = Literal["end_turn", "tool_use", "max_tokens"]
ToolInput: TypeAlias = dict[str, Any] | str
"""A tool call's input: an object, or text sent verbatim as the JSON of its arguments, valid or not."""


@dataclass(frozen=True)
class SimToolCall:
    """A tool call the model made earlier in the conversation."""

    id: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class SimToolResult:
    """The caller's answer to a tool call, as text."""

    call_id: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class SimMessage:
    """One turn of the conversation: what a user said or returned, or what the model said or called."""

    role: Literal["user", "assistant"]
    text: str = ""
    tool_calls: tuple[SimToolCall, ...] = ()
    tool_results: tuple[SimToolResult, ...] = ()

    @property
    def is_user_text(self) -> bool:
        """A fresh prompt from the user, as opposed to tool results travelling in a user turn."""
        return self.role == "user" and bool(self.text) and not self.tool_results


@dataclass(frozen=True)
class SimRequest:
    """A model request, normalized from either wire protocol.

    `tool_choice` is "auto", "required" (Anthropic's "any") or "none", or None when the request left
    it out; `forced_tool` names the tool the request insists on, if any. `headers` are lower-case.
    """

    protocol: WireProtocol
    model: str
    system: str = ""
    messages: tuple[SimMessage, ...] = ()
    tools: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    tool_choice: Literal["auto", "required", "none"] | None = None
    forced_tool: str | None = None
    stream: bool = False
    max_tokens: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def prompt(self) -> str:
        """All user text of the conversation, one message per line."""
        return "\n".join(m.text for m in self.messages if m.role == "user" and m.text)

    @property
    def last_user_text(self) -> str:
        """The latest fresh prompt from the user, or "" when there is none."""
        return next((m.text for m in reversed(self.messages) if m.is_user_text), "")

    def offers(self, tool_name: str) -> bool:
        """Whether the request lets the model call `tool_name`."""
        return tool_name in self.tools and self.tool_choice != "none"

    def _since_user(self) -> tuple[SimMessage, ...]:
        last = max((i for i, m in enumerate(self.messages) if m.is_user_text), default=-1)
        return self.messages[last + 1 :]

    def turns_since_user(self) -> int:
        """How many model turns happened since the latest fresh prompt: a stateless tool-loop counter."""
        return sum(1 for m in self._since_user() if m.role == "assistant")

    def results_since_user(self) -> tuple[SimToolResult, ...]:
        """The tool results returned since the latest fresh prompt, oldest first."""
        return tuple(r for m in self._since_user() for r in m.tool_results)

    def find_results(self, tool_name: str) -> tuple[SimToolResult, ...]:
        """Every result in the conversation of a call to `tool_name`, oldest first."""
        call_ids = {c.id for m in self.messages for c in m.tool_calls if c.name == tool_name}
        return tuple(r for m in self.messages for r in m.tool_results if r.call_id in call_ids)


@dataclass(frozen=True)
class SimReply:
    """What the model answers: text, tool calls, or both.

    `stop` defaults to "tool_use" when there are tool calls and "end_turn" otherwise; say
    "max_tokens" to simulate a truncated answer. `input_tokens` / `output_tokens` override the
    simulated counts, for budget tests that need large numbers. A tool call's input given as text
    (`call_tool_raw`) goes out as its arguments' JSON verbatim; Anthropic and Bedrock carry the input
    as an object in a JSON answer, so there it can only be streamed.
    """

    text: str = ""
    tool_calls: tuple[tuple[str, ToolInput], ...] = ()
    stop: StopReason | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    @property
    def stop_reason(self) -> StopReason:
        """The stop reason the wire reports."""
        if self.stop is not None:
            return self.stop
        return "tool_use" if self.tool_calls else "end_turn"


def reply_text(text: str) -> SimReply:
    """A plain text answer that ends the turn."""
    return SimReply(text=text)


def call_tool(name: str, /, **args: Any) -> SimReply:
    """An answer that calls one tool with keyword arguments as its input."""
    return SimReply(tool_calls=((name, args),))


def call_tool_raw(name: str, arguments: str) -> SimReply:
    """An answer that calls one tool with `arguments` as the JSON text of its input, e.g. malformed JSON."""
    return SimReply(tool_calls=((name, arguments),))


def call_tools(calls: list[tuple[str, ToolInput]], text: str = "") -> SimReply:
    """An answer that calls several tools in one turn (parallel tool calls), optionally after some text."""
    return SimReply(text=text, tool_calls=tuple(calls))


@dataclass(frozen=True)
class HttpError:
    """An HTTP error response in the provider's own error body.

    Leave `error_type`, `message` and `code` out to get what the provider sends for `status`
    (e.g. 529 becomes Anthropic's `overloaded_error`). `code` only shows on the OpenAI wire.
    Put `retry-after` and rate-limit headers in `headers`.
    """

    status: int
    error_type: str | None = None
    message: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    code: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)
    """More fields of the OpenAI error object, e.g. a ChatGPT plan's `resets_at` on `usage_limit_reached`."""


@dataclass(frozen=True)
class DropStream:
    """A 200 whose body breaks off: `after_events` events of `partial` are sent, then the connection closes.

    A request that was not streamed gets half of its JSON body instead.
    """

    after_events: int = 0
    partial: SimReply = SimReply(text="This answer never finishes because the connection")


@dataclass(frozen=True)
class ErrorEvent:
    """An error reported inside a stream after a 200: `after_events` events of `partial`, then the error.

    Anthropic sends an `event: error`; OpenAI a `data: {"error": ...}` chunk; the Responses API the
    `event` named, `response.failed` (the response's own error) or a bare `error`. A request that was
    not streamed gets the HTTP error the provider uses for that error type instead.
    """

    after_events: int = 0
    error_type: str = "overloaded_error"
    message: str = "Overloaded"
    code: str | None = None
    partial: SimReply = SimReply(text="This answer is interrupted by")
    event: Literal["response.failed", "error"] = "response.failed"


@dataclass(frozen=True)
class Delay:
    """Wait `seconds` before the first byte, then answer with `then` (to test client timeouts)."""

    seconds: float
    then: Answer = SimReply()


Fault: TypeAlias = HttpError | DropStream | ErrorEvent | Delay
Answer: TypeAlias = SimReply | Fault


def no_rule_matched(request: SimRequest, why: str = "no rule matched the request") -> HttpError:
    """The 500 a scenario answers when it has nothing scripted for `request`, saying what the request held."""
    tools = ", ".join(request.tools) or "none"
    message = (
        f"NoRuleMatched: {why}. The {request.protocol} request for model {request.model!r} offered tools "
        f"[{tools}]; its prompt starts: {request.prompt[:200]!r}"
    )
    return HttpError(500, message=message)
