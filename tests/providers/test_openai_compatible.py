"""`kind = "openai-compatible"`: any Chat Completions server at a base URL, with or without a key."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.domain.run import Role
from aifactory.errors import ConfigError, ModelError
from aifactory.providers.openai import PLACEHOLDER_KEY
from aifactory.testing import FakeServer, FaultsFirst, HttpError
from tests.providers.roles import READER, factory, summarize

MODEL = "qwen3-coder:30b"


def _table(server: FakeServer, key_line: str = "") -> str:
    return f'kind = "openai-compatible"\nbase_url = "{server.base_url}"\n{key_line}'


async def test_a_local_server_without_a_key_gets_a_placeholder_and_answers(tmp_path: Path) -> None:
    with FakeServer(READER, "openai") as server:
        project = factory(tmp_path, "local", MODEL, _table(server), env={})
        answer = await summarize(project)

    assert answer.summary == "A project that greets."
    assert [r.sim.model for r in server.requests] == [MODEL, MODEL]
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {PLACEHOLDER_KEY}"}
    assert "A project that greets." in server.requests[-1].sim.find_results("read_file")[0].content
    assert [(c.provider, c.model, c.error) for c in project.calls()] == [("local", MODEL, None)] * 2


async def test_a_server_that_needs_a_key_gets_the_one_api_key_env_names(tmp_path: Path) -> None:
    with FakeServer(READER, "openai", keys={"sk-or-123"}) as server:
        table = _table(server, 'api_key_env = "OPENROUTER_API_KEY"')
        project = factory(
            tmp_path, "openrouter", "qwen/qwen3-coder", table, {"OPENROUTER_API_KEY": "sk-or-123"}
        )
        await summarize(project)

    assert {r.headers["authorization"] for r in server.requests} == {"Bearer sk-or-123"}


async def test_a_refused_key_is_a_model_error_naming_the_provider_and_the_variable(tmp_path: Path) -> None:
    with FakeServer(READER, "openai", keys={"the-right-key"}) as server:
        table = _table(server, 'api_key_env = "LOCAL_KEY"')
        project = factory(tmp_path, "local", MODEL, table, {"LOCAL_KEY": "a-wrong-key"})
        with pytest.raises(ModelError) as raised:
            await summarize(project)

    message = str(raised.value)
    assert "provider 'local'" in message and "role planner" in message
    assert "HTTP 401" in message and "LOCAL_KEY ([providers.local] api_key_env)" in message
    assert "a-wrong-key" not in message
    assert not raised.value.retryable
    assert len(project.calls()) == 1


async def test_a_server_wanting_a_key_when_none_is_configured_says_to_set_api_key_env(tmp_path: Path) -> None:
    with FakeServer(READER, "openai", keys={"the-right-key"}) as server:
        project = factory(tmp_path, "local", MODEL, _table(server), env={})
        with pytest.raises(ModelError, match=r"\[providers\.local\] names no api_key_env"):
            await summarize(project)


async def test_throttling_is_retried_by_the_factory_not_the_sdk(tmp_path: Path) -> None:
    scenario = FaultsFirst(READER, [HttpError(429, headers={"retry-after": "0"}), HttpError(503)])
    with FakeServer(scenario, "openai") as server:
        project = factory(tmp_path, "local", MODEL, _table(server), env={})
        answer = await summarize(project)

    assert answer.summary == "A project that greets."
    assert len(server.requests) == 4
    errors = [c.error for c in project.calls()]
    assert errors[0] is not None and "HTTP 429" in errors[0]
    assert errors[1] is not None and "HTTP 503" in errors[1]
    assert errors[2:] == [None, None]


def test_a_named_key_variable_that_is_not_set_fails_before_any_call(tmp_path: Path) -> None:
    project = factory(
        tmp_path,
        "local",
        MODEL,
        'kind = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "LOCAL_KEY"',
        {},
    )
    with pytest.raises(ConfigError) as raised:
        project.catalog.check([Role.EXECUTOR])

    assert "LOCAL_KEY is not set, which provider 'local' needs for role executor" in str(raised.value)
