"""The seam between the server and a provider's wire format.

The server knows HTTP (status lines, chunked bodies, connections); a `Wire` knows one provider's
JSON: how its requests read and how its answers, streams and errors look. Adding a provider is one
module implementing this protocol.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol

from aifactory.testing.scenario import ErrorEvent, HttpError, SimReply, SimRequest, ToolInput
from aifactory.testing.tokens import Segment, Usage


class BadRequest(ValueError):
    """A request body the provider would reject with a 400; the message says what is wrong."""


class Refused(Exception):
    """A request the provider turns away with an error of its own before reading it (a wrong API version)."""

    def __init__(self, fault: HttpError) -> None:
        super().__init__(fault.message)
        self.fault = fault


@dataclass(frozen=True)
class Exchange:
    """One request being answered: its raw body, normalized view and usage, and a seed for stable ids."""

    body: Mapping[str, Any]
    sim: SimRequest
    usage: Usage
    seed: str

    def make_id(self, prefix: str, index: int = 0) -> str:
        """An id that is the same every time the same request is answered."""
        return prefix + hashlib.sha256(f"{self.seed}/{index}".encode()).hexdigest()[:24]


class Wire(Protocol):
    """One provider's wire format, as the server needs it."""

    request_id_header: str
    """The response header carrying the provider's request id."""
    stream_content_type: str
    """The content type of a streamed answer: server-sent events, or AWS's event stream."""
    min_cached_tokens: int
    """The shortest prefix the provider reports as read from its cache."""

    def serves(self, route: str) -> bool:
        """Whether a POST to `route` (a path without its query) asks for a model response."""
        ...

    def credential(self, headers: Mapping[str, str]) -> str:
        """The key (or key id) the request presents where the provider looks for it; "" when none."""
        ...

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str], path: str) -> SimRequest:
        """The normalized view of a request to `path` (with its query).

        Raises `BadRequest` for a body the provider would answer with a 400, `Refused` for another refusal.
        """
        ...

    def segments(self, body: Mapping[str, Any]) -> list[Segment]:
        """The prompt in the order the provider caches it, with its cache breakpoints."""
        ...

    def message(self, reply: SimReply, exchange: Exchange) -> dict[str, Any]:
        """The JSON body answering a request that was not streamed."""
        ...

    def events(self, reply: SimReply, exchange: Exchange) -> list[bytes]:
        """The events answering a streamed request, each one encoded (an SSE event or an AWS message)."""
        ...

    def error_body(self, fault: HttpError) -> dict[str, Any]:
        """The provider's error body for `fault`, with the provider's defaults for its status."""
        ...

    def error_headers(self, fault: HttpError) -> dict[str, str]:
        """Headers the provider adds to an error response for `fault` (AWS names the error type in one)."""
        ...

    def error_event(self, fault: ErrorEvent) -> bytes:
        """The encoded in-stream error event for `fault`."""
        ...

    def as_http_error(self, fault: ErrorEvent) -> HttpError:
        """The HTTP error the provider sends for `fault`'s error when the request is not streamed."""
        ...

    def unauthorized(self, credential: str) -> HttpError:
        """The provider's answer to a request without credentials ("") or with a key it does not know."""
        ...

    def model_not_found(self, model: str) -> HttpError:
        """The provider's answer to a request for a model it does not serve."""
        ...

    def models(self, names: Sequence[str]) -> dict[str, Any]:
        """The body of `GET /v1/models`."""
        ...


SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"


def sse(data: Any, event: str | None = None) -> bytes:
    """One encoded server-sent event."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def pieces(text: str, count: int = 3) -> list[str]:
    """`text` split into at most `count` non-empty, nearly equal pieces, as providers stream deltas."""
    if not text:
        return []
    size = -(-len(text) // count)
    return [text[i : i + size] for i in range(0, len(text), size)]


def arguments_json(tool_input: ToolInput) -> str:
    """The JSON text of a tool call's input as the model wrote it: given text is sent verbatim."""
    return tool_input if isinstance(tool_input, str) else json.dumps(tool_input)


def objects_only(tool_inputs: Sequence[ToolInput]) -> None:
    """Refuse a tool input given as text where the wire carries it as a JSON object (a JSON answer)."""
    if any(isinstance(tool_input, str) for tool_input in tool_inputs):
        raise ValueError(
            "a tool input given as text can only be streamed: this JSON answer carries an object"
        )


def text_chunks(text: str, size: int = 24) -> list[str]:
    """`text` split into pieces of `size` characters: a streamed answer's text deltas."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def status_phrase(status: int) -> str:
    """The reason phrase of `status`, also for statuses `http.HTTPStatus` lacks (like Anthropic's 529)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an `Authorization: Bearer ...` header, or "" when there is none."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
