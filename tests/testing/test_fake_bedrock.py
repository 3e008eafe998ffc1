"""Bedrock's Converse API checked with botocore directly: the event-stream framing, SigV4, AWS's errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

from aifactory.testing import ErrorEvent, FakeServer, HttpError, Script, call_tools
from tests.testing.test_fake_wire import FORECAST, WEATHER_SCHEMA

MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
REQUEST: dict[str, Any] = {
    "modelId": MODEL,
    "messages": [{"role": "user", "content": [{"text": "Weather in Paris and Lyon?"}]}],
    "system": [{"text": "Be brief."}],
    "inferenceConfig": {"maxTokens": 321},
    "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": WEATHER_SCHEMA}}}]},
}


def _client(server: FakeServer, access_key: str = "AKIDFAKE") -> Any:
    session = boto3.Session(
        aws_access_key_id=access_key, aws_secret_access_key="fake-secret", region_name="eu-west-3"
    )
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    return session.client("bedrock-runtime", endpoint_url=server.base_url, config=config)


def _events(response: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for event in response["stream"]:
        ((kind, payload),) = event.items()
        yield kind, payload


def test_botocore_reads_the_streamed_text_tool_uses_and_usage() -> None:
    with FakeServer(Script(FORECAST), "bedrock") as server:
        events = list(_events(_client(server).converse_stream(**REQUEST)))

    kinds = [kind for kind, _ in events]
    assert kinds[0] == "messageStart" and kinds[-2:] == ["messageStop", "metadata"]
    text = "".join(p["delta"]["text"] for k, p in events if k == "contentBlockDelta" and "text" in p["delta"])
    assert text == FORECAST.text
    starts = [p["start"]["toolUse"] for k, p in events if k == "contentBlockStart"]
    assert [s["name"] for s in starts] == ["get_weather", "get_weather"]
    assert starts[0]["toolUseId"] != starts[1]["toolUseId"]
    paris = "".join(
        p["delta"]["toolUse"]["input"]
        for k, p in events
        if k == "contentBlockDelta" and p["contentBlockIndex"] == 1 and "toolUse" in p["delta"]
    )
    assert paris == '{"city": "Paris", "days": [1, 2, 3]}'
    assert events[-2][1]["stopReason"] == "tool_use"
    usage = events[-1][1]["usage"]
    assert usage["inputTokens"] > 0 and usage["outputTokens"] > 1
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]


def test_the_request_is_read_from_the_path_and_the_converse_body() -> None:
    with FakeServer(Script(call_tools([("get_weather", {"city": "Oslo"})])), "bedrock") as server:
        answer = _client(server).converse(**REQUEST)

    (request,) = server.requests
    assert request.path == "/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    assert (request.sim.model, request.sim.stream, request.sim.max_tokens) == (MODEL, False, 321)
    assert request.sim.system == "Be brief." and request.sim.offers("get_weather")
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDFAKE/")
    assert "/eu-west-3/bedrock/aws4_request" in request.headers["authorization"]
    (tool_use,) = answer["output"]["message"]["content"]
    assert tool_use["toolUse"]["input"] == {"city": "Oslo"}
    assert answer["stopReason"] == "tool_use"


def test_throttling_is_a_429_throttling_exception_with_the_aws_error_type() -> None:
    with FakeServer(Script(HttpError(429)), "bedrock") as server, pytest.raises(ClientError) as raised:
        _client(server).converse_stream(**REQUEST)

    error = raised.value.response
    assert error["Error"] == {
        "Code": "ThrottlingException",
        "Message": "Too many requests, please wait before trying again.",
    }
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith("ThrottlingException:")
    assert len(server.requests) == 1


def test_an_exception_inside_the_stream_is_botocores_event_stream_error() -> None:
    fault = ErrorEvent(3, "ServiceUnavailableException", "Bedrock is unable to process your request.")
    with FakeServer(Script(fault), "bedrock") as server:
        response = _client(server).converse_stream(**REQUEST)
        with pytest.raises(EventStreamError) as raised:
            list(_events(response))

    assert raised.value.response["Error"]["Code"] == "serviceUnavailableException"


def test_requests_must_be_signed_and_by_a_known_access_key() -> None:
    url_path = "/model/m/converse"
    with FakeServer(Script(), "bedrock", keys={"AKIDKNOWN"}) as server:
        unsigned = httpx.post(f"{server.base_url}{url_path}", json={"messages": []})
        with pytest.raises(ClientError) as refused:
            _client(server, access_key="AKIDOTHER").converse(**REQUEST)

    assert unsigned.status_code == 403
    assert unsigned.headers["x-amzn-errortype"].startswith("MissingAuthenticationTokenException")
    assert unsigned.json() == {"message": "Missing Authentication Token"}
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert server.requests == []
