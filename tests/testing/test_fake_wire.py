"""The wire formats checked by a second pair of clients: the official SDKs directly, and raw HTTP."""

from __future__ import annotations

import json

import httpx
from anthropic import Anthropic
from openai import OpenAI

from aifactory.testing import FakeServer, Script, SimReply, call_tools, reply_text

WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "array"}}}
FORECAST = call_tools(
    [("get_weather", {"city": "Paris", "days": [1, 2, 3]}), ("get_weather", {"city": "Lyon", "days": []})],
    text="Let me look up the weather in Paris and in Lyon for you.",
)


def test_anthropic_sdk_streams_text_and_parallel_tool_calls() -> None:
    with (
        FakeServer(Script(FORECAST), "anthropic") as server,
        Anthropic(base_url=server.base_url, api_key="test-key", max_retries=0) as client,
        client.messages.stream(
            model="claude-sonnet-4-6",
            max_tokens=256,
            messages=[{"role": "user", "content": "Weather in Paris and Lyon?"}],
            tools=[{"name": "get_weather", "description": "Forecast", "input_schema": WEATHER_SCHEMA}],
        ) as stream,
    ):
        texts = list(stream.text_stream)
        message = stream.get_final_message()

    assert "".join(texts) == FORECAST.text
    assert len(texts) > 1
    assert message.stop_reason == "tool_use"
    text, paris, lyon = message.content
    assert text.type == "text"
    assert paris.type == "tool_use"
    assert lyon.type == "tool_use"
    assert [(paris.name, paris.input), (lyon.name, lyon.input)] == list(FORECAST.tool_calls)
    assert paris.id.startswith("toolu_")
    assert paris.id != lyon.id
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 1


def test_openai_sdk_streams_text_tool_call_fragments_and_usage() -> None:
    with (
        FakeServer(Script(FORECAST), "openai") as server,
        OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0) as client,
    ):
        chunks = list(
            client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "Weather in Paris and Lyon?"}],
                tools=[
                    {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_SCHEMA}}
                ],
                stream=True,
                stream_options={"include_usage": True},
            )
        )

    deltas = [chunk.choices[0].delta for chunk in chunks if chunk.choices]
    arguments = ["", ""]
    for call in (call for delta in deltas for call in delta.tool_calls or []):
        arguments[call.index] += call.function.arguments or "" if call.function else ""
    assert "".join(delta.content or "" for delta in deltas) == FORECAST.text
    assert [json.loads(a) for a in arguments] == [args for _, args in FORECAST.tool_calls]
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "tool_calls"
    ]
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert (
        usage_chunk.usage.total_tokens
        == usage_chunk.usage.prompt_tokens + usage_chunk.usage.completion_tokens
    )


def test_openai_sdk_lists_the_known_models() -> None:
    with (
        FakeServer(Script(), "openai", known_models={"gpt-4o", "gpt-4o-mini"}) as server,
        OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0) as client,
    ):
        assert [model.id for model in client.models.list()] == ["gpt-4o", "gpt-4o-mini"]


def test_anthropic_sdk_reports_a_truncated_answer() -> None:
    with (
        FakeServer(Script(SimReply(text="cut off mid", stop="max_tokens")), "anthropic") as server,
        Anthropic(base_url=server.base_url, api_key="test-key", max_retries=0) as client,
    ):
        message = client.messages.create(
            model="claude-sonnet-4-6", max_tokens=3, messages=[{"role": "user", "content": "Talk"}]
        )

    assert message.stop_reason == "max_tokens"


def test_claude_code_probe_and_missing_credentials() -> None:
    with FakeServer(Script(reply_text("unused")), "anthropic") as server:
        probe = httpx.head(f"{server.base_url}/")
        refused = httpx.post(f"{server.base_url}/v1/messages?beta=true", json={"model": "m", "messages": []})

    assert probe.status_code == 200
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "authentication_error"
    assert refused.headers["request-id"].startswith("req_")
    assert server.requests == []


def test_openai_refuses_a_request_without_a_bearer_token() -> None:
    body = {"model": "gpt-4o", "messages": []}
    with FakeServer(Script(reply_text("unused")), "openai") as server:
        missing = httpx.post(f"{server.base_url}/chat/completions", json=body)
        basic = httpx.post(
            f"{server.base_url}/chat/completions", json=body, headers={"authorization": "Basic eDp5"}
        )

    assert [missing.status_code, basic.status_code] == [401, 401]
    assert missing.json()["error"]["code"] == "invalid_api_key"


def test_malformed_requests_and_unknown_paths_get_provider_errors() -> None:
    headers = {"x-api-key": "test-key"}
    with FakeServer(Script(reply_text("unused")), "anthropic") as server:
        not_json = httpx.post(f"{server.base_url}/v1/messages", content=b"{", headers=headers)
        no_messages = httpx.post(f"{server.base_url}/v1/messages", json={"model": "m"}, headers=headers)
        elsewhere = httpx.post(f"{server.base_url}/v1/complete", json={}, headers=headers)

    assert (not_json.status_code, not_json.json()["error"]["type"]) == (400, "invalid_request_error")
    assert "messages" in no_messages.json()["error"]["message"]
    assert (elsewhere.status_code, elsewhere.json()["error"]["type"]) == (404, "not_found_error")


def test_anthropic_refuses_more_than_four_cache_breakpoints() -> None:
    marked = {"type": "text", "text": "context", "cache_control": {"type": "ephemeral"}}
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 16,
        "system": [marked, marked],
        "messages": [{"role": "user", "content": [marked, marked]}],
        "cache_control": {"type": "ephemeral"},
    }
    with FakeServer(Script(reply_text("ok")), "anthropic") as server:
        answer = httpx.post(f"{server.base_url}/v1/messages", json=body, headers={"x-api-key": "k"})
        within = httpx.post(
            f"{server.base_url}/v1/messages", json={**body, "cache_control": None}, headers={"x-api-key": "k"}
        )
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "type": "invalid_request_error",
        "message": "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    }
    assert within.status_code == 200


def test_openai_reads_a_shared_opening_inside_a_message_from_the_cache() -> None:
    plan = "Step one writes the notes; step two checks them. " * 120
    with (
        FakeServer(Script(reply_text("ok"), reply_text("ok")), "openai") as server,
        OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0) as client,
    ):
        usages = [
            client.chat.completions.create(
                model="gpt-4o",
                messages=[
                    {
                        "role": "user",
                        "content": [{"type": "text", "text": plan}, {"type": "text", "text": step}],
                    }
                ],
            ).usage
            for step in ("Do step 1.", "Do step 2.")
        ]
    first, second = (usage for usage in usages if usage is not None)
    cached = [
        u.prompt_tokens_details.cached_tokens if u.prompt_tokens_details else 0 for u in (first, second)
    ]
    assert cached[0] == 0
    assert 1024 <= cached[1] < second.prompt_tokens
    assert cached[1] % 128 == 0
