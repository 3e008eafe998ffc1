"""Azure OpenAI's checks on top of OpenAI's wire: the deployment path, `api-version`, the `api-key` header."""

from __future__ import annotations

import httpx

from aifactory.testing import FakeServer, HttpError, Script, reply_text

BODY = {"model": "ignored-by-azure", "messages": [{"role": "user", "content": "Hello"}]}
KEY = {"api-key": "azure-key"}


def _post(server: FakeServer, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server.base_url}{path}", json=BODY, headers=headers)


def test_the_deployment_in_the_path_is_the_model() -> None:
    with FakeServer(Script(reply_text("hi")), "azure-openai") as server:
        answer = _post(server, "/openai/deployments/prod-gpt/chat/completions?api-version=2024-10-21", KEY)

    assert answer.status_code == 200
    assert answer.headers["apim-request-id"].startswith("req_")
    assert answer.json()["choices"][0]["message"]["content"] == "hi"
    (request,) = server.requests
    assert (request.sim.protocol, request.sim.model) == ("azure-openai", "prod-gpt")


def test_a_missing_or_malformed_api_version_is_azures_resource_not_found() -> None:
    with FakeServer(Script(reply_text("unused")), "azure-openai") as server:
        missing = _post(server, "/openai/deployments/d/chat/completions", KEY)
        malformed = _post(server, "/openai/deployments/d/chat/completions?api-version=v1", KEY)

    for answer in (missing, malformed):
        assert answer.status_code == 404
        assert answer.json() == {"error": {"code": "404", "message": "Resource not found"}}
    assert server.requests == []


def test_the_key_must_come_in_the_api_key_header() -> None:
    path = "/openai/deployments/d/chat/completions?api-version=2024-10-21"
    with FakeServer(Script(reply_text("unused")), "azure-openai", keys={"azure-key"}) as server:
        bearer = _post(server, path, {"authorization": "Bearer azure-key"})
        wrong = _post(server, path, {"api-key": "another-key"})

    assert (bearer.status_code, wrong.status_code) == (401, 401)
    assert bearer.json()["error"]["code"] == "401"
    assert "missing subscription key" in bearer.json()["error"]["message"]
    assert "invalid subscription key" in wrong.json()["error"]["message"]


def test_an_unknown_deployment_and_throttling_get_azures_error_shapes() -> None:
    path = "/openai/deployments/{}/chat/completions?api-version=2025-04-01-preview"
    throttled = HttpError(429, headers={"retry-after": "3"})
    with FakeServer(Script(throttled), "azure-openai", known_models={"known"}) as server:
        unknown = _post(server, path.format("other"), KEY)
        limited = _post(server, path.format("known"), KEY)

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "DeploymentNotFound"
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert limited.json()["error"]["code"] == "429"
