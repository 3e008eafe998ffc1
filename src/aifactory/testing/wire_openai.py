"""The OpenAI Chat Completions wire format (`POST /v1/chat/completions`), JSON and server-sent events.

Shapes follow https://platform.openai.com/docs/api-reference/chat: what the official SDK and
pydantic-ai's `OpenAIChatModel` send and parse. Tool results arrive as separate `tool` messages; the
normalized view gathers consecutive ones into one user turn, as Anthropic's wire has them.
"""

from __future__ import annotations

import json
import time
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
from aifactory.testing.tokens import Segment, automatic_prefixes, canonical
from aifactory.testing.wire import (
    SSE_CONTENT_TYPE,
    BadRequest,
    Exchange,
    arguments_json,
    bearer_token,
    pieces,
    sse,
    status_phrase,
    text_chunks,
)

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", None, "You are not allowed to sample from this model."),
    404: ("invalid_request_error", None, "The requested resource does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
"""Status → (type, code, message), as https://platform.openai.com/docs/guides/error-codes shows them."""

_STATUS_OF_ERROR = {
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "requests": 429,
    "tokens": 429,
    "invalid_api_key": 401,
    "model_not_found": 404,
    "context_length_exceeded": 400,
    "invalid_request_error": 400,
    "server_is_overloaded": 503,
    "overloaded_error": 503,
}
"""The HTTP status of an error, by `code` or else `type`, for a request that was not streamed."""

_CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
"""With and without `/v1`, for base URLs configured either way."""

_TOOL_CHOICES: dict[str, Literal["auto", "required", "none"]] = {
    "auto": "auto",
    "required": "required",
    "none": "none",
}

_FINISH_REASONS = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}


