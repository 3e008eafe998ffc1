"""The Gemini API wire format (`POST /v1beta/models/{model}:generateContent`), JSON and server-sent events.

Shapes follow https://ai.google.dev/api/generate-content and https://ai.google.dev/gemini-api/docs/
troubleshooting: what the `@google/genai` SDK inside Gemini CLI sends and parses. The model is named in
the path, not the body; `:streamGenerateContent?alt=sse` streams one whole `GenerateContentResponse`
per event (text in pieces, a function call whole), the last one with `finishReason` and
`usageMetadata`. Errors are Google's `{"error": {"code", "message", "status", "details"}}`: a fault's
`retry-after` header becomes the `RetryInfo` detail Gemini CLI reads its wait from, and a fault's
`code` the `quotaId` of a `QuotaFailure` (a `...PerDay...` id is a daily quota, which the CLI does
not retry).
"""

from __future__ import annotations

import re
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
    bearer_token,
    objects_only,
    sse,
    status_phrase,
    text_chunks,
)

_ROUTE = re.compile(r"/(v1beta|v1)/models/([^/:]+):(generateContent|streamGenerateContent)")

_STATUSES: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials."),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred. Please retry or report it."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}
"""Status → (Google's status name, message) as the Gemini API's troubleshooting guide lists them."""

_CODE_OF_STATUS = {name: code for code, (name, _) in _STATUSES.items()}

_MODES: dict[str, Literal["auto", "required", "none"]] = {
    "AUTO": "auto",
    "VALIDATED": "auto",
    "ANY": "required",
    "NONE": "none",
}

_FINISH = {"end_turn": "STOP", "tool_use": "STOP", "max_tokens": "MAX_TOKENS"}
"""Gemini ends a turn with function calls as `STOP` too: the calls themselves say a tool is wanted."""


def _result(part: Mapping[str, Any]) -> SimToolResult:
    answer = part["functionResponse"]
    response = answer.get("response") or {}
    output = response.get("output") if isinstance(response, dict) else None
    content = output if isinstance(output, str) else canonical(response)
    is_error = isinstance(response, dict) and "error" in response
    return SimToolResult(str(answer.get("id") or answer["name"]), content, is_error)


def _message(content: Mapping[str, Any]) -> SimMessage:
    """One `Content`: a call's id is its `id` when the client sent one, else its name (as its answer's)."""
    role = content.get("role", "user")
    if role not in ("user", "model"):
        raise BadRequest(f"contents: unexpected role {role!r}")
    parts = content["parts"]
    texts = [p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought")]
    calls = tuple(
        SimToolCall(str(c.get("id") or c["name"]), c["name"], dict(c.get("args") or {}))
        for c in (p["functionCall"] for p in parts if "functionCall" in p)
    )
    results = tuple(_result(p) for p in parts if "functionResponse" in p)
    return SimMessage(
        role="user" if role == "user" else "assistant",
        text="\n".join(texts),
        tool_calls=calls,
        tool_results=results,
    )


def _tools(body: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    declared = [d for tool in body.get("tools") or [] for d in tool.get("functionDeclarations") or []]
    return {d["name"]: dict(d.get("parametersJsonSchema") or d.get("parameters") or {}) for d in declared}


def _parts(reply: SimReply) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"text": reply.text}] if reply.text or not reply.tool_calls else []
    parts += [{"functionCall": {"name": name, "args": args}} for name, args in reply.tool_calls]
    return parts


def _usage(exchange: Exchange) -> dict[str, Any]:
    """`promptTokenCount` counts the cached tokens too; `cachedContentTokenCount` says how many."""
    usage = exchange.usage
    metadata: dict[str, Any] = {
        "promptTokenCount": usage.prompt_tokens,
        "candidatesTokenCount": usage.output_tokens,
        "totalTokenCount": usage.prompt_tokens + usage.output_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": usage.prompt_tokens}],
    }
    if usage.cache_read_input_tokens:
        metadata["cachedContentTokenCount"] = usage.cache_read_input_tokens
    return metadata


