"""Bedrock's InvokeModel for Claude (`POST /model/<model id>/invoke` and `/invoke-with-response-stream`).

This is what Claude Code calls in its Bedrock mode (`CLAUDE_CODE_USE_BEDROCK=1`): the body is an
Anthropic Messages request with an `anthropic_version` (`bedrock-2023-05-31`) and the model in the path
instead of the body (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html).
The JSON answer is the Messages API's; the stream is AWS's event stream (`eventstream.py`) whose `chunk`
events carry each Messages API stream event as base64 JSON in `bytes` (`API_runtime_PayloadPart`), the
last one with Bedrock's `amazon-bedrock-invocationMetrics`. So the Messages API is rendered once, by
`wire_anthropic`, and only framed here; errors, in-stream exceptions and SigV4 are the Converse wire's,
since both are `bedrock-runtime`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from aifactory.testing import eventstream
from aifactory.testing.scenario import ErrorEvent, HttpError, SimReply, SimRequest
from aifactory.testing.tokens import Segment
from aifactory.testing.wire import BadRequest, Exchange
from aifactory.testing.wire_anthropic import AnthropicWire, stream_events
from aifactory.testing.wire_bedrock import BedrockWire

_PATH = re.compile(r"/model/([^/]+)/(invoke|invoke-with-response-stream)")
BEDROCK_VERSION = "bedrock-2023-05-31"
"""The `anthropic_version` Claude Code sends; newer Anthropic SDKs send their API's date instead."""


def _chunk(event: Mapping[str, Any]) -> bytes:
    raw = json.dumps(event, separators=(",", ":")).encode()
    return eventstream.event("chunk", {"bytes": base64.b64encode(raw).decode()})


def _metrics(exchange: Exchange) -> dict[str, int]:
    usage = exchange.usage
    return {
        "inputTokenCount": usage.input_tokens,
        "outputTokenCount": usage.output_tokens,
        "invocationLatency": 1,
        "firstByteLatency": 1,
        "cacheReadInputTokenCount": usage.cache_read_input_tokens,
        "cacheWriteInputTokenCount": usage.cache_creation_input_tokens,
    }


class BedrockInvokeWire:
    """Claude's Messages API inside Bedrock's InvokeModel: the Anthropic wire for bodies and events,
    the Converse wire for what belongs to Bedrock (paths, signatures, errors)."""

    request_id_header = "x-amzn-RequestId"
    stream_content_type = "application/vnd.amazon.eventstream"
    min_cached_tokens = AnthropicWire.min_cached_tokens

    def __init__(self) -> None:
        self._messages = AnthropicWire()
        self._bedrock = BedrockWire()

    def serves(self, route: str) -> bool:
        return _PATH.fullmatch(route) is not None

    def credential(self, headers: Mapping[str, str]) -> str:
        return self._bedrock.credential(headers)

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str], path: str) -> SimRequest:
        found = _PATH.fullmatch(path.partition("?")[0])
        if found is None:
            raise BadRequest(f"not an InvokeModel path: {path}")
        if not isinstance(body.get("anthropic_version"), str):
            raise BadRequest(f"required key [anthropic_version] not found (such as {BEDROCK_VERSION!r})")
        if "model" in body:
            raise BadRequest("extraneous key [model] is not permitted: the model id goes in the path")
        model = unquote(found.group(1))
        sim = self._messages.parse({**body, "model": model}, headers, path)
        return replace(sim, protocol="bedrock", stream=found.group(2) == "invoke-with-response-stream")

    def segments(self, body: Mapping[str, Any]) -> list[Segment]:
        return self._messages.segments(body)

    def message(self, reply: SimReply, exchange: Exchange) -> dict[str, Any]:
        return self._messages.message(reply, exchange)

    def events(self, reply: SimReply, exchange: Exchange) -> list[bytes]:
        """Each Messages API event in a `chunk`; the usage also in the last one's invocation metrics."""
        events = stream_events(reply, exchange)
        last = {**events[-1], "amazon-bedrock-invocationMetrics": _metrics(exchange)}
        return [*(_chunk(event) for event in events[:-1]), _chunk(last)]

    def error_body(self, fault: HttpError) -> dict[str, Any]:
        return self._bedrock.error_body(fault)

    def error_headers(self, fault: HttpError) -> dict[str, str]:
        return self._bedrock.error_headers(fault)

    def error_event(self, fault: ErrorEvent) -> bytes:
        return self._bedrock.error_event(fault)

    def as_http_error(self, fault: ErrorEvent) -> HttpError:
        return self._bedrock.as_http_error(fault)

    def unauthorized(self, credential: str) -> HttpError:
        return self._bedrock.unauthorized(credential)

    def model_not_found(self, model: str) -> HttpError:
        return self._bedrock.model_not_found(model)

    def models(self, names: Sequence[str]) -> dict[str, Any]:
        return self._bedrock.models(names)


def inference_profiles(names: Sequence[str]) -> dict[str, Any]:
    """ListInferenceProfiles (`GET /inference-profiles`, the `bedrock` control plane), which Claude Code
    asks first in its Bedrock mode: each known model id as an active system-defined profile."""
    summaries = [
        {
            "inferenceProfileName": name,
            "inferenceProfileId": name,
            "inferenceProfileArn": f"arn:aws:bedrock:::inference-profile/{name}",
            "description": f"Routes requests to {name}.",
            "models": [{"modelArn": f"arn:aws:bedrock:::foundation-model/{name.partition('.')[2]}"}],
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
            "createdAt": "2025-01-01T00:00:00Z",
            "updatedAt": "2025-01-01T00:00:00Z",
        }
        for name in names
    ]
    return {"inferenceProfileSummaries": summaries}