def _text(content: object) -> str:
    """The text of a string or a list of content parts; images, audio and files carry no text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and p.get("type") == "text")
    raise BadRequest(f"content must be a string or a list of parts, not {type(content).__name__}")


def _tool_call(call: Mapping[str, Any]) -> SimToolCall:
    arguments = call["function"].get("arguments") or "{}"
    try:
        args = json.loads(arguments)
    except json.JSONDecodeError as error:
        raise BadRequest(f"tool call {call['id']}: arguments are not JSON: {arguments!r}") from error
    return SimToolCall(call["id"], call["function"]["name"], args)


def _append(messages: list[SimMessage], message: Mapping[str, Any]) -> None:
    """Add one wire message to the normalized conversation, merging consecutive tool results."""
    role, content = message["role"], message.get("content")
    if role == "user":
        messages.append(SimMessage(role="user", text=_text(content)))
    elif role == "assistant":
        calls = tuple(_tool_call(call) for call in message.get("tool_calls") or [])
        messages.append(SimMessage(role="assistant", text=_text(content), tool_calls=calls))
    elif role == "tool":
        result = SimToolResult(message["tool_call_id"], _text(content))
        previous = messages[-1] if messages else None
        if previous is not None and previous.role == "user" and previous.tool_results and not previous.text:
            messages[-1] = SimMessage(role="user", tool_results=(*previous.tool_results, result))
        else:
            messages.append(SimMessage(role="user", tool_results=(result,)))
    else:
        raise BadRequest(f"messages: unexpected role {role!r}")


def _tool_choice(choice: object) -> tuple[Literal["auto", "required", "none"] | None, str | None]:
    if isinstance(choice, str) and choice in _TOOL_CHOICES:
        return _TOOL_CHOICES[choice], None
    if isinstance(choice, dict) and choice.get("type") == "function":
        return "required", choice["function"]["name"]
    return ("auto" if choice else None), None


class OpenAIWire:
    """Chat Completions: `POST /v1/chat/completions`, or `/chat/completions` for base URLs without `/v1`."""

    request_id_header = "x-request-id"
    stream_content_type = SSE_CONTENT_TYPE
    min_cached_tokens = 1024

    def serves(self, route: str) -> bool:
        return route in _CHAT_PATHS

    def credential(self, headers: Mapping[str, str]) -> str:
        return bearer_token(headers)

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str], path: str) -> SimRequest:
        try:
            system: list[str] = []
            messages: list[SimMessage] = []
            for message in body["messages"]:
                if message["role"] in ("system", "developer"):
                    system.append(_text(message.get("content")))
                else:
                    _append(messages, message)
            tools = {
                tool["function"]["name"]: dict(tool["function"].get("parameters") or {})
                for tool in body.get("tools") or []
                if tool.get("type") == "function"
            }
            tool_choice, forced_tool = _tool_choice(body.get("tool_choice"))
            return SimRequest(
                protocol="openai",
                model=str(body["model"]),
                system="\n\n".join(part for part in system if part),
                messages=tuple(messages),
                tools=tools,
                tool_choice=tool_choice,
                forced_tool=forced_tool,
                stream=bool(body.get("stream", False)),
                max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
                headers=dict(headers),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise BadRequest(f"malformed Chat Completions request: {error!r}") from error

    def segments(self, body: Mapping[str, Any]) -> list[Segment]:
        """Tools, then messages, cached automatically wherever a prefix matches (`automatic_prefixes`)."""
        return automatic_prefixes(canonical([body.get("tools") or [], body.get("messages") or []]))

    def message(self, reply: SimReply, exchange: Exchange) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text or None,
            "refusal": None,
            "annotations": [],
        }
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": exchange.make_id("call_", index),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments_json(args)},
                }
                for index, (name, args) in enumerate(reply.tool_calls)
            ]
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": _FINISH_REASONS[reply.stop_reason],
        }
        return {
            **self._envelope(exchange, "chat.completion"),
            "choices": [choice],
            "usage": self._usage(exchange),
        }

    def events(self, reply: SimReply, exchange: Exchange) -> list[bytes]:
        include_usage = bool((exchange.body.get("stream_options") or {}).get("include_usage"))
        envelope = self._envelope(exchange, "chat.completion.chunk")
        if include_usage:
            envelope["usage"] = None

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return sse({**envelope, "choices": [choice]})

        events = [chunk({"role": "assistant", "content": "" if reply.text else None, "refusal": None})]
        events.extend(chunk({"content": text}) for text in text_chunks(reply.text))
        for index, (name, args) in enumerate(reply.tool_calls):
            opening = {"index": index, "id": exchange.make_id("call_", index), "type": "function"}
            events.append(chunk({"tool_calls": [{**opening, "function": {"name": name, "arguments": ""}}]}))
            events.extend(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
                for fragment in pieces(arguments_json(args))
            )
        events.append(chunk({}, _FINISH_REASONS[reply.stop_reason]))
        if include_usage:
            events.append(sse({**envelope, "choices": [], "usage": self._usage(exchange)}))
        return [*events, b"data: [DONE]\n\n"]

    def _envelope(self, exchange: Exchange, kind: str) -> dict[str, Any]:
        return {
            "id": exchange.make_id("chatcmpl-"),
            "object": kind,
            "created": int(time.time()),
            "model": exchange.sim.model,
            "service_tier": "default",
            "system_fingerprint": "fp_simulated",
        }

    def _usage(self, exchange: Exchange) -> dict[str, Any]:
        usage = exchange.usage
        return {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.prompt_tokens + usage.output_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cache_read_input_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def error_body(self, fault: HttpError) -> dict[str, Any]:
        kind = "server_error" if fault.status >= 500 else "invalid_request_error"
        default_type, default_code, default_message = _ERRORS.get(fault.status) or (
            kind,
            None,
            status_phrase(fault.status),
        )
        error = {
            "message": fault.message or default_message,
            "type": fault.error_type or default_type,
            "param": None,
            "code": fault.code or default_code,
            **fault.details,
        }
        return {"error": error}

    def error_headers(self, fault: HttpError) -> dict[str, str]:
        return {}

    def error_event(self, fault: ErrorEvent) -> bytes:
        return sse(
            {"error": {"message": fault.message, "type": fault.error_type, "param": None, "code": fault.code}}
        )

    def as_http_error(self, fault: ErrorEvent) -> HttpError:
        status = _STATUS_OF_ERROR.get(fault.code or "") or _STATUS_OF_ERROR.get(fault.error_type, 500)
        return HttpError(status, fault.error_type, fault.message, code=fault.code)

    def unauthorized(self, credential: str) -> HttpError:
        if credential:
            message = (
                "Incorrect API key provided. "
                "You can find your API key at https://platform.openai.com/account/api-keys."
            )
        else:
            message = (
                "You didn't provide an API key. Provide it in an Authorization header using Bearer auth."
            )
        return HttpError(401, "invalid_request_error", message, code="invalid_api_key")

    def model_not_found(self, model: str) -> HttpError:
        message = f"The model `{model}` does not exist or you do not have access to it."
        return HttpError(404, "invalid_request_error", message, code="model_not_found")

    def models(self, names: Sequence[str]) -> dict[str, Any]:
        data = [
            {"id": name, "object": "model", "created": 1735689600, "owned_by": "simulated"} for name in names
        ]
        return {"object": "list", "data": data}
