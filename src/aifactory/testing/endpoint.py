"""What the simulated provider answers to one HTTP request, decided apart from how it is written.

The endpoint validates and records a request, asks the scenario, and renders the answer through the
`Wire` of the route it came to (a provider may serve several APIs: OpenAI's Chat Completions and
Responses) into a `Response` (status, headers, JSON body or events, and whether to cut it short).
Rendering completely before writing means a scenario's bad reply still becomes a clean 500.
"""

from __future__ import annotations

import hashlib
import json
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aifactory.testing.scenario import Answer, Delay, DropStream, ErrorEvent, HttpError, SimReply, SimRequest
from aifactory.testing.scenarios import Scenario
from aifactory.testing.tokens import PromptCache, Usage, canonical, reply_tokens
from aifactory.testing.wire import BadRequest, Exchange, Refused, Wire

Listing = Callable[[Sequence[str]], dict[str, Any]]
"""The body of a list of models, from their names."""


@dataclass(frozen=True)
class RecordedRequest:
    """A model request as the server received it, for tests to assert on prompts and headers."""

    path: str
    headers: Mapping[str, str]
    body: Mapping[str, Any]
    sim: SimRequest


@dataclass(frozen=True)
class Response:
    """What to write back after `delay` seconds: a JSON body or a list of events.

    A `cut` response breaks off: half of its body, or its events without the end of the chunked body.
    """

    status: int
    body: bytes = b""
    events: tuple[bytes, ...] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    cut: bool = False
    delay: float = 0.0


def json_response(status: int, body: object, headers: Mapping[str, str] | None = None) -> Response:
    """A complete JSON response."""
    return Response(status, json.dumps(body).encode(), headers=headers or {})


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as error:
        raise BadRequest(f"the request body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def _undelay(answer: Answer) -> tuple[float, SimReply | HttpError | DropStream | ErrorEvent]:
    if isinstance(answer, Delay):
        seconds, inner = _undelay(answer.then)
        return answer.seconds + seconds, inner
    return 0.0, answer


def _failure(what: str, error: Exception) -> HttpError:
    """A 500 naming the exception, so a failing test shows the scenario's bug instead of hanging."""
    last_line = traceback.format_exception_only(error)[-1].strip()
    return HttpError(500, message=f"{what}: {last_line}")


class Endpoint:
    """A provider's model endpoints: its APIs' wires, one scenario, one prompt cache, one request log.

    The first wire answers what belongs to no API (refused keys, unknown paths, the model list); the wires
    of one provider share its request-id header and stream content type.
    """

    def __init__(
        self,
        wires: Sequence[Wire],
        scenario: Scenario,
        *,
        latency: float,
        known_models: frozenset[str] | None,
        keys: frozenset[str] | None,
        listings: Mapping[str, Listing] | None = None,
    ) -> None:
        self.wires = tuple(wires)
        self.wire = self.wires[0]
        self.listings = {"/v1/models": self.wire.models, "/models": self.wire.models, **(listings or {})}
        self.scenario = scenario
        self.latency = latency
        self.known_models = known_models
        self.keys = keys
        self.requests: list[RecordedRequest] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._cache = PromptCache()

    def pause(self, seconds: float) -> None:
        """Sleep in the calling thread, waking early when the server stops."""
        if seconds > 0:
            self.stopping.wait(seconds)

    def wire_for(self, route: str) -> Wire | None:
        """The wire of the API a POST to `route` (a path without its query) asks, or None for no API."""
        return next((wire for wire in self.wires if wire.serves(route)), None)

    def error(self, fault: HttpError, wire: Wire | None = None) -> Response:
        """An error response in the format of `wire`'s API (by default the provider's first)."""
        wire = wire or self.wire
        headers = {**wire.error_headers(fault), **fault.headers}
        return json_response(fault.status, wire.error_body(fault), headers)

    def refusal(self, headers: Mapping[str, str], wire: Wire | None = None) -> HttpError | None:
        """The provider's refusal of a caller without credentials, or with a key outside `keys`; else None."""
        wire = wire or self.wire
        credential = wire.credential(headers)
        if not credential or (self.keys is not None and credential not in self.keys):
            return wire.unauthorized(credential)
        return None

    def listing(self, route: str, headers: Mapping[str, str]) -> Response | None:
        """The answer to a GET of a list of the known models (`/v1/models`, or one of `listings`, such
        as Bedrock's `/inference-profiles`) to a caller with credentials; None when `route` is no list."""
        render = self.listings.get(route)
        if render is None:
            return None
        if refused := self.refusal(headers):
            return self.error(refused)
        return json_response(200, render(sorted(self.known_models or ())))

    def answer(self, wire: Wire, path: str, headers: Mapping[str, str], raw: bytes) -> Response:
        """The response to one model request to `wire`'s API: validation, recording, latency, then the
        scenario's answer."""
        try:
            body = _json_object(raw)
            if refused := self.refusal(headers, wire):
                return self.error(refused, wire)
            sim = wire.parse(body, headers, path)
        except BadRequest as error:
            return self.error(HttpError(400, message=str(error)), wire)
        except Refused as refused:
            return self.error(refused.fault, wire)
        with self.lock:
            self.requests.append(RecordedRequest(path, headers, body, sim))
        self.pause(self.latency)
        delay, answer = _undelay(self._decide(wire, sim))
        try:
            response = self._render(wire, answer, body, sim)
        except Exception as error:
            response = self.error(_failure("the simulated answer could not be rendered", error), wire)
        return replace(response, delay=delay)

    def _decide(self, wire: Wire, sim: SimRequest) -> Answer:
        if self.known_models is not None and sim.model not in self.known_models:
            return wire.model_not_found(sim.model)
        try:
            return self.scenario.respond(sim)
        except Exception as error:
            return _failure("the scenario raised", error)

    def _render(
        self,
        wire: Wire,
        answer: SimReply | HttpError | DropStream | ErrorEvent,
        body: Mapping[str, Any],
        sim: SimRequest,
    ) -> Response:
        if isinstance(answer, HttpError):
            return self.error(answer, wire)
        if isinstance(answer, ErrorEvent) and not sim.stream:
            return self.error(wire.as_http_error(answer), wire)
        reply = answer if isinstance(answer, SimReply) else answer.partial
        exchange = self._exchange(wire, body, sim, reply)
        if not sim.stream:
            message = json.dumps(wire.message(reply, exchange)).encode()
            return Response(200, message, cut=isinstance(answer, DropStream))
        events = wire.events(reply, exchange)
        if isinstance(answer, DropStream):
            return Response(200, events=tuple(events[: answer.after_events]), cut=True)
        if isinstance(answer, ErrorEvent):
            return Response(200, events=(*events[: answer.after_events], wire.error_event(answer)))
        return Response(200, events=tuple(events))

    def _exchange(self, wire: Wire, body: Mapping[str, Any], sim: SimRequest, reply: SimReply) -> Exchange:
        output_tokens = reply_tokens(reply)
        if reply.input_tokens is not None:
            usage = Usage(input_tokens=reply.input_tokens, output_tokens=output_tokens)
        else:
            usage = self._cache.account(wire.segments(body), output_tokens, min_tokens=wire.min_cached_tokens)
        seed = hashlib.sha256(canonical(body).encode()).hexdigest()
        return Exchange(body=body, sim=sim, usage=usage, seed=seed)
