"""`[providers.NAME]`: each kind's settings checked as the file is read; errors name table, key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.config import OpenAIApi, ProviderKind, load_config
from aifactory.errors import ConfigError


def _load(tmp_path: Path, text: str) -> tuple[Path, str]:
    """Load `text` as the project's file; return the path and the error's message ("" when it loads)."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as error:
        return path, str(error)
    return path, ""


def test_an_openai_compatible_server_needs_a_base_url_and_the_error_points_at_its_table(
    tmp_path: Path,
) -> None:
    path, error = _load(tmp_path, '[run]\nattempts = 2\n\n[providers.local]\nkind = "openai-compatible"\n')
    assert error.startswith(f"{path}:4: [providers.local] base_url: missing")
    assert "http://127.0.0.1:11434/v1" in error


def test_an_openai_compatible_server_may_go_without_a_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[providers.local]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:11434/v1"\n')
    provider = load_config(path).providers["local"]
    assert provider.kind is ProviderKind.OPENAI_COMPATIBLE
    assert provider.api_key_env is None


def test_openai_itself_needs_no_base_url_but_a_key_variable(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[providers.gpt]\nkind = "openai"\napi_key_env = "OPENAI_API_KEY"\n')
    assert load_config(path).providers["gpt"].base_url is None
    path, error = _load(tmp_path, '[providers.gpt]\nkind = "openai"\n')
    assert error.startswith(f"{path}:1: [providers.gpt] api_key_env: missing")


def test_a_base_url_that_is_not_a_url_is_refused(tmp_path: Path) -> None:
    _, error = _load(
        tmp_path, '[providers.local]\nkind = "openai-compatible"\nbase_url = "localhost:11434"\n'
    )
    assert "[providers.local] base_url: expected a URL starting with http:// or https://" in error


@pytest.mark.parametrize("setting", ["api_key", "key", "token"])
def test_a_key_written_into_the_file_is_refused_without_echoing_it(tmp_path: Path, setting: str) -> None:
    text = (
        f'[providers.local]\nkind = "openai-compatible"\nbase_url = "http://x"\n{setting} = "sk-secret-42"\n'
    )
    path, error = _load(tmp_path, text)
    assert error.startswith(f"{path}:4: [providers.local] {setting}: keys are never written")
    assert "api_key_env" in error
    assert "sk-secret-42" not in error


def test_changing_a_providers_kind_does_not_inherit_the_settings_of_the_one_below(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[providers.openai]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:8000/v1"\n')
    provider = load_config(path).providers["openai"]
    assert provider.api_key_env is None


AZURE = '[providers.azure]\nkind = "azure-openai"\n'


@pytest.mark.parametrize("missing", ["endpoint", "api_version", "api_key_env"])
def test_azure_needs_an_endpoint_an_api_version_and_a_key_variable(tmp_path: Path, missing: str) -> None:
    settings = {
        "endpoint": '"https://acme.openai.azure.com"',
        "api_version": '"2024-10-21"',
        "api_key_env": '"AZURE_OPENAI_API_KEY"',
    }
    lines = "".join(f"{key} = {value}\n" for key, value in settings.items() if key != missing)
    path, error = _load(tmp_path, AZURE + lines)
    assert error.startswith(f'{path}:1: [providers.azure] {missing}: missing: kind "azure-openai" needs')


def test_an_azure_endpoint_is_the_resource_root_not_a_request_url(tmp_path: Path) -> None:
    url = "https://acme.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
    text = f'{AZURE}endpoint = "{url}"\napi_version = "2024-10-21"\napi_key_env = "K"\n'
    path, error = _load(tmp_path, text)
    assert error.startswith(f"{path}:3: [providers.azure] endpoint: expected the resource's root")


def test_an_azure_api_version_must_look_like_one(tmp_path: Path) -> None:
    text = f'{AZURE}endpoint = "https://acme.openai.azure.com"\napi_version = "v1"\napi_key_env = "K"\n'
    path, error = _load(tmp_path, text)
    assert error.startswith(f"{path}:4: [providers.azure] api_version: expected a version such as 2024-10-21")


def test_a_setting_of_another_kind_is_refused_not_ignored(tmp_path: Path) -> None:
    path, error = _load(tmp_path, '[providers.openai]\napi_version = "2024-10-21"\n')
    assert error.startswith(f'{path}:2: [providers.openai] api_version: kind "openai" does not use it')
    assert "(kinds that do: azure-openai)" in error


BEDROCK = '[providers.bedrock]\nkind = "bedrock"\n'


def test_bedrock_needs_a_region_and_may_override_the_endpoint_and_name_a_profile(tmp_path: Path) -> None:
    path, error = _load(tmp_path, BEDROCK)
    assert error.startswith(f'{path}:1: [providers.bedrock] region: missing: kind "bedrock" needs')
    text = f'{BEDROCK}region = "eu-central-1"\nbase_url = "http://127.0.0.1:9"\nprofile = "work"\n'
    path.write_text(text)
    provider = load_config(path).providers["bedrock"]
    assert (provider.region, provider.base_url, provider.profile) == (
        "eu-central-1",
        "http://127.0.0.1:9",
        "work",
    )


def test_a_region_must_look_like_one(tmp_path: Path) -> None:
    path, error = _load(tmp_path, f'{BEDROCK}region = "us-east1"\n')
    assert error.startswith(f"{path}:3: [providers.bedrock] region: expected an AWS region such as us-east-1")


@pytest.mark.parametrize("setting", ["api_key_env", "aws_secret_access_key", "api_key"])
def test_bedrock_credentials_come_from_the_aws_chain_never_the_file(tmp_path: Path, setting: str) -> None:
    text = f'{BEDROCK}region = "us-east-1"\n{setting} = "wJalrXUtnFEMI-secret"\n'
    path, error = _load(tmp_path, text)
    assert error.startswith(f"{path}:4: [providers.bedrock] {setting}: Bedrock takes its credentials from")
    assert "AWS_PROFILE" in error and "remove it" in error
    assert "wJalrXUtnFEMI" not in error


def test_an_aws_key_under_another_kind_is_refused_too(tmp_path: Path) -> None:
    _, error = _load(tmp_path, '[providers.openai]\naws_access_key_id = "AKIA123"\n')
    assert "[providers.openai] aws_access_key_id: Bedrock takes its credentials" in error


def test_an_azure_key_pasted_as_the_variable_name_is_refused_without_echoing_it(tmp_path: Path) -> None:
    key = "ab9a0c1b2d4e5f60718293a4b5c6d7e8"
    resource = 'endpoint = "https://acme.openai.azure.com"\napi_version = "2024-10-21"\n'
    text = f'{AZURE}{resource}api_key_env = "{key}"\n'
    path, error = _load(tmp_path, text)
    assert error.startswith(
        f"{path}:5: [providers.azure] api_key_env: this is not an environment variable name"
    )
    assert key not in error


def test_openai_defaults_to_the_responses_api_and_the_others_to_chat_completions(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[providers.gpt]\nkind = "openai"\napi_key_env = "OPENAI_API_KEY"\n'
        '[providers.gpt-chat]\nkind = "openai"\napi_key_env = "OPENAI_API_KEY"\napi = "chat"\n'
        '[providers.local]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:8000/v1"\n'
        '[providers.vllm]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1/v1"\napi = "responses"\n'
        f'{AZURE}endpoint = "https://acme.openai.azure.com"\napi_version = "2024-10-21"\napi_key_env = "K"\n'
    )
    providers = load_config(path).providers
    assert {name: providers[name].model_api for name in ("gpt", "gpt-chat", "local", "vllm", "azure")} == {
        "gpt": OpenAIApi.RESPONSES,
        "gpt-chat": OpenAIApi.CHAT,
        "local": OpenAIApi.CHAT,
        "vllm": OpenAIApi.RESPONSES,
        "azure": OpenAIApi.CHAT,
    }


def test_an_api_that_is_neither_chat_nor_responses_is_refused_at_its_line(tmp_path: Path) -> None:
    path, error = _load(
        tmp_path, '[providers.gpt]\nkind = "openai"\napi_key_env = "K"\napi = "completions"\n'
    )
    assert error.startswith(f"{path}:4: [providers.gpt] api: Input should be 'chat' or 'responses'")


def test_api_belongs_to_the_openai_kinds_only(tmp_path: Path) -> None:
    path, error = _load(tmp_path, '[providers.anthropic]\napi = "responses"\n')
    assert error.startswith(f'{path}:2: [providers.anthropic] api: kind "anthropic" does not use it')
    assert "(kinds that do: azure-openai, openai, openai-compatible)" in error


def test_azure_responses_need_an_api_version_that_serves_them(tmp_path: Path) -> None:
    resource = 'endpoint = "https://acme.openai.azure.com"\napi_key_env = "K"\napi = "responses"\n'
    path, error = _load(tmp_path, f'{AZURE}{resource}api_version = "2024-10-21"\n')
    assert error.startswith(f"{path}:6: [providers.azure] api_version: 2024-10-21 predates the Responses API")
    assert "2025-03-01-preview or later" in error
    path.write_text(f'{AZURE}{resource}api_version = "2025-04-01-preview"\n')
    assert load_config(path).providers["azure"].model_api is OpenAIApi.RESPONSES
