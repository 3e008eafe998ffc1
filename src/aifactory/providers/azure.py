"""Azure OpenAI: a resource's deployments, through the SDK's `AsyncAzureOpenAI`.

The backend is the OpenAI one (`openai.OpenAIClientBackend`: same models, same streaming); only the
client differs. `AsyncAzureOpenAI` sends the key as `api-key` and `api-version` with every request, and
turns the model name, which is the deployment's name, into
`/openai/deployments/<deployment>/chat/completions` for Chat Completions; the Responses API
(`api = "responses"`) is `/openai/responses`, with the deployment as the body's `model`.
pydantic-ai's `AzureProvider` picks the model profile from the deployment's name where it can.
"""

from __future__ import annotations

from collections.abc import Mapping

from openai import AsyncAzureOpenAI
from pydantic_ai.providers.azure import AzureProvider

from aifactory.config import ProviderConfig
from aifactory.providers.base import api_key
from aifactory.providers.openai import OpenAIClientBackend


class AzureOpenAIBackend(OpenAIClientBackend):
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
        super().__init__(name, config, AzureProvider(openai_client=client))
