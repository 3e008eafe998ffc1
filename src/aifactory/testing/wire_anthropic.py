"""The Anthropic Messages API wire format (`POST /v1/messages`), JSON and server-sent events.

Shapes follow https://docs.anthropic.com/en/api/messages and the streaming guide: what the official
SDK and pydantic-ai's `AnthropicModel` send and parse. The SDK authenticates with `x-api-key` or, in
recent versions, `Authorization: Bearer`; both are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from aifactory.testing.scenario import (
    ErrorEvent,
    HttpError,
    SimMessage,
    SimReply,
    SimRequest,
    SimToolCall,
    SimToolResult,
)
from aifactory.testing.tokens import Segment, Usage, canonical
from aifactory.testing.wire import (
    SSE_CONTENT_TYPE,
    BadRequest,
    Exchange,
    arguments_json,
    bearer_token,
    objects_only,
    pieces,
    sse,
    status_phrase,
    text_chunks,
)

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "Not found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timeout"),
    529: ("overloaded_error", "Overloaded"),
}
"""Status → (error type, message) as https://docs.anthropic.com/en/api/errors lists them."""

_CHAT_PATHS = frozenset({"/v1/messages"})

MAX_BREAKPOINTS = 4
"""Blocks with `cache_control` a request may carry, the top-level (automatic) one included."""

_STATUS_OF_TYPE = {error_type: status for status, (error_type, _) in _ERRORS.items()}

_TOOL_CHOICES: dict[str, Literal["auto", "required", "none"]] = {
    "auto": "auto",
    "any": "required",
    "tool": "required",
    "none": "none",
}


def _text(content: object) -> str:
    """The text of a string or a list of content blocks; other block kinds carry no text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text")
    raise BadRequest(f"content must be a string or a list of blocks, not {type(content).__name__}")


def _message(role: str, content: object) -> SimMessage:
    if role not in ("user", "assistant"):
        raise BadRequest(f"messages: unexpected role {role!r}")
    blocks = content if isinstance(content, list) else []
    calls = tuple(
        SimToolCall(b["id"], b["name"], dict(b.get("input") or {}))
        for b in blocks
        if b.get("type") == "tool_use"
    )
    results = tuple(
        SimToolResult(b["tool_use_id"], _text(b.get("content")), bool(b.get("is_error", False)))
        for b in blocks
        if b.get("type") == "tool_result"
    )
    return SimMessage(
        role="user" if role == "user" else "assistant",
        text=_text(content),
        tool_calls=calls,
        tool_results=results,
    )


def _count_breakpoints(body: Mapping[str, Any]) -> int:
    system = body.get("system")
    blocks = [
        *(body.get("tools") or []),
        *(system if isinstance(system, list) else []),
        *(
            block
            for message in body.get("messages") or []
            if isinstance(message.get("content"), list)
            for block in message["content"]
        ),
    ]
    marked = sum(1 for block in blocks if isinstance(block, dict) and "cache_control" in block)
    return marked + (1 if body.get("cache_control") else 0)


def _without_cache_control(block: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in block.items() if key != "cache_control"}


def _blocks(reply: SimReply, exchange: Exchange) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text or not reply.tool_calls:
        blocks.append({"type": "text", "text": reply.text})
    for index, (name, args) in enumerate(reply.tool_calls):
        blocks.append(
            {"type": "tool_use", "id": exchange.make_id("toolu_", index), "name": name, "input": args}
        )
    return blocks


def _message_body(reply: SimReply, exchange: Exchange, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": exchange.make_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": exchange.sim.model,
        "content": content,
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": _usage(exchange.usage, exchange.usage.output_tokens),
    }


def _usage(usage: Usage, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.cache_creation_input_tokens,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _block_events(index: int, block: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Start, deltas and stop of one content block, as the API streams it."""
    start: dict[str, Any]
    if block["type"] == "text":
        start = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": chunk} for chunk in text_chunks(block["text"])]
    else:
        start = {**block, "input": {}}
        partial = ["", *pieces(arguments_json(block["input"]))]
        deltas = [{"type": "input_json_delta", "partial_json": chunk} for chunk in partial]
    return [
        {"type": "content_block_start", "index": index, "content_block": start},
        *({"type": "content_block_delta", "index": index, "delta": d} for d in deltas),
        {"type": "content_block_stop", "index": index},
    ]


def stream_events(reply: SimReply, exchange: Exchange) -> list[dict[str, Any]]:
    """The Messages API's stream as JSON objects, before framing: server-sent events here, AWS event
    stream chunks on Bedrock's InvokeModelWithResponseStream (`wire_bedrock_invoke.py`)."""
    start = {**_message_body(reply, exchange, []), "stop_reason": None}
    start["usage"] = _usage(exchange.usage, 1)
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
    for index, block in enumerate(_blocks(reply, exchange)):
        events.extend(_block_events(index, block))
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
        "usage": _usage(exchange.usage, exchange.usage.output_tokens),
    }
    return [*events, delta, {"type": "message_stop"}]


