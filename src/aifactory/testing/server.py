"""`FakeServer`: a local HTTP server that answers as a model provider would, driven by a scenario.

Real HTTP on 127.0.0.1 rather than a mocked client, so every test exercises the same SDK and
pydantic-ai code paths a user's run does: serialization, streaming, error classification, timeouts.
Each connection gets its own thread, so latency and delays never serialize concurrent calls.
"""

from __future__ import annotations

import functools
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from aifactory.testing.endpoint import Endpoint, Listing, RecordedRequest, Response
from aifactory.testing.scenario import HttpError, WireProtocol
from aifactory.testing.scenarios import Scenario
from aifactory.testing.wire import Wire
from aifactory.testing.wire_anthropic import AnthropicWire
from aifactory.testing.wire_azure import AzureOpenAIWire, AzureResponsesWire
from aifactory.testing.wire_bedrock import BedrockWire
from aifactory.testing.wire_bedrock_invoke import BedrockInvokeWire, inference_profiles
from aifactory.testing.wire_gemini import GeminiWire
from aifactory.testing.wire_openai import OpenAIWire
from aifactory.testing.wire_responses import ResponsesWire

_WIRES: dict[str, tuple[Callable[[], Wire], ...]] = {
    "anthropic": (AnthropicWire,),
    "openai": (OpenAIWire, ResponsesWire),
    "openai-responses": (ResponsesWire,),
    "azure-openai": (AzureOpenAIWire, AzureResponsesWire),
    "azure-openai-responses": (AzureResponsesWire,),
    "bedrock": (BedrockWire, BedrockInvokeWire),
    "gemini": (GeminiWire,),
}
"""The APIs each simulated provider serves: OpenAI and Azure serve Chat Completions and the Responses
API side by side, as the real ones do; the `-responses` protocols serve the Responses API alone; Bedrock
serves Converse and InvokeModel (Claude Code's Bedrock mode)."""

_LISTINGS: dict[str, dict[str, Listing]] = {"bedrock": {"/inference-profiles": inference_profiles}}
"""Lists a provider answers besides `/v1/models`: Claude Code on Bedrock asks for the inference profiles."""

_POLL_SECONDS = 0.02
"""How often the serving loop checks for `stop()`: the default half second would slow every test."""


class _LoopbackServer(ThreadingHTTPServer):
    """A listen backlog big enough for bursts of concurrent clients.

    With `socketserver`'s default of 5, a burst of a dozen connections overflows the queue and the
    kernel drops SYNs, which clients only retry after a second: latency tests would see +1 s.
    """

    request_queue_size = 128
    daemon_threads = True


