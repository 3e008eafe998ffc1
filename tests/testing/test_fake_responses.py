"""The Responses API wire, checked by the official SDK's own types and by raw HTTP."""

from __future__ import annotations

import json

import httpx
from openai import OpenAI

from aifactory.testing import ErrorEvent, FakeServer, Script, SimReply, call_tools, reply_text

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOLS = [{"type": "function", "name": "get_weather", "parameters": WEATHER}]
FORECAST = call_tools(
    [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Lyon"})],
    text="Let me look up the weather in Paris and in Lyon for you.",
)
KEY = {"authorization": "Bearer test-key"}


def test_the_sdk_streams_text_and_parallel_function_calls_as_semantic_events() -> None:
    with (
        FakeServer(Script(FORECAST), "openai-responses") as server,
        OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0) as client,
    ):
        events = list(
            client.responses.create(
                model="gpt-5", input="Weather in Paris and Lyon?", tools=TOOLS, stream=True
            )
        )

    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == FORECAST.text
    done = [e.item for e in events if e.type == "response.output_item.done"]
    assert [item.type for item in done] == ["message", "function_call", "function_call"]
    calls = [item for item in done if item.type == "function_call"]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == list(FORECAST.tool_calls)
    for call in calls:
        deltas = [
            e.delta
            for e in events
            if e.type == "response.function_call_arguments.delta" and e.item_id == call.id
        ]
        assert len(deltas) > 1 and "".join(deltas) == call.arguments
    assert calls[0].call_id != calls[1].call_id
    final = events[-1].response
    assert final.status == "completed"
    assert final.output_text == FORECAST.text
    assert final.usage is not None
    assert final.usage.total_tokens == final.usage.input_tokens + final.usage.output_tokens


def test_a_json_answer_reports_the_cached_prefix_of_a_repeated_prompt() -> None:
    instructions = "You are a careful reviewer. " * 400
    with (
        FakeServer(Script(reply_text("first"), reply_text("second")), "openai-responses") as server,
        OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0) as client,
    ):
        first, second = (
            client.responses.create(model="gpt-5", instructions=instructions, input=ask, tools=TOOLS)
            for ask in ("Review this.", "Review that.")
        )

    assert (first.output_text, second.output_text) == ("first", "second")
    assert first.usage is not None and second.usage is not None
    assert first.usage.input_tokens_details.cached_tokens == 0
    cached = second.usage.input_tokens_details.cached_tokens
    assert 1024 <= cached < second.usage.input_tokens
    assert server.requests[0].sim.system == instructions


def test_a_truncated_answer_is_an_incomplete_response() -> None:
    with (
        FakeServer(Script(SimReply(text="cut off mid", stop="max_tokens")), "openai-responses") as server,
        OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0) as client,
    ):
        events = list(client.responses.create(model="gpt-5", input="Talk", max_output_tokens=3, stream=True))

    final = events[-1]
    assert final.type == "response.incomplete"
    assert final.response.incomplete_details is not None
    assert final.response.incomplete_details.reason == "max_output_tokens"


def test_a_failure_mid_stream_is_a_failed_response_or_an_error_event() -> None:
    limited = ErrorEvent(3, "tokens", "Rate limit reached", code="rate_limit_exceeded")
    broken = ErrorEvent(2, "server_error", "The server had an error", code="server_error", event="error")
    body = {"model": "gpt-5", "input": "Hello", "stream": True}
    with FakeServer(Script(limited, broken), "openai-responses") as server:
        failed, errored = (httpx.post(f"{server.base_url}/responses", json=body, headers=KEY) for _ in "ab")

    *sent, last = [json.loads(line[6:]) for line in failed.text.splitlines() if line.startswith("data: ")]
    assert [event["type"] for event in sent] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
    ]
    assert last["type"] == "response.failed" and last["sequence_number"] == 3
    assert last["response"]["status"] == "failed"
    assert last["response"]["error"] == {
        "code": "rate_limit_exceeded",
        "message": "Rate limit reached",
        "type": "tokens",
    }
    error = json.loads(errored.text.splitlines()[-2][6:])
    assert error == {
        "type": "error",
        "code": "server_error",
        "message": "The server had an error",
        "param": None,
        "sequence_number": 2,
    }


def test_openai_serves_chat_completions_and_responses_side_by_side() -> None:
    with FakeServer(Script(reply_text("chat"), reply_text("responses")), "openai") as server:
        chat = httpx.post(
            f"{server.base_url}/chat/completions",
            json={"model": "gpt-5", "messages": [{"role": "user", "content": "Hi"}]},
            headers=KEY,
        )
        responses = httpx.post(
            f"{server.base_url}/responses", json={"model": "gpt-5", "input": "Hi"}, headers=KEY
        )

    assert chat.json()["choices"][0]["message"]["content"] == "chat"
    assert responses.json()["output"][0]["content"][0]["text"] == "responses"
    assert [r.sim.protocol for r in server.requests] == ["openai", "openai-responses"]


def test_a_malformed_request_and_a_missing_key_get_openais_errors() -> None:
    with FakeServer(Script(reply_text("unused")), "openai-responses") as server:
        no_input = httpx.post(f"{server.base_url}/responses", json={"model": "gpt-5"}, headers=KEY)
        no_key = httpx.post(f"{server.base_url}/responses", json={"model": "gpt-5", "input": "Hi"})
        chat = httpx.post(f"{server.base_url}/chat/completions", json={"model": "gpt-5"}, headers=KEY)

    assert (no_input.status_code, no_input.json()["error"]["type"]) == (400, "invalid_request_error")
    assert "input" in no_input.json()["error"]["message"]
    assert (no_key.status_code, no_key.json()["error"]["code"]) == (401, "invalid_api_key")
    assert chat.status_code == 404, "a Responses-only server has no Chat Completions"
    assert server.requests == []


def test_azure_serves_responses_on_its_dated_and_its_v1_paths_with_its_key_header() -> None:
    body = {"model": "gpt-5-prod", "input": "Hi"}
    azure_key = {"api-key": "azure-key"}
    with FakeServer(
        Script(reply_text("dated"), reply_text("v1")), "azure-openai", keys={"azure-key"}
    ) as server:
        dated = httpx.post(
            f"{server.base_url}/openai/responses?api-version=2025-04-01-preview", json=body, headers=azure_key
        )
        v1 = httpx.post(f"{server.base_url}/openai/v1/responses", json=body, headers=azure_key)
        undated = httpx.post(f"{server.base_url}/openai/responses", json=body, headers=azure_key)
        bearer = httpx.post(f"{server.base_url}/openai/v1/responses", json=body, headers=KEY)

    assert [dated.status_code, v1.status_code] == [200, 200]
    assert dated.headers["apim-request-id"].startswith("req_")
    assert [r.sim.protocol for r in server.requests] == ["azure-openai-responses"] * 2
    assert {r.sim.model for r in server.requests} == {"gpt-5-prod"}
    assert undated.json() == {"error": {"code": "404", "message": "Resource not found"}}
    assert bearer.status_code == 401 and "missing subscription key" in bearer.json()["error"]["message"]
