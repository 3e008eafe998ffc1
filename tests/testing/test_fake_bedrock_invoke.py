"""Bedrock's InvokeModel for Claude, read by botocore and by Anthropic's Bedrock client: what Claude
Code's Bedrock mode calls (its own run against the fake is in `tests/agents/test_claude_code_bedrock.py`)."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import httpx
import pytest
from anthropic import AnthropicBedrock
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

from aifactory.testing import ErrorEvent, FakeServer, HttpError, Script, call_tools, reply_text
from tests.testing.test_fake_wire import FORECAST, WEATHER_SCHEMA

MODEL = "us.anthropic.claude-sonnet-5-5-v1:0"
BODY: dict[str, Any] = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 321,
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "Weather in Paris and Lyon?"}],
    "tools": [{"name": "get_weather", "input_schema": WEATHER_SCHEMA}],
}


def _client(server: FakeServer, service: str = "bedrock-runtime") -> Any:
    session = boto3.Session(
        aws_access_key_id="AKIDFAKE", aws_secret_access_key="fake-secret", region_name="us-east-1"
    )
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    return session.client(service, endpoint_url=server.base_url, config=config)


def _chunks(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(event["chunk"]["bytes"]) for event in response["body"]]


def test_the_stream_frames_each_messages_api_event_in_a_chunk() -> None:
    with FakeServer(Script(FORECAST), "bedrock") as server:
        response = _client(server).invoke_model_with_response_stream(modelId=MODEL, body=json.dumps(BODY))
        events = _chunks(response)

    kinds = [event["type"] for event in events]
    assert kinds[:2] == ["message_start", "ping"] and kinds[-2:] == ["message_delta", "message_stop"]
    text = "".join(
        e["delta"]["text"] for e in events if e["type"] == "content_block_delta" and e["index"] == 0
    )
    assert text == FORECAST.text
    metrics = events[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == events[-2]["usage"]["output_tokens"] > 1
    (request,) = server.requests
    assert request.path == "/model/us.anthropic.claude-sonnet-5-5-v1%3A0/invoke-with-response-stream"
    assert (request.sim.protocol, request.sim.model, request.sim.stream) == ("bedrock", MODEL, True)
    assert request.sim.system == "Be brief." and request.sim.offers("get_weather")
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDFAKE/")


def test_anthropics_bedrock_client_reads_tool_calls_from_the_stream_and_the_json_answer() -> None:
    calls = call_tools([("get_weather", {"city": "Oslo"})])
    with FakeServer(Script(calls, calls), "bedrock") as server:
        client = AnthropicBedrock(
            aws_access_key="AKIDFAKE",
            aws_secret_key="fake-secret",
            aws_region="us-east-1",
            base_url=server.base_url,
            max_retries=0,
        )
        request = {k: v for k, v in BODY.items() if k != "anthropic_version"}
        with client.messages.stream(model=MODEL, **request) as stream:
            streamed = stream.get_final_message()
        answered = client.messages.create(model=MODEL, **request)

    for message in (streamed, answered):
        (tool_use,) = message.content
        assert tool_use.type == "tool_use" and tool_use.input == {"city": "Oslo"}
        assert message.stop_reason == "tool_use" and message.usage.output_tokens > 0
    assert [r.path.rsplit("/", 1)[1] for r in server.requests] == ["invoke-with-response-stream", "invoke"]


def test_throttling_is_a_429_throttling_exception_before_the_stream_and_an_exception_inside_it() -> None:
    fault = ErrorEvent(3, "throttlingException", "Too many tokens, please wait before trying again.")
    with FakeServer(Script(HttpError(429), fault), "bedrock") as server:
        client = _client(server)
        with pytest.raises(ClientError) as refused:
            client.invoke_model_with_response_stream(modelId=MODEL, body=json.dumps(BODY))
        response = client.invoke_model_with_response_stream(modelId=MODEL, body=json.dumps(BODY))
        with pytest.raises(EventStreamError) as interrupted:
            _chunks(response)

    assert refused.value.response["Error"]["Code"] == "ThrottlingException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert interrupted.value.response["Error"] == {
        "Code": "throttlingException",
        "Message": "Too many tokens, please wait before trying again.",
    }


def test_a_body_without_an_anthropic_version_is_a_validation_exception() -> None:
    with (
        FakeServer(Script(reply_text("unreachable")), "bedrock") as server,
        pytest.raises(ClientError) as bad,
    ):
        body = {k: v for k, v in BODY.items() if k != "anthropic_version"}
        _client(server).invoke_model(modelId=MODEL, body=json.dumps(body))

    assert bad.value.response["Error"]["Code"] == "ValidationException"
    assert "bedrock-2023-05-31" in bad.value.response["Error"]["Message"]
    assert server.requests == []


def test_the_inference_profiles_list_the_known_models_to_a_signed_caller() -> None:
    with FakeServer(Script(), "bedrock", known_models={MODEL}) as server:
        listed = _client(server, "bedrock").list_inference_profiles(typeEquals="SYSTEM_DEFINED")
        unsigned = httpx.get(f"{server.base_url}/inference-profiles")

    (profile,) = listed["inferenceProfileSummaries"]
    assert (profile["inferenceProfileId"], profile["status"], profile["type"]) == (
        MODEL,
        "ACTIVE",
        "SYSTEM_DEFINED",
    )
    assert unsigned.status_code == 403


def test_a_chunk_carries_its_event_as_base64_json() -> None:
    with FakeServer(Script(reply_text("hi")), "bedrock") as server:
        raw = httpx.post(
            f"{server.base_url}/model/{MODEL}/invoke-with-response-stream",
            json=BODY,
            headers={
                "authorization": "AWS4-HMAC-SHA256 Credential=AKIDFAKE/20261124/us-east-1/bedrock/"
                "aws4_request, SignedHeaders=host;x-amz-date, Signature=00ff",
                "x-amz-date": "20261124T000000Z",
            },
        )

    assert raw.headers["content-type"] == "application/vnd.amazon.eventstream"
    payload_start = raw.content.index(b'{"bytes":"')
    payload = json.loads(raw.content[payload_start : raw.content.index(b"}", payload_start) + 1])
    assert json.loads(base64.b64decode(payload["bytes"]))["type"] == "message_start"