class AnthropicWire:
    """The Messages API: `POST /v1/messages` (also with `?beta=true`, as Claude Code sends it)."""

    request_id_header = "request-id"
    stream_content_type = SSE_CONTENT_TYPE
    min_cached_tokens = 1024
    """Claude Sonnet and Opus 4.1 cache nothing shorter (Haiku and newer Opus need more)."""

    def serves(self, route: str) -> bool:
        return route in _CHAT_PATHS

    def credential(self, headers: Mapping[str, str]) -> str:
        return headers.get("x-api-key", "").strip() or bearer_token(headers)

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str], path: str) -> SimRequest:
        try:
            found = _count_breakpoints(body)
            if found > MAX_BREAKPOINTS:
                limit = f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided."
                raise BadRequest(f"{limit} Found {found}.")
            system = [_text(body.get("system"))]
            messages: list[SimMessage] = []
            for message in body["messages"]:
                if message["role"] == "system":
                    system.append(_text(message["content"]))
                else:
                    messages.append(_message(message["role"], message["content"]))
            tools = {tool["name"]: dict(tool.get("input_schema") or {}) for tool in body.get("tools") or []}
            choice = body.get("tool_choice") or {}
            return SimRequest(
                protocol="anthropic",
                model=str(body["model"]),
                system="\n\n".join(part for part in system if part),
                messages=tuple(messages),
                tools=tools,
                tool_choice=_TOOL_CHOICES.get(choice.get("type", "")),
                forced_tool=choice.get("name") if choice.get("type") == "tool" else None,
                stream=bool(body.get("stream", False)),
                max_tokens=body.get("max_tokens"),
                headers=dict(headers),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise BadRequest(f"malformed Messages API request: {error!r}") from error

    def segments(self, body: Mapping[str, Any]) -> list[Segment]:
        """Tools, then system, then messages: the order Anthropic builds its cache prefix in."""
        segments = [
            Segment(canonical(_without_cache_control(t)), "cache_control" in t)
            for t in body.get("tools") or []
        ]
        system = body.get("system") or []
        for block in [{"type": "text", "text": system}] if isinstance(system, str) else system:
            segments.append(
                Segment(canonical(["system", _without_cache_control(block)]), "cache_control" in block)
            )
        for message in body.get("messages") or []:
            content = message["content"]
            for block in [{"type": "text", "text": content}] if isinstance(content, str) else content:
                text = canonical([message["role"], _without_cache_control(block)])
                segments.append(Segment(text, "cache_control" in block))
        if body.get("cache_control") and segments:
            segments[-1] = Segment(segments[-1].text, breakpoint=True)
        return segments

    def message(self, reply: SimReply, exchange: Exchange) -> dict[str, Any]:
        objects_only([tool_input for _, tool_input in reply.tool_calls])
        return _message_body(reply, exchange, _blocks(reply, exchange))

    def events(self, reply: SimReply, exchange: Exchange) -> list[bytes]:
        return [sse(event, event["type"]) for event in stream_events(reply, exchange)]

    def error_body(self, fault: HttpError) -> dict[str, Any]:
        default_type, default_message = _ERRORS.get(fault.status) or (
            "api_error",
            status_phrase(fault.status),
        )
        error = {"type": fault.error_type or default_type, "message": fault.message or default_message}
        return {"type": "error", "error": error}

    def error_headers(self, fault: HttpError) -> dict[str, str]:
        return {}

    def error_event(self, fault: ErrorEvent) -> bytes:
        return sse({"type": "error", "error": {"type": fault.error_type, "message": fault.message}}, "error")

    def as_http_error(self, fault: ErrorEvent) -> HttpError:
        return HttpError(_STATUS_OF_TYPE.get(fault.error_type, 500), fault.error_type, fault.message)

    def unauthorized(self, credential: str) -> HttpError:
        message = "invalid x-api-key" if credential else "x-api-key header is required"
        return HttpError(401, "authentication_error", message)

    def model_not_found(self, model: str) -> HttpError:
        return HttpError(404, "not_found_error", f"model: {model}")

    def models(self, names: Sequence[str]) -> dict[str, Any]:
        data = [
            {"type": "model", "id": name, "display_name": name, "created_at": "2025-01-01T00:00:00Z"}
            for name in names
        ]
        return {
            "data": data,
            "has_more": False,
            "first_id": names[0] if names else None,
            "last_id": names[-1] if names else None,
        }
