"""Clients and pydantic-ai models pointed at a `FakeServer`, built the way the product builds them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeAlias

import boto3
import pytest
from anthropic import AsyncAnthropic
from botocore.config import Config
from openai import AsyncAzureOpenAI, AsyncOpenAI
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.bedrock import BedrockConverseModel
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.azure import AzureProvider
from pydantic_ai.providers.bedrock import BedrockProvider
from pydantic_ai.providers.openai import OpenAIProvider

from aifactory.testing import FakeServer

MODEL_NAMES = {
    "anthropic": "claude-sonnet-4-6",
    "openai": "gpt-4o",
    "openai-responses": "gpt-5",
    "azure-openai": "gpt-4o",
    "azure-openai-responses": "gpt-5-prod",
    "bedrock": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
}
AZURE_API_VERSION = "2024-10-21"
AZURE_RESPONSES_API_VERSION = "2025-04-01-preview"

ModelFactory: TypeAlias = Callable[..., Model]


@pytest.fixture
async def make_model() -> AsyncIterator[ModelFactory]:
    """Build a pydantic-ai model for a server's protocol; its SDK client is closed after the test.

    `max_tokens` is set because pydantic-ai otherwise streams Anthropic requests behind the scenes
    (the SDK refuses a non-streamed request whose default `max_tokens` could take over 10 minutes).
    """
    clients: list[AsyncAnthropic | AsyncOpenAI] = []
    boto_clients: list[Any] = []

    def build(
        server: FakeServer, *, model: str | None = None, api_key: str = "test-key", **client: Any
    ) -> Model:
        name = model or MODEL_NAMES[server.protocol]
        settings = {"max_tokens": 1024}
        if server.protocol == "anthropic":
            anthropic = AsyncAnthropic(base_url=server.base_url, api_key=api_key, max_retries=0, **client)
            clients.append(anthropic)
            return AnthropicModel(
                name, provider=AnthropicProvider(anthropic_client=anthropic), settings=settings
            )
        if server.protocol == "bedrock":
            bedrock = _bedrock(server, api_key, **client)
            boto_clients.append(bedrock)
            return BedrockConverseModel(
                name, provider=BedrockProvider(bedrock_client=bedrock), settings=settings
            )
        responses = server.protocol.endswith("-responses")
        model_class = OpenAIResponsesModel if responses else OpenAIChatModel
        if server.protocol.startswith("azure-openai"):
            azure = AsyncAzureOpenAI(
                azure_endpoint=server.base_url,
                api_version=AZURE_RESPONSES_API_VERSION if responses else AZURE_API_VERSION,
                api_key=api_key,
                max_retries=0,
                **client,
            )
            clients.append(azure)
            return model_class(name, provider=AzureProvider(openai_client=azure), settings=settings)
        openai = AsyncOpenAI(base_url=server.base_url, api_key=api_key, max_retries=0, **client)
        clients.append(openai)
        return model_class(name, provider=OpenAIProvider(openai_client=openai), settings=settings)

    yield build
    for sdk_client in clients:
        await sdk_client.close()
    for boto_client in boto_clients:
        boto_client.close()


def _bedrock(server: FakeServer, access_key: str, timeout: float = 60.0) -> Any:
    """A Bedrock Runtime client signing with fake credentials, botocore's own retries off."""
    return boto3.Session(
        aws_access_key_id=access_key, aws_secret_access_key="fake-secret", region_name="us-east-1"
    ).client(
        "bedrock-runtime",
        endpoint_url=server.base_url,
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            read_timeout=timeout,
            max_pool_connections=32,
        ),
    )


@pytest.fixture(
    params=["anthropic", "openai", "openai-responses", "azure-openai", "azure-openai-responses", "bedrock"]
)
def protocol(request: pytest.FixtureRequest) -> str:
    """Run a test once per wire protocol."""
    return str(request.param)
