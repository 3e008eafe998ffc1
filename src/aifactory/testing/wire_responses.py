"""OpenAI's Responses API (`POST /v1/responses`): a response object as JSON, or its semantic events.

Shapes follow https://platform.openai.com/docs/api-reference/responses and the openai SDK's types
(`openai.types.responses`), which pydantic-ai's `OpenAIResponsesModel` parses. A turn arrives as input
items: messages, and the model's `function_call`s and their `function_call_output`s, each its own item;
the normalized view gathers an assistant turn's items into one message and consecutive outputs into one
user turn, as the other wires have them. A stream is named events numbered by `sequence_number`, ending
in `response.completed` (or `response.incomplete`); a failure mid-stream is `response.failed` or `error`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from aifactory.testing.scenario import (
    ErrorEvent,
    SimMessage,
    SimReply,
    SimRequest,
    SimToolCall,
    SimToolResult,
)
from aifactory.testing.tokens import Segment, automatic_prefixes, canonical
from aifactory.testing.wire import BadRequest, Exchange, arguments_json, pieces, sse, text_chunks
from aifactory.testing.wire_openai import OpenAIWire

_RESPONSES_PATHS = frozenset({"/v1/responses", "/responses"})
"""With and without `/v1`, for base URLs configured either way."""

_MODES: dict[str, Literal["auto", "required", "none"]] = {
    "auto": "auto",
    "required": "required",
    "none": "none",
}

_ASSISTANT_ITEMS = frozenset({"function_call", "reasoning"})
"""Input items the model produced besides its messages: they belong to the assistant's turn."""


def _text(content: object) -> str:
    """The text of a string or a list of content parts (`input_text`, `output_text`); others carry none."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        kinds = ("input_text", "output_text", "text")
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and p.get("type") in kinds)
    raise BadRequest(f"content must be a string or a list of parts, not {type(content).__name__}")


def _function_call(item: Mapping[str, Any]) -> SimToolCall:
    arguments = item.get("arguments") or "{}"
    try:
        args = json.loads(arguments)
    except json.JSONDecodeError as error:
        raise BadRequest(f"function_call {item['call_id']}: arguments are not JSON: {arguments!r}") from error
    return SimToolCall(item["call_id"], item["name"], args)


def _append(messages: list[SimMessage], item: Mapping[str, Any]) -> None:
    """Add one input item to the normalized conversation, merging the items of one turn."""
    kind = item.get("type", "message")
    previous = messages[-1] if messages else None
    if kind == "function_call_output":
        result = SimToolResult(item["call_id"], _text(item.get("output")))
        if previous is not None and previous.role == "user" and previous.tool_results and not previous.text:
            messages[-1] = SimMessage(role="user", tool_results=(*previous.tool_results, result))
        else:
            messages.append(SimMessage(role="user", tool_results=(result,)))
    elif kind in _ASSISTANT_ITEMS or (kind == "message" and item["role"] == "assistant"):
        text = _text(item.get("content")) if kind == "message" else ""
        calls = (_function_call(item),) if kind == "function_call" else ()
        if previous is not None and previous.role == "assistant":
            joined = "\n".join(part for part in (previous.text, text) if part)
            messages[-1] = SimMessage("assistant", joined, (*previous.tool_calls, *calls))
        else:
            messages.append(SimMessage("assistant", text, calls))
    elif kind == "message" and item["role"] == "user":
        messages.append(SimMessage(role="user", text=_text(item.get("content"))))
    else:
        raise BadRequest(f"input: unexpected item {kind!r} with role {item.get('role')!r}")


def _tool_choice(choice: object) -> tuple[Literal["auto", "required", "none"] | None, str | None]:
    if isinstance(choice, str) and choice in _MODES:
        return _MODES[choice], None
    if isinstance(choice, dict) and choice.get("type") == "function":
        return "required", choice["name"]
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        allowed = [tool["name"] for tool in choice.get("tools") or [] if tool.get("type") == "function"]
        mode = _MODES.get(str(choice.get("mode")), "auto")
        return mode, (allowed[0] if mode == "required" and len(allowed) == 1 else None)
    return ("auto" if choice else None), None


def _input(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The input as items: a bare string is one user message."""
    given = body["input"]
    return [{"role": "user", "content": given}] if isinstance(given, str) else list(given)


