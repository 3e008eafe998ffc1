"""`kind = "azure-openai"`: a resource's deployments, its API version, the key in the `api-key` header."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.domain.run import Role
from aifactory.errors import ConfigError, ModelError
from aifactory.testing import FakeServer, FaultsFirst, HttpError
from tests.providers.roles import READER, factory, summarize

DEPLOYMENT = "gpt-4o-prod"
KEY = "azure-key-0123456789"
ENV = {"AZURE_OPENAI_API_KEY": KEY}


def _table(server: FakeServer, api_version: str = "2024-10-21") -> str:
    return (
        f'kind = "azure-openai"\nendpoint = "{server.base_url}"\napi_version = "{api_version}"\n'
        'api_key_env = "AZURE_OPENAI_API_KEY"'
    )


async def test_a_role_calls_its_deployment_with_the_api_version_and_the_key(tmp_path: Path) -> None:
    with FakeServer(READER, "azure-openai", keys={KEY}, known_models={DEPLOYMENT}) as server:
        project = factory(tmp_path, "azure", DEPLOYMENT, _table(server, "2025-04-01-preview"), ENV)
        answer = await summarize(project)

    assert answer.summary == "A project that greets."
    assert [r.path for r in server.requests] == [
        f"/openai/deployments/{DEPLOYMENT}/chat/completions?api-version=2025-04-01-preview"
    ] * 2
    assert {r.headers["api-key"] for r in server.requests} == {KEY}
    assert all("authorization" not in r.headers for r in server.requests)
    assert all(r.body["stream"] for r in server.requests)
    assert [(c.provider, c.model, c.error) for c in project.calls()] == [("azure", DEPLOYMENT, None)] * 2


async def test_a_refused_key_is_a_model_error_naming_the_provider_and_the_variable(tmp_path: Path) -> None:
    with FakeServer(READER, "azure-openai", keys={"the-right-key"}) as server:
        project = factory(tmp_path, "azure", DEPLOYMENT, _table(server), ENV)
        with pytest.raises(ModelError) as raised:
            await summarize(project, Role.EXECUTOR)

    message = str(raised.value)
    assert "provider 'azure'" in message and "role executor" in message
    assert "HTTP 401" in message and "invalid subscription key" in message
    assert "AZURE_OPENAI_API_KEY ([providers.azure] api_key_env)" in message
    assert KEY not in message
    assert not raised.value.retryable
    assert len(project.calls()) == 1


async def test_an_unknown_deployment_says_which_setting_to_fix(tmp_path: Path) -> None:
    with FakeServer(READER, "azure-openai", known_models={"another-deployment"}) as server:
        project = factory(tmp_path, "azure", DEPLOYMENT, _table(server), ENV)
        with pytest.raises(ModelError) as raised:
            await summarize(project)

    assert "HTTP 404 DeploymentNotFound The API deployment for this resource does not exist" in str(
        raised.value
    )
    assert "[roles.planner] model" in str(raised.value)


async def test_throttling_is_retried_by_the_factory_honouring_retry_after(tmp_path: Path) -> None:
    scenario = FaultsFirst(READER, [HttpError(429, headers={"retry-after": "0"})])
    with FakeServer(scenario, "azure-openai") as server:
        project = factory(tmp_path, "azure", DEPLOYMENT, _table(server), ENV)
        answer = await summarize(project)

    assert answer.summary == "A project that greets."
    assert len(server.requests) == 3
    first, *rest = [c.error for c in project.calls()]
    assert first is not None and "HTTP 429" in first
    assert rest == [None, None]


def test_the_key_variable_must_be_set_before_any_call(tmp_path: Path) -> None:
    project = factory(tmp_path, "azure", DEPLOYMENT, _table_at("https://example.openai.azure.com"), {})
    with pytest.raises(ConfigError, match="AZURE_OPENAI_API_KEY is not set, which provider 'azure' needs"):
        project.catalog.check([Role.PLANNER])


def _table_at(endpoint: str) -> str:
    return (
        f'kind = "azure-openai"\nendpoint = "{endpoint}"\napi_version = "2024-10-21"\n'
        'api_key_env = "AZURE_OPENAI_API_KEY"'
    )
