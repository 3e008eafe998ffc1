"""Anthropic Messages API (also any server speaking it, through base_url)."""

from __future__ import annotations

from anthropic import AsyncAnthropic
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.providers.anthropic import AnthropicProvider

from aifactory.config import ProviderConfig


class AnthropicBackend:
    """Streams Messages API calls through the official SDK client, with SDK retries off."""

    def __init__(self, name: str, config: ProviderConfig, api_key: str) -> None:
        self.name = name
        client = AsyncAnthropic(
            api_key=api_key,
            base_url=config.base_url,
            max_retries=0,
            timeout=config.timeout,
        )
        self._provider = AnthropicProvider(anthropic_client=client)

    def model(self, model_name: str) -> Model:
        return AnthropicModel(model_name, provider=self._provider)