class ResponsesWire(OpenAIWire):
    """The Responses API: `POST /v1/responses`, or `/responses` for base URLs without `/v1`.

    Errors, keys and model listings are OpenAI's, as for Chat Completions.
    """

    def serves(self, route: str) -> bool:
        return route in _RESPONSES_PATHS

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str], path: str) -> SimRequest:
        try:
            instructions = body.get("instructions")
            system = [instructions] if isinstance(instructions, str) else []
            messages: list[SimMessage] = []
            for item in _input(body):
                if item.get("role") in ("system", "developer"):
                    system.append(_text(item.get("content")))
                else:
                    _append(messages, item)
            tools = {
                tool["name"]: dict(tool.get("parameters") or {})
                for tool in body.get("tools") or []
                if tool.get("type") == "function"
            }
            tool_choice, forced_tool = _tool_choice(body.get("tool_choice"))
            return SimRequest(
                protocol="openai-responses",
                model=str(body["model"]),
                system="\n\n".join(part for part in system if part),
                messages=tuple(messages),
                tools=tools,
                tool_choice=tool_choice,
                forced_tool=forced_tool,
                stream=bool(body.get("stream", False)),
                max_tokens=body.get("max_output_tokens"),
                headers=dict(headers),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise BadRequest(f"malformed Responses request: {error!r}") from error

    def segments(self, body: Mapping[str, Any]) -> list[Segment]:
        """Tools, instructions, then input items, cached as Chat Completions' are: the longest prefix
        seen before, in 128-token steps, inside an item too (`automatic_prefixes`)."""
        instructions = [body["instructions"]] if body.get("instructions") else []
        return automatic_prefixes(canonical([body.get("tools") or [], instructions, _input(body)]))

    def message(self, reply: SimReply, exchange: Exchange) -> dict[str, Any]:
        return self._response(exchange, reply, [item for item, _ in self._items(reply, exchange)])

    def events(self, reply: SimReply, exchange: Exchange) -> list[bytes]:
        numbered = _Numbered()
        started = self._response(exchange, None, [])
        events = [numbered("response.created", response=started)]
        events.append(numbered("response.in_progress", response=started))
        done: list[dict[str, Any]] = []
        for index, (item, fragments) in enumerate(self._items(reply, exchange)):
            events.extend(_item_events(numbered, index, item, fragments))
            done.append(item)
        final = self._response(exchange, reply, done)
        ending = "response.completed" if final["status"] == "completed" else "response.incomplete"
        return [*events, numbered(ending, response=final)]

    def error_event(self, fault: ErrorEvent) -> bytes:
        """`response.failed` carrying the response's `error`; an `error` event when the fault asks for one.

        The event follows the `after_events` sent before it, so that is its sequence number.
        """
        if fault.event == "error":
            body = {"code": fault.code, "message": fault.message, "param": None}
            return sse({"type": "error", **body, "sequence_number": fault.after_events}, "error")
        seed = hashlib.sha256(fault.message.encode()).hexdigest()[:24]
        error = {"code": fault.code, "message": fault.message, "type": fault.error_type}
        failed = {**_skeleton(f"resp_{seed}", "", "failed"), "error": error}
        payload = {"type": "response.failed", "response": failed, "sequence_number": fault.after_events}
        return sse(payload, "response.failed")

    def _items(self, reply: SimReply, exchange: Exchange) -> Iterator[tuple[dict[str, Any], list[str]]]:
        """The reply's output items, completed, each with the deltas a stream sends for it."""
        if reply.text:
            part = {"type": "output_text", "text": reply.text, "annotations": [], "logprobs": []}
            message = {
                "type": "message",
                "id": exchange.make_id("msg_"),
                "status": "completed",
                "role": "assistant",
                "content": [part],
            }
            yield message, text_chunks(reply.text)
        for index, (name, args) in enumerate(reply.tool_calls):
            arguments = arguments_json(args)
            call = {
                "type": "function_call",
                "id": exchange.make_id("fc_", index),
                "call_id": exchange.make_id("call_", index),
                "name": name,
                "arguments": arguments,
                "status": "completed",
            }
            yield call, pieces(arguments)

    def _response(
        self, exchange: Exchange, reply: SimReply | None, output: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The response object: in progress (no reply yet) or finished, with its usage."""
        truncated = reply is not None and reply.stop_reason == "max_tokens"
        status = "in_progress" if reply is None else "incomplete" if truncated else "completed"
        response = _skeleton(exchange.make_id("resp_"), exchange.sim.model, status)
        body = exchange.body
        response.update(
            instructions=body.get("instructions"),
            max_output_tokens=body.get("max_output_tokens"),
            tool_choice=body.get("tool_choice", "auto"),
            tools=list(body.get("tools") or []),
            output=output,
        )
        if truncated:
            response["incomplete_details"] = {"reason": "max_output_tokens"}
        if reply is not None:
            response["usage"] = self._responses_usage(exchange)
        return response

    def _responses_usage(self, exchange: Exchange) -> dict[str, Any]:
        usage = exchange.usage
        return {
            "input_tokens": usage.prompt_tokens,
            "input_tokens_details": {"cached_tokens": usage.cache_read_input_tokens, "cache_write_tokens": 0},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage.prompt_tokens + usage.output_tokens,
        }


def _skeleton(response_id: str, model: str, status: str) -> dict[str, Any]:
    """A response object's fields that do not depend on what the model said."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": [],
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "text": {"format": {"type": "text"}},
        "truncation": "disabled",
        "usage": None,
        "metadata": {},
    }


class _Numbered:
    """Encodes events with the increasing `sequence_number` every Responses event carries."""

    def __init__(self) -> None:
        self._next = 0

    def __call__(self, kind: str, **fields: Any) -> bytes:
        event = sse({"type": kind, **fields, "sequence_number": self._next}, kind)
        self._next += 1
        return event


def _item_events(numbered: _Numbered, index: int, item: dict[str, Any], fragments: list[str]) -> list[bytes]:
    """One output item's events: added (empty), its deltas and their end, then done (complete)."""
    where = {"item_id": item["id"], "output_index": index}
    if item["type"] == "message":
        text = item["content"][0]["text"]
        opened = {**item, "status": "in_progress", "content": []}
        empty = {"type": "output_text", "text": "", "annotations": []}
        at = {**where, "content_index": 0}
        events = [
            numbered("response.output_item.added", output_index=index, item=opened),
            numbered("response.content_part.added", **at, part=empty),
            *(numbered("response.output_text.delta", **at, delta=d, logprobs=[]) for d in fragments),
            numbered("response.output_text.done", **at, text=text, logprobs=[]),
            numbered("response.content_part.done", **at, part={**empty, "text": text}),
        ]
    else:
        opened = {**item, "status": "in_progress", "arguments": ""}
        events = [
            numbered("response.output_item.added", output_index=index, item=opened),
            *(numbered("response.function_call_arguments.delta", **where, delta=d) for d in fragments),
            numbered("response.function_call_arguments.done", **where, arguments=item["arguments"]),
        ]
    return [*events, numbered("response.output_item.done", output_index=index, item=item)]
