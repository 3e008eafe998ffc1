"""OpenAI Chat Completions: OpenAI itself or any compatible server (Ollama, vLLM, LM Studio, OpenRouter)."""

from __future__ import annotations

from openai import AsyncOpenAI
from pydantic_ai.models import Model
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from aifactory.config import ProviderConfig


class OpenAIBackend:
    """Streams Chat Completions through the official SDK client, with SDK retries off."""

    def __init__(self, name: str, config: ProviderConfig, api_key: str) -> None:
        self.name = name
        client = AsyncOpenAI(
            api_key=api_key,
            base_url=config.base_url,
            max_retries=0,
            timeout=config.timeout,
        )
        self._provider = OpenAIProvider(openai_client=client)

    def model(self, model_name: str) -> Model:
        return OpenAIChatModel(model_name, provider=self._provider)
