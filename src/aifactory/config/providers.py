"""`[providers.NAME]`: the model APIs the user pays for, and which settings each kind needs."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError


class Section(BaseModel):
    """A table of the configuration: unknown keys are refused, values never change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderKind(StrEnum):
    """Which API a provider speaks; each kind is one line of `aifactory.providers.registry`."""

    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    OPENAI_COMPATIBLE = "openai-compatible"
    AZURE_OPENAI = "azure-openai"
    BEDROCK = "bedrock"


class OpenAIApi(StrEnum):
    """Which of OpenAI's two model APIs an OpenAI-style provider is called through (`api`)."""

    CHAT = "chat"
    RESPONSES = "responses"


_KIND_SETTINGS: dict[ProviderKind, tuple[frozenset[str], frozenset[str]]] = {
    ProviderKind.ANTHROPIC: (frozenset({"api_key_env"}), frozenset({"base_url"})),
    ProviderKind.OPENAI: (frozenset({"api_key_env"}), frozenset({"base_url", "api"})),
    ProviderKind.OPENAI_COMPATIBLE: (frozenset({"base_url"}), frozenset({"api_key_env", "api"})),
    ProviderKind.AZURE_OPENAI: (frozenset({"endpoint", "api_version", "api_key_env"}), frozenset({"api"})),
    ProviderKind.BEDROCK: (frozenset({"region"}), frozenset({"base_url", "profile"})),
}
"""Kind → (settings it needs, settings it may have). A setting outside both is refused rather than
ignored, so a `region` written under an OpenAI provider is not silently without effect."""

_SETTING_HELP = {
    "base_url": "the server's URL, e.g. http://127.0.0.1:11434/v1 for Ollama",
    "api_key_env": "the name of the environment variable that holds the key, e.g. OPENAI_API_KEY",
    "endpoint": "the resource's endpoint, e.g. https://NAME.openai.azure.com",
    "api_version": "the API version to call, e.g. 2024-10-21",
    "region": "the AWS region of the models, e.g. us-east-1",
    "profile": "a profile of ~/.aws/config",
    "api": '"responses" (the Responses API) or "chat" (Chat Completions)',
}
"""What each kind-specific setting holds, for the error that reports it missing."""

_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
"""Azure OpenAI's data-plane versions, e.g. 2024-10-21 or 2025-04-01-preview."""

_AZURE_RESPONSES_SINCE = "2025-03-01-preview"
"""The first Azure OpenAI data-plane version that serves `/openai/responses`; dated versions sort as text."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
"""An AWS region's name, e.g. us-east-1 or ap-southeast-2."""

_PASTED_SECRETS = frozenset({"api_key", "apikey", "key", "secret", "token"})
"""Keys people write a secret under; refused with the fix instead of as an unknown key."""

_PASTED_AWS_SECRETS = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token"})

_AWS_CHAIN = (
    "Bedrock takes its credentials from the standard AWS chain (AWS_PROFILE or this table's profile, "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, SSO, an instance role), never from this file"
)


def _looks_like_a_key(name: str) -> bool:
    """A long name with digits and no underscore is a key, such as Azure's 32 hex digits, not a variable."""
    return len(name) >= 24 and "_" not in name and any(c.isdigit() for c in name)


def _setting_error(setting: str, message: str) -> PydanticCustomError:
    """An error about one setting of `[providers.NAME]`; the loader adds the table and the line."""
    return PydanticCustomError("provider_setting", message, {"setting": setting})


class ProviderConfig(Section):
    """One model API the user pays for; its key is named by an environment variable, never stored.

    Which settings apply depends on `kind` (see `_KIND_SETTINGS`); they are checked here, when the file
    is read, so a missing `base_url` is reported at its table rather than at the first model call.
    """

    kind: ProviderKind
    base_url: str | None = None
    api_key_env: str | None = None
    endpoint: str | None = None
    api_version: str | None = None
    region: str | None = None
    profile: str | None = None
    api: OpenAIApi | None = None
    timeout: float = Field(default=300.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        for setting in sorted((_PASTED_SECRETS | _PASTED_AWS_SECRETS) & set(data)):
            if data.get("kind") == ProviderKind.BEDROCK or setting in _PASTED_AWS_SECRETS:
                raise _setting_error(setting, f"{_AWS_CHAIN}: remove it")
            raise _setting_error(
                setting,
                "keys are never written in the configuration: export the key in an environment "
                "variable and name that variable in api_key_env",
            )
        if data.get("kind") == ProviderKind.BEDROCK and data.get("api_key_env") is not None:
            raise _setting_error("api_key_env", f"{_AWS_CHAIN}: remove it")
        return data

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and (not _ENV_NAME.fullmatch(value) or _looks_like_a_key(value)):
            raise ValueError(
                "this is not an environment variable name; write the variable's name "
                "(e.g. ANTHROPIC_API_KEY), never the key itself"
            )
        return value

    @field_validator("base_url", "endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected a URL starting with http:// or https://")
        return value

    @field_validator("endpoint")
    @classmethod
    def _resource_root(cls, value: str | None) -> str | None:
        """The SDK adds `/openai/deployments/<deployment>/...`; a pasted request URL would double it."""
        if value is not None and "/openai" in value:
            raise ValueError(
                "expected the resource's root, e.g. https://NAME.openai.azure.com, not a request URL: "
                'the deployment is the model a role names, as in "azure:DEPLOYMENT"'
            )
        return value

    @field_validator("api_version")
    @classmethod
    def _api_version(cls, value: str | None) -> str | None:
        if value is not None and not _API_VERSION.fullmatch(value):
            raise ValueError("expected a version such as 2024-10-21 or 2025-04-01-preview")
        return value

    @property
    def model_api(self) -> OpenAIApi:
        """OpenAI's own defaults to the Responses API, which serves all its models (the pro and codex ones
        only there); compatible servers and Azure deployments to Chat Completions, which all of them speak."""
        if self.api is not None:
            return self.api
        return OpenAIApi.RESPONSES if self.kind is ProviderKind.OPENAI else OpenAIApi.CHAT

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not _REGION.fullmatch(value):
            raise ValueError("expected an AWS region such as us-east-1 or eu-central-1")
        return value

    @model_validator(mode="after")
    def _settings_fit_the_kind(self) -> ProviderConfig:
        needed, allowed = _KIND_SETTINGS[self.kind]
        for setting in sorted(needed):
            if getattr(self, setting) is None:
                raise _setting_error(setting, f'missing: kind "{self.kind}" needs {_SETTING_HELP[setting]}')
        for setting in sorted(set(_SETTING_HELP) - needed - allowed):
            if getattr(self, setting) is not None:
                users = ", ".join(sorted(k for k, (n, a) in _KIND_SETTINGS.items() if setting in n | a))
                raise _setting_error(
                    setting, f'kind "{self.kind}" does not use it (kinds that do: {users}): remove it'
                )
        since = _AZURE_RESPONSES_SINCE
        if self.api is OpenAIApi.RESPONSES and (self.api_version or since) < since:
            too_old = f'{self.api_version} predates the Responses API on Azure OpenAI: api = "responses"'
            raise _setting_error("api_version", f'{too_old} needs {since} or later (or api = "chat")')
        return self
