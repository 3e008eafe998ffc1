"""Azure OpenAI: Chat Completions on a resource's deployments, through the SDK's `AsyncAzureOpenAI`.

The backend is the OpenAI one (`openai.ChatCompletionsBackend`: same model, same streaming); only the
client differs. `AsyncAzureOpenAI` turns the model name, which is the deployment's name, into
`/openai/deployments/<deployment>/chat/completions?api-version=…` and sends the key as `api-key`.
pydantic-ai's `AzureProvider` picks the model profile from the deployment's name where it can.
"""

from __future__ import annotations

from collections.abc import Mapping

from openai import AsyncAzureOpenAI
from pydantic_ai.providers.azure import AzureProvider

from aifactory.config import ProviderConfig
from aifactory.providers.base import api_key, describe_key
from aifactory.providers.openai import ChatCompletionsBackend


class AzureOpenAIBackend(ChatCompletionsBackend):
    """`kind = "azure-openai"`: `endpoint`, `api_version` and `api_key_env`, all required by the config."""

    def __init__(self, name: str, config: ProviderConfig, env: Mapping[str, str]) -> None:
        assert config.endpoint is not None, "ProviderConfig requires it for this kind"
        client = AsyncAzureOpenAI(
            azure_endpoint=config.endpoint,
            api_version=config.api_version,
            api_key=api_key(config, env),
            max_retries=0,
            timeout=config.timeout,
        )
        super().__init__(name, describe_key(name, config), AzureProvider(openai_client=client))
