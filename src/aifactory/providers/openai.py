"""OpenAI's model APIs: OpenAI itself, or any compatible server (Ollama, vLLM, LM Studio, OpenRouter).

One backend for both kinds, so they share the client and the model; the kind only picks pydantic-ai's
provider, which decides the model profile: OpenAI's own for `openai`, and for `openai-compatible` the
one compatible servers share (a `vendor/model` name gets that vendor's), without OpenAI-only features.
The provider's `api` picks pydantic-ai's model: `OpenAIResponsesModel` for the Responses API,
`OpenAIChatModel` for Chat Completions; both stream, map errors and report usage the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

from openai import AsyncOpenAI
from pydantic_ai.models import Model
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers import Provider as AIProvider
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

from aifactory.config import OpenAIApi, ProviderConfig, ProviderKind
from aifactory.providers.base import api_key, describe_key

PLACEHOLDER_KEY = "api-key-not-set"
"""Sent to a compatible server when no key is configured: the SDK requires one, local servers ignore it."""


class OpenAIClientBackend:
    """Either of OpenAI's APIs through the SDK's client; subclasses pick the client and the provider."""

    def __init__(self, name: str, config: ProviderConfig, provider: AIProvider[AsyncOpenAI]) -> None:
        self.name = name
        self.credentials = describe_key(name, config)
        self._api = config.model_api
        self._provider = provider

    def model(self, model_name: str) -> Model:
        if self._api is OpenAIApi.RESPONSES:
            return OpenAIResponsesModel(model_name, provider=self._provider)
        return OpenAIChatModel(model_name, provider=self._provider)


class OpenAIBackend(OpenAIClientBackend):
    """Kinds `openai` (base_url optional) and `openai-compatible` (base_url required, key optional)."""

    def __init__(self, name: str, config: ProviderConfig, env: Mapping[str, str]) -> None:
        client = AsyncOpenAI(
            api_key=api_key(config, env) or PLACEHOLDER_KEY,
            base_url=config.base_url,
            max_retries=0,
            timeout=config.timeout,
        )
        provider: AIProvider[AsyncOpenAI]
        if config.kind is ProviderKind.OPENAI_COMPATIBLE:
            provider = OpenAICompatibleProvider(name, openai_client=client)
        else:
            provider = OpenAIProvider(openai_client=client)
        super().__init__(name, config, provider)
