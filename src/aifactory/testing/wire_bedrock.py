"""Bedrock's Converse API (`POST /model/<model id>/converse` and `/converse-stream`), JSON and event stream.

Shapes follow https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html and
`API_runtime_ConverseStream.html`, as botocore's model of `bedrock-runtime` reads them in the client: an
error names its type in `x-amzn-ErrorType` over a `{"message"}` body, a stream is AWS's binary event
stream (`eventstream.py`) and a failure inside it is an exception message. Requests must be signed with
SigV4; any signature is accepted, and the access key id in it is the credential `keys` is checked against.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import unquote

from aifactory.testing import eventstream
from aifactory.testing.scenario import (
    ErrorEvent,
    HttpError,
    SimMessage,
    SimReply,
    SimRequest,
    SimToolCall,
    SimToolResult,
)
from aifactory.testing.tokens import Segment, canonical
from aifactory.testing.wire import BadRequest, Exchange, arguments_json, objects_only, pieces, text_chunks

_PATH = re.compile(r"/model/([^/]+)/(converse|converse-stream)")
_SIGV4 = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/,\s]+)/\S+, ?SignedHeaders=\S+, ?Signature=[0-9a-f]+")

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("ValidationException", "Malformed input request, please reformat your input and try again."),
    401: ("UnrecognizedClientException", "The security token included in the request is invalid."),
    403: ("AccessDeniedException", "You don't have access to the model with the specified model ID."),
    404: ("ResourceNotFoundException", "The requested resource could not be found."),
    408: ("ModelTimeoutException", "Model has timed out in processing the request. Try your request again."),
    424: ("ModelErrorException", "The model returned an error. Try your request again."),
    429: ("ThrottlingException", "Too many requests, please wait before trying again."),
    500: ("InternalServerException", "The server encountered an internal error processing the request."),
    503: ("ServiceUnavailableException", "Bedrock is unable to process your request."),
    529: ("ServiceUnavailableException", "The model is overloaded. Try your request again."),
}
"""Status → (error type, message) as Bedrock documents them. Bedrock refuses credentials with a 403, and
has no 529 (Anthropic's overload): a scenario's 401 or 529 keeps its status with the error Bedrock
sends for that case."""

_STREAM_EXCEPTIONS = {
    "overloaded_error": "serviceUnavailableException",
    "rate_limit_error": "throttlingException",
    "rate_limit_exceeded": "throttlingException",
    "requests": "throttlingException",
    "api_error": "internalServerException",
    "server_error": "internalServerException",
    "invalid_request_error": "validationException",
}
"""Other wires' error types → the exception Bedrock streams; Bedrock's own names pass through."""

_STREAM_STATUS = {
    "throttlingException": 429,
    "serviceUnavailableException": 503,
    "internalServerException": 500,
    "validationException": 400,
    "modelStreamErrorException": 424,
}

_TOOL_CHOICES: dict[str, Literal["auto", "required"]] = {
    "auto": "auto",
    "any": "required",
    "tool": "required",
}


def _text(blocks: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(block["text"] for block in blocks if "text" in block)


def _result(block: Mapping[str, Any]) -> SimToolResult:
    parts = [part["text"] if "text" in part else canonical(part.get("json")) for part in block["content"]]
    return SimToolResult(block["toolUseId"], "\n".join(parts), block.get("status") == "error")


def _message(message: Mapping[str, Any]) -> SimMessage:
    role, blocks = message["role"], message["content"]
    if role not in ("user", "assistant"):
        raise BadRequest(f"messages: unexpected role {role!r}")
    calls = tuple(
        SimToolCall(b["toolUse"]["toolUseId"], b["toolUse"]["name"], dict(b["toolUse"].get("input") or {}))
        for b in blocks
        if "toolUse" in b
    )
    results = tuple(_result(b["toolResult"]) for b in blocks if "toolResult" in b)
    return SimMessage(role=role, text=_text(blocks), tool_calls=calls, tool_results=results)


def _stream_exception(error_type: str) -> str:
    if error_type.lower().endswith("exception"):
        return error_type[0].lower() + error_type[1:]
    return _STREAM_EXCEPTIONS.get(error_type, "modelStreamErrorException")


class BedrockWire:
    """Bedrock Runtime's Converse: the model id in the path, streaming chosen by the path, SigV4 to sign."""

    request_id_header = "x-amzn-RequestId"
    stream_content_type = "application/vnd.amazon.eventstream"
    min_cached_tokens = 0

    def serves(self, route: str) -> bool:
        return _PATH.fullmatch(route) is not None

    def credential(self, headers: Mapping[str, str]) -> str:
        signed = _SIGV4.fullmatch(headers.get("authorization", "").strip())
        return signed.group(1) if signed and headers.get("x-amz-date") else ""

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str], path: str) -> SimRequest:
        found = _PATH.fullmatch(path.partition("?")[0])
        if found is None:
            raise BadRequest(f"not a Converse path: {path}")
        try:
            tool_config = body.get("toolConfig") or {}
            tools = {
                tool["toolSpec"]["name"]: dict(tool["toolSpec"]["inputSchema"]["json"])
                for tool in tool_config.get("tools") or []
                if "toolSpec" in tool
            }
            choice = next(iter(tool_config.get("toolChoice") or {}), None)
            return SimRequest(
                protocol="bedrock",
                model=unquote(found.group(1)),
                system=_text(body.get("system") or []),
                messages=tuple(_message(message) for message in body["messages"]),
                tools=tools,
                tool_choice=_TOOL_CHOICES.get(choice) if choice else None,
                forced_tool=tool_config["toolChoice"]["tool"]["name"] if choice == "tool" else None,
                stream=found.group(2) == "converse-stream",
                max_tokens=(body.get("inferenceConfig") or {}).get("maxTokens"),
                headers=dict(headers),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise BadRequest(f"malformed Converse request: {error!r}") from error

    def segments(self, body: Mapping[str, Any]) -> list[Segment]:
        """Tools, then system, then messages; a `cachePoint` block marks the end of a cached prefix."""
        tool_config = body.get("toolConfig") or {}
        items = [("tool", tool) for tool in tool_config.get("tools") or []]
        items += [("system", block) for block in body.get("system") or []]
        items += [(m["role"], block) for m in body.get("messages") or [] for block in m["content"]]
        segments: list[Segment] = []
        for where, item in items:
            if "cachePoint" in item:
                if segments:
                    segments[-1] = Segment(segments[-1].text, breakpoint=True)
            else:
                segments.append(Segment(canonical([where, item])))
        return segments

    def _content(self, reply: SimReply, exchange: Exchange) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = []
        if reply.text or not reply.tool_calls:
            content.append({"text": reply.text})
        for index, (name, args) in enumerate(reply.tool_calls):
            tool_use = {"toolUseId": exchange.make_id("tooluse_", index), "name": name, "input": args}
            content.append({"toolUse": tool_use})
        return content

    def _usage(self, exchange: Exchange) -> dict[str, int]:
        usage = exchange.usage
        return {
            "inputTokens": usage.input_tokens,
            "outputTokens": usage.output_tokens,
            "totalTokens": usage.prompt_tokens + usage.output_tokens,
            "cacheReadInputTokens": usage.cache_read_input_tokens,
            "cacheWriteInputTokens": usage.cache_creation_input_tokens,
        }

    def message(self, reply: SimReply, exchange: Exchange) -> dict[str, Any]:
        objects_only([tool_input for _, tool_input in reply.tool_calls])
        return {
            "output": {"message": {"role": "assistant", "content": self._content(reply, exchange)}},
            "stopReason": reply.stop_reason,
            "usage": self._usage(exchange),
            "metrics": {"latencyMs": 1},
        }

    def events(self, reply: SimReply, exchange: Exchange) -> list[bytes]:
        """Text blocks start with their first delta and tool blocks with `contentBlockStart`, as Bedrock
        streams Claude; the usage comes last, in `metadata`."""
        events = [eventstream.event("messageStart", {"role": "assistant"})]
        for index, block in enumerate(self._content(reply, exchange)):
            deltas: list[dict[str, Any]]
            if "text" in block:
                deltas = [{"text": chunk} for chunk in text_chunks(block["text"]) or [""]]
            else:
                tool_use = block["toolUse"]
                start = {"toolUse": {"toolUseId": tool_use["toolUseId"], "name": tool_use["name"]}}
                events.append(
                    eventstream.event("contentBlockStart", {"start": start, "contentBlockIndex": index})
                )
                deltas = [{"toolUse": {"input": part}} for part in pieces(arguments_json(tool_use["input"]))]
            events.extend(
                eventstream.event("contentBlockDelta", {"delta": delta, "contentBlockIndex": index})
                for delta in deltas
            )
            events.append(eventstream.event("contentBlockStop", {"contentBlockIndex": index}))
        events.append(eventstream.event("messageStop", {"stopReason": reply.stop_reason}))
        metadata = {"usage": self._usage(exchange), "metrics": {"latencyMs": 1}}
        return [*events, eventstream.event("metadata", metadata)]

    def _error(self, fault: HttpError) -> tuple[str, str]:
        kind, message = _ERRORS.get(fault.status) or (
            ("InternalServerException", _ERRORS[500][1]) if fault.status >= 500 else _ERRORS[400]
        )
        return fault.error_type or kind, fault.message or message

    def error_body(self, fault: HttpError) -> dict[str, Any]:
        return {"message": self._error(fault)[1]}

    def error_headers(self, fault: HttpError) -> dict[str, str]:
        kind = self._error(fault)[0]
        return {"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}

    def error_event(self, fault: ErrorEvent) -> bytes:
        return eventstream.exception(_stream_exception(fault.error_type), fault.message)

    def as_http_error(self, fault: ErrorEvent) -> HttpError:
        name = _stream_exception(fault.error_type)
        return HttpError(_STREAM_STATUS.get(name, 424), name[0].upper() + name[1:], fault.message)

    def unauthorized(self, credential: str) -> HttpError:
        if credential:
            return HttpError(
                403, "UnrecognizedClientException", "The security token included in the request is invalid."
            )
        return HttpError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")

    def model_not_found(self, model: str) -> HttpError:
        return HttpError(400, "ValidationException", "The provided model identifier is invalid.")

    def models(self, names: Sequence[str]) -> dict[str, Any]:
        """Bedrock lists models on its control plane (`ListFoundationModels`); this is that list's shape."""
        summaries = [
            {"modelId": name, "modelArn": f"arn:aws:bedrock:::foundation-model/{name}"} for name in names
        ]
        return {"modelSummaries": summaries}
