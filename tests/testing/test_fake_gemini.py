"""The fake Gemini API: the paths, bodies, streams and errors Gemini CLI's SDK sends and reads.

The real Gemini CLI runs against it in `tests/agents`; these pin the shapes one request at a time.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from aifactory.testing import FakeServer, HttpError, Script, SimRequest, call_tool, reply_text
from aifactory.testing.scenario import Answer

KEY = {"x-goog-api-key": "gemini-key"}
PATH = "/v1beta/models/gemini-2.5-flash:{}"


def _body(*contents: dict[str, Any], tools: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contents": list(contents),
        "systemInstruction": {"parts": [{"text": "You are a CLI agent."}]},
    }
    if tools:
        schema = {"type": "object", "properties": {"file_path": {"type": "string"}}}
        body["tools"] = [{"functionDeclarations": [{"name": "write_file", "parametersJsonSchema": schema}]}]
    return body


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def _events(answer: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in answer.text.splitlines() if line.startswith("data: ")]


def test_the_model_comes_from_the_path_and_the_answer_is_a_candidate_with_usage() -> None:
    with FakeServer(Script(reply_text("Hello there.")), "gemini") as server:
        answer = httpx.post(
            server.base_url + PATH.format("generateContent"), json=_body(_user("hi")), headers=KEY
        )

    assert answer.status_code == 200
    body = answer.json()
    [candidate] = body["candidates"]
    assert candidate["content"] == {"parts": [{"text": "Hello there."}], "role": "model"}
    assert candidate["finishReason"] == "STOP"
    usage = body["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]
    [request] = server.requests
    assert (request.sim.protocol, request.sim.model, request.sim.stream) == (
        "gemini",
        "gemini-2.5-flash",
        False,
    )
    assert (request.sim.system, request.sim.prompt) == ("You are a CLI agent.", "hi")


def test_a_stream_sends_whole_responses_as_server_sent_events_the_last_with_usage() -> None:
    text = "A longer answer that arrives in several pieces."
    with FakeServer(Script(reply_text(text)), "gemini") as server:
        url = server.base_url + PATH.format("streamGenerateContent") + "?alt=sse"
        answer = httpx.post(url, json=_body(_user("hi")), headers=KEY)

    assert answer.headers["content-type"].startswith("text/event-stream")
    events = _events(answer)
    assert len(events) > 1
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for e in events) == text
    assert all("usageMetadata" not in e and "finishReason" not in e["candidates"][0] for e in events[:-1])
    assert events[-1]["candidates"][0]["finishReason"] == "STOP" and events[-1]["usageMetadata"]
    assert server.requests[0].sim.stream


def test_a_function_call_and_its_response_make_a_tool_round_trip() -> None:
    def write_then_answer(request: SimRequest) -> Answer:
        if done := request.find_results("write_file"):
            return reply_text(f"Done: {done[0].content}")
        return call_tool("write_file", file_path="hello.txt")

    with FakeServer(Script(write_then_answer, write_then_answer), "gemini") as server:
        url = server.base_url + PATH.format("streamGenerateContent") + "?alt=sse"
        first = _events(httpx.post(url, json=_body(_user("write"), tools=True), headers=KEY))
        [call] = first[-1]["candidates"][0]["content"]["parts"]
        assert call == {"functionCall": {"name": "write_file", "args": {"file_path": "hello.txt"}}}
        response = {"functionResponse": {"name": "write_file", "response": {"output": "Wrote it."}}}
        history = [_user("write"), {"role": "model", "parts": [call]}, {"role": "user", "parts": [response]}]
        second = _events(httpx.post(url, json=_body(*history, tools=True), headers=KEY))

    assert second[-1]["candidates"][0]["content"]["parts"] == [{"text": "Done: Wrote it."}]
    assert server.requests[0].sim.offers("write_file")
    assert server.requests[1].sim.turns_since_user() == 1


def test_a_repeated_prefix_is_reported_as_cached_content() -> None:
    long_prompt = "context " * 2000
    with FakeServer(Script(reply_text("one"), reply_text("two")), "gemini") as server:
        url = server.base_url + PATH.format("generateContent")
        httpx.post(url, json=_body(_user(long_prompt)), headers=KEY)
        again = httpx.post(url, json=_body(_user(long_prompt), _user("and more")), headers=KEY).json()

    usage = again["usageMetadata"]
    assert 0 < usage["cachedContentTokenCount"] <= usage["promptTokenCount"]


def test_a_limit_is_resource_exhausted_with_its_retry_delay_and_quota_id() -> None:
    limited = HttpError(429, headers={"retry-after": "30"}, code="GenerateRequestsPerDayPerProjectPerModel")
    with FakeServer(Script(limited), "gemini") as server:
        answer = httpx.post(
            server.base_url + PATH.format("generateContent"), json=_body(_user("hi")), headers=KEY
        )

    assert answer.status_code == 429
    error = answer.json()["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    kinds = {detail["@type"].rpartition(".")[2]: detail for detail in error["details"]}
    assert kinds["RetryInfo"]["retryDelay"] == "30s"
    assert kinds["QuotaFailure"]["violations"][0]["quotaId"] == "GenerateRequestsPerDayPerProjectPerModel"


def test_keys_and_models_are_refused_as_the_gemini_api_refuses_them() -> None:
    with FakeServer(
        Script(reply_text("unused")), "gemini", keys={"gemini-key"}, known_models={"x"}
    ) as server:
        url = server.base_url + PATH.format("generateContent")
        missing = httpx.post(url, json=_body(_user("hi")))
        wrong = httpx.post(url, json=_body(_user("hi")), headers={"x-goog-api-key": "other"})
        unknown = httpx.post(url, json=_body(_user("hi")), headers=KEY)

    assert (missing.status_code, missing.json()["error"]["status"]) == (403, "PERMISSION_DENIED")
    assert (wrong.status_code, wrong.json()["error"]["message"]) == (
        400,
        "API key not valid. Please pass a valid API key.",
    )
    assert (unknown.status_code, unknown.json()["error"]["status"]) == (404, "NOT_FOUND")
    assert "models/gemini-2.5-flash is not found" in unknown.json()["error"]["message"]
