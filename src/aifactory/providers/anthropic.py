"""Anthropic Messages API (also any server speaking it, through base_url)."""

from __future__ import annotations

from collections.abc import Mapping

from anthropic import AsyncAnthropic
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.providers.anthropic import AnthropicProvider

from aifactory.config import ProviderConfig
from aifactory.providers.base import api_key, describe_key


class AnthropicBackend:
    """Streams Messages API calls through the official SDK client, with SDK retries off."""

    def __init__(self, name: str, config: ProviderConfig, env: Mapping[str, str]) -> None:
        self.name = name
        self.credentials = describe_key(name, config)
        client = AsyncAnthropic(
            api_key=api_key(config, env),
            base_url=config.base_url,
            max_retries=0,
            timeout=config.timeout,
        )
        self._provider = AnthropicProvider(anthropic_client=client)

    def model(self, model_name: str) -> Model:
        return AnthropicModel(model_name, provider=self._provider)
