"""OpenAI's Responses API: kind `openai` by default; `api = "responses"` for compatible servers and Azure."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.config import load_config
from aifactory.domain.events import Event, ProviderCooled, ProviderSwitched
from aifactory.domain.prices import Price
from aifactory.roles.kit import ModelCatalog
from aifactory.testing import ErrorEvent, FakeServer, Fault, FaultsFirst, HttpError
from tests.providers.roles import READER, README, Factory, factory, summarize

GPT = "gpt-5.5-pro"
ENV = {"OPENAI_API_KEY": "sk-test"}
SUMMARY = "A project that greets."


def _openai(server: FakeServer, *lines: str) -> str:
    return "\n".join(
        [f'kind = "openai"\nbase_url = "{server.base_url}"\napi_key_env = "OPENAI_API_KEY"', *lines]
    )


async def test_openai_itself_is_called_through_the_responses_api_by_default(tmp_path: Path) -> None:
    with FakeServer(READER, "openai") as server:
        project = factory(tmp_path, "gpt", GPT, _openai(server), ENV)
        answer = await summarize(project)

    assert answer.summary == SUMMARY
    assert [(r.path, r.sim.protocol) for r in server.requests] == [("/v1/responses", "openai-responses")] * 2
    assert {r.headers["authorization"] for r in server.requests} == {"Bearer sk-test"}
    assert SUMMARY in server.requests[-1].sim.find_results("read_file")[0].content
    assert [(c.provider, c.model, c.error) for c in project.calls()] == [("gpt", GPT, None)] * 2


async def test_api_chat_keeps_openai_on_chat_completions(tmp_path: Path) -> None:
    with FakeServer(READER, "openai") as server:
        project = factory(tmp_path, "gpt", "gpt-4o", _openai(server, 'api = "chat"'), ENV)
        await summarize(project)

    assert [r.path for r in server.requests] == ["/v1/chat/completions"] * 2


async def test_a_compatible_server_is_called_through_the_responses_api_when_told(tmp_path: Path) -> None:
    with FakeServer(READER, "openai-responses") as server:
        table = f'kind = "openai-compatible"\nbase_url = "{server.base_url}"\napi = "responses"'
        project = factory(tmp_path, "local", "gpt-oss-120b", table, env={})
        answer = await summarize(project)

    assert answer.summary == SUMMARY
    assert {r.sim.protocol for r in server.requests} == {"openai-responses"}


async def test_an_azure_deployment_answers_on_the_responses_api(tmp_path: Path) -> None:
    with FakeServer(READER, "azure-openai", keys={"azure-key"}) as server:
        table = (
            f'kind = "azure-openai"\nendpoint = "{server.base_url}"\napi_version = "2025-04-01-preview"\n'
            'api_key_env = "AZURE_OPENAI_API_KEY"\napi = "responses"'
        )
        project = factory(tmp_path, "azure", "codex-prod", table, {"AZURE_OPENAI_API_KEY": "azure-key"})
        answer = await summarize(project)

    assert answer.summary == SUMMARY
    assert {r.path for r in server.requests} == {"/openai/responses?api-version=2025-04-01-preview"}
    assert {(r.sim.protocol, r.sim.model) for r in server.requests} == {
        ("azure-openai-responses", "codex-prod")
    }


async def test_cached_input_tokens_are_recorded_and_priced_at_the_cache_rate(tmp_path: Path) -> None:
    price = Price(input=10, output=40, cache_read=1)
    priced = f'\n[prices."gpt:{GPT}"]\ninput = 10\noutput = 40\ncache_read = 1'
    with FakeServer(READER, "openai") as server:
        project = factory(tmp_path, "gpt", GPT, _openai(server, priced), ENV)
        await summarize(project, instructions="Summarize the repository you are shown, briefly. " * 120)

    first, second = (call.usage for call in project.calls())
    assert first.cache_read_tokens == 0
    assert 1024 <= second.cache_read_tokens < second.input_tokens
    assert second.cache_write_tokens == 0, "OpenAI charges no cache writes"
    for usage in (first, second):
        assert usage.cost == price.cost(usage)
    assert second.cost is not None and first.cost is not None
    assert second.cost / second.input_tokens < first.cost / first.input_tokens


def _two_choices(root: Path, gpt: FakeServer, local: FakeServer) -> Factory:
    """The planner on a Responses provider first and a Chat Completions one second, resting briefly."""
    path = root / "config.toml"
    path.write_text(
        "[run]\nmodel_retries = 2\nretry_backoff = 0.01\ncooldown = 0.1\nmax_wait = 60\n"
        f'[roles.planner]\nmodel = ["gpt:{GPT}", "local:qwen3-coder:30b"]\n'
        f"[providers.gpt]\n{_openai(gpt)}\n"
        f'[providers.local]\nkind = "openai-compatible"\nbase_url = "{local.base_url}"\n'
    )
    (root / "README.md").write_text(README)
    events: list[Event] = []
    catalog = ModelCatalog(load_config(path), ENV, events.append, cooling=dict, guard=lambda scope: None)
    return Factory(root=root, catalog=catalog, events=events)


async def test_a_rate_limit_rests_the_provider_until_its_retry_after_and_fails_over(tmp_path: Path) -> None:
    limited = FaultsFirst(READER, [HttpError(429, headers={"retry-after": "30"}, code="rate_limit_exceeded")])
    with FakeServer(limited, "openai-responses") as gpt, FakeServer(READER, "openai") as local:
        project = _two_choices(tmp_path, gpt, local)
        answer = await summarize(project)

    assert answer.summary == SUMMARY
    [cooled] = [e for e in project.events if isinstance(e, ProviderCooled)]
    assert cooled.provider == "gpt" and cooled.reason.startswith("HTTP 429")
    assert 25 < (cooled.until - cooled.at).total_seconds() <= 30
    [switched] = [e for e in project.events if isinstance(e, ProviderSwitched)]
    assert (switched.from_provider, switched.to_provider) == ("gpt", "local")
    assert (len(gpt.requests), [r.sim.protocol for r in local.requests]) == (1, ["openai", "openai"])


@pytest.mark.parametrize(
    "fault",
    [HttpError(500), ErrorEvent(3, "server_error", "The server had an error", code="server_error")],
    ids=["500", "failed-mid-stream"],
)
async def test_a_server_error_is_retried_on_the_same_provider(tmp_path: Path, fault: Fault) -> None:
    with FakeServer(FaultsFirst(READER, [fault]), "openai-responses") as server:
        project = factory(tmp_path, "gpt", GPT, _openai(server), ENV)
        answer = await summarize(project)

    assert answer.summary == SUMMARY
    assert len(server.requests) == 3
    errors = [call.error for call in project.calls()]
    assert errors[0] is not None and errors[0].startswith("HTTP 500")
    assert errors[1:] == [None, None]
    assert not [e for e in project.events if isinstance(e, ProviderCooled)]


async def test_an_error_event_naming_no_known_cause_fails_over_like_a_limit(tmp_path: Path) -> None:
    odd = ErrorEvent(2, "error", "The stream was interrupted", code="stream_interrupted", event="error")
    with (
        FakeServer(FaultsFirst(READER, [odd]), "openai-responses") as gpt,
        FakeServer(READER, "openai") as local,
    ):
        project = _two_choices(tmp_path, gpt, local)
        answer = await summarize(project)

    assert answer.summary == SUMMARY
    [cooled] = [e for e in project.events if isinstance(e, ProviderCooled)]
    assert cooled.provider == "gpt" and "The stream was interrupted" in cooled.reason
    assert next(e.to_provider for e in project.events if isinstance(e, ProviderSwitched)) == "local"
    assert local.requests