class FakeServer:
    """A simulated model provider on 127.0.0.1: Anthropic, OpenAI, Azure OpenAI, Bedrock (Converse and
    InvokeModel) or Gemini.

    `protocol` names the provider and so the APIs it serves (see `_WIRES`); each request is answered
    in the API of the path it was sent to, and its `SimRequest.protocol` names that API.

    Use it as a context manager (or `start()` / `stop()`) and point a client at `base_url`. Every
    model request is kept in `requests`. `latency` adds a fixed wait to each call; `known_models`,
    when given, makes any other model a 404 as the provider would answer it; `keys`, when given,
    makes any other key the provider's 401 (without it, any non-empty key is accepted).
    """

    def __init__(
        self,
        scenario: Scenario,
        protocol: WireProtocol = "anthropic",
        *,
        latency: float = 0.0,
        known_models: Iterable[str] | None = None,
        keys: Iterable[str] | None = None,
    ) -> None:
        if protocol not in _WIRES:
            raise ValueError(f"unknown wire protocol {protocol!r}: choose one of {sorted(_WIRES)}")
        self.protocol: WireProtocol = protocol
        wires = [make() for make in _WIRES[protocol]]
        models = frozenset(known_models) if known_models is not None else None
        accepted = frozenset(keys) if keys is not None else None
        self._endpoint = Endpoint(
            wires,
            scenario,
            latency=latency,
            known_models=models,
            keys=accepted,
            listings=_LISTINGS.get(protocol),
        )
        self._connections: set[socket.socket] = set()
        self._httpd: _LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on, once started."""
        if self._httpd is None:
            raise RuntimeError("the fake server is not running: use it as a context manager or call start()")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The base URL the SDK expects: with `/v1` for OpenAI; the bare root for the others (Azure's
        resource endpoint, Bedrock's `endpoint_url`, Gemini's `GOOGLE_GEMINI_BASE_URL`)."""
        root = f"http://127.0.0.1:{self.port}"
        return f"{root}/v1" if self.protocol in ("openai", "openai-responses") else root

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the model requests received so far, oldest first.

        Requests refused before reaching the scenario (no credentials, malformed JSON) are not kept.
        """
        with self._endpoint.lock:
            return list(self._endpoint.requests)

    def start(self) -> FakeServer:
        """Bind a free port on 127.0.0.1 and serve from daemon threads."""
        if self._httpd is not None:
            raise RuntimeError("the fake server is already running")
        self._endpoint.stopping.clear()
        httpd = _LoopbackServer(("127.0.0.1", 0), functools.partial(_Handler, self._endpoint, self._track))
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(_POLL_SECONDS,), name=f"fake-{self.protocol}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections and cancel pending delays."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._endpoint.stopping.set()
        httpd.shutdown()
        with self._endpoint.lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _track(self, connection: socket.socket, is_open: bool) -> None:
        with self._endpoint.lock:
            if is_open:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as the SDKs' connection pools expect; SSE in chunked transfer encoding."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, each response would wait
    # for the client's delayed ACK (~40 ms), which is latency a real provider does not add.
    disable_nagle_algorithm = True

    def __init__(self, endpoint: Endpoint, track: Callable[[socket.socket, bool], None], *args: Any) -> None:
        self.endpoint = endpoint
        self.track = track
        super().__init__(*args)

    def setup(self) -> None:
        super().setup()
        self.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FakeServer.requests`, not a log on stderr."""

    def do_HEAD(self) -> None:
        """Claude Code probes `HEAD /` before its first request."""
        self._write(Response(200 if self._route() == "/" else 404), head=True)

    def do_GET(self) -> None:
        route = self._route()
        if route == "/":
            self._write(Response(200, b"ok", headers={"content-type": "text/plain"}))
        elif listing := self.endpoint.listing(route, self._headers()):
            self._write(listing)
        else:
            self._write(self.endpoint.error(HttpError(404, message=f"Invalid URL (GET {self.path})")))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        if wire := self.endpoint.wire_for(self._route()):
            self._write(self.endpoint.answer(wire, self.path, self._headers(), raw))
        else:
            self._write(self.endpoint.error(HttpError(404, message=f"Invalid URL (POST {self.path})")))

    def _route(self) -> str:
        return self.path.partition("?")[0]

    def _headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _write(self, response: Response, *, head: bool = False) -> None:
        """Send `response`; a client that hung up (e.g. after its own timeout) is not an error."""
        try:
            self.endpoint.pause(response.delay)
            self._send_head(response)
            if not head:
                self._send_body(response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_head(self, response: Response) -> None:
        self.send_response(response.status)
        streaming = response.events is not None
        headers = {
            "content-type": self.endpoint.wire.stream_content_type if streaming else "application/json",
            self.endpoint.wire.request_id_header: f"req_{uuid.uuid4().hex[:24]}",
            **response.headers,
        }
        if streaming:
            headers.update({"cache-control": "no-cache", "transfer-encoding": "chunked"})
        else:
            headers["content-length"] = str(len(response.body))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send_body(self, response: Response) -> None:
        """Write the body, flushing each event; a cut response closes the connection mid-body."""
        if response.events is None:
            self.wfile.write(response.body[: len(response.body) // 2] if response.cut else response.body)
        else:
            for event in response.events:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            if not response.cut:
                self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        if response.cut:
            self.close_connection = True