def _response(exchange: Exchange, parts: list[dict[str, Any]], finish: str | None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    body: dict[str, Any] = {"candidates": [candidate]}
    if finish is not None:
        candidate["finishReason"] = finish
        body["usageMetadata"] = _usage(exchange)
    body["modelVersion"] = exchange.sim.model
    body["responseId"] = exchange.make_id("")
    return body


class GeminiWire:
    """The Gemini API: `generateContent` and `streamGenerateContent` under `/v1beta/models/` (or `/v1/`)."""

    request_id_header = "x-goog-request-id"
    stream_content_type = SSE_CONTENT_TYPE
    min_cached_tokens = 1024
    """Gemini 2.5 Flash caches implicitly from 1,024 tokens (Pro from 2,048)."""

    def serves(self, route: str) -> bool:
        return _ROUTE.fullmatch(route) is not None

    def credential(self, headers: Mapping[str, str]) -> str:
        return headers.get("x-goog-api-key", "").strip() or bearer_token(headers)

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str], path: str) -> SimRequest:
        found = _ROUTE.fullmatch(path.partition("?")[0])
        if found is None:
            raise BadRequest(f"not a Gemini API model method: {path}")
        try:
            system = body.get("systemInstruction") or {}
            system_text = "\n\n".join(p["text"] for p in system.get("parts") or [] if "text" in p)
            calling = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
            allowed = calling.get("allowedFunctionNames") or []
            mode = _MODES.get(str(calling.get("mode", "")))
            return SimRequest(
                protocol="gemini",
                model=found.group(2),
                system=system_text,
                messages=tuple(_message(content) for content in body["contents"]),
                tools=_tools(body),
                tool_choice=mode,
                forced_tool=allowed[0] if mode == "required" and len(allowed) == 1 else None,
                stream=found.group(3) == "streamGenerateContent",
                max_tokens=(body.get("generationConfig") or {}).get("maxOutputTokens"),
                headers=dict(headers),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise BadRequest(f"malformed Gemini API request: {error!r}") from error

    def segments(self, body: Mapping[str, Any]) -> list[Segment]:
        """System instruction, tools, then contents, cached implicitly wherever a prefix matches."""
        prompt = [body.get("systemInstruction") or {}, body.get("tools") or [], body.get("contents") or []]
        return automatic_prefixes(canonical(prompt))

    def message(self, reply: SimReply, exchange: Exchange) -> dict[str, Any]:
        objects_only([tool_input for _, tool_input in reply.tool_calls])
        return _response(exchange, _parts(reply), _FINISH[reply.stop_reason])

    def events(self, reply: SimReply, exchange: Exchange) -> list[bytes]:
        """Text in pieces, then each function call whole, the last event closing with usage."""
        objects_only([tool_input for _, tool_input in reply.tool_calls])
        parts = [[{"text": chunk}] for chunk in text_chunks(reply.text)]
        parts += [[call] for call in _parts(reply) if "functionCall" in call]
        parts = parts or [[{"text": ""}]]
        finish = _FINISH[reply.stop_reason]
        return [
            sse(_response(exchange, chunk, finish if index == len(parts) - 1 else None))
            for index, chunk in enumerate(parts)
        ]

    def error_body(self, fault: HttpError) -> dict[str, Any]:
        status, message = _STATUSES.get(fault.status) or ("UNKNOWN", status_phrase(fault.status))
        error: dict[str, Any] = {
            "code": fault.status,
            "message": fault.message or message,
            "status": fault.error_type or status,
        }
        details = []
        if fault.code:
            violation = {"quotaMetric": "generativelanguage.googleapis.com/generate_content_requests"}
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [{**violation, "quotaId": fault.code}],
                }
            )
        if "retry-after" in fault.headers:
            delay = f"{fault.headers['retry-after']}s"
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay})
        if details:
            error["details"] = details
        return {"error": error}

    def error_headers(self, fault: HttpError) -> dict[str, str]:
        return {}

    def error_event(self, fault: ErrorEvent) -> bytes:
        code = _CODE_OF_STATUS.get(fault.error_type, 500)
        return sse({"error": {"code": code, "message": fault.message, "status": fault.error_type}})

    def as_http_error(self, fault: ErrorEvent) -> HttpError:
        return HttpError(_CODE_OF_STATUS.get(fault.error_type, 500), fault.error_type, fault.message)

    def unauthorized(self, credential: str) -> HttpError:
        if credential:
            return HttpError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        return HttpError(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.",
        )

    def model_not_found(self, model: str) -> HttpError:
        message = (
            f"models/{model} is not found for API version v1beta, or is not supported for generateContent."
        )
        return HttpError(404, "NOT_FOUND", message)

    def models(self, names: Sequence[str]) -> dict[str, Any]:
        methods = ["generateContent", "countTokens"]
        return {
            "models": [
                {"name": f"models/{name}", "displayName": name, "supportedGenerationMethods": methods}
                for name in names
            ]
        }
