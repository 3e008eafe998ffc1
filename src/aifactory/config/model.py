"""The shape of `.factory/config.toml`; every default here is also written, commented, by `factory init`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from aifactory.config.agents import AgentConfig, default_agents
from aifactory.domain.prices import Price
from aifactory.domain.run import Role


class _Section(BaseModel):
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


class ProviderConfig(_Section):
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


class ModelRef(_Section):
    """`provider:model`, e.g. `anthropic:claude-sonnet-5-5`."""

    provider: str
    model: str

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        provider, sep, model = text.partition(":")
        if not sep or not provider.strip() or not model.strip():
            raise ValueError(f"expected 'provider:model' such as 'anthropic:claude-sonnet-5-5', got {text!r}")
        return cls(provider=provider.strip(), model=model.strip())

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


def _choices(value: str | list[str]) -> tuple[str, ...]:
    listed = [value] if isinstance(value, str) else value
    if not listed:
        raise ValueError("name at least one model, as 'provider:model' or a list of them, first choice first")
    return tuple(str(ModelRef.parse(item)) for item in listed)


def _refs(items: Iterable[str]) -> tuple[ModelRef, ...]:
    return tuple(ModelRef.parse(item) for item in items)


class RoleConfig(_Section):
    """Which models play a role, in order of preference, and how much each may write per answer.

    `model` is one `provider:model` or a list: the pool uses the first choice that is not cooling
    down after a limit. `complex`, for the executor, is the list used for steps the plan reviewer
    judged complex (a stronger model), `model` serving the simple ones.
    """

    model: tuple[str, ...]
    complex: tuple[str, ...] = ()
    max_tokens: int = Field(default=8192, gt=0)
    temperature: float | None = Field(default=None, ge=0, le=2)

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: str | list[str]) -> tuple[str, ...]:
        return _choices(value)

    @field_validator("complex", mode="before")
    @classmethod
    def _complex(cls, value: str | list[str]) -> tuple[str, ...]:
        return _choices(value) if value else ()

    @property
    def ref(self) -> ModelRef:
        """The first choice."""
        return ModelRef.parse(self.model[0])

    def choices(self, *, complex_step: bool = False) -> tuple[ModelRef, ...]:
        return _refs(self.complex if complex_step and self.complex else self.model)

    @property
    def complex_choices(self) -> tuple[ModelRef, ...]:
        return _refs(self.complex)

    @property
    def every_choice(self) -> tuple[ModelRef, ...]:
        return _refs(dict.fromkeys((*self.model, *self.complex)))


class RunConfig(_Section):
    attempts: int = Field(default=2, ge=1, le=64)
    max_parallel: int = Field(default=4, ge=1, le=64)
    model_retries: int = Field(default=3, ge=0, le=10)
    retry_backoff: float = Field(default=1.0, gt=0, le=60)
    output_retries: int = Field(default=2, ge=0, le=10)
    max_cost: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=0, ge=0)
    attempt_max_cost: float = Field(default=0.0, ge=0)
    attempt_max_tokens: int = Field(default=0, ge=0)
    cooldown: float = Field(default=60.0, gt=0, le=86_400)
    max_wait: float = Field(default=900.0, ge=0, le=86_400)
    rounds: int = Field(default=3, ge=1, le=20)
    worktrees: str = ""


class PlanConfig(_Section):
    """Planning: how long the planner and reviewer may explore, how much of each context document they see."""

    max_turns: int = Field(default=20, ge=1)
    context_cap: int = Field(default=40_000, ge=1_000)


class CommandsConfig(_Section):
    """The project's own verification commands, run in each attempt's worktree."""

    test: str = ""
    lint: str = ""
    timeout: float = Field(default=900.0, gt=0)
    output_cap: int = Field(default=20_000, ge=1_000)


class ExecutorConfig(_Section):
    max_turns: int = Field(default=40, ge=1)
    command_timeout: float = Field(default=120.0, gt=0)
    output_cap: int = Field(default=12_000, ge=1_000)


class VerifyConfig(_Section):
    max_diff_chars: int = Field(default=60_000, ge=1_000)
    max_turns: int = Field(default=12, ge=1)


class LessonsConfig(_Section):
    """How the factory learns from findings: approval, injection into plans, retirement."""

    auto_accept: bool = True
    max_injected: int = Field(default=8, ge=0, le=100)
    duplicate_similarity: float = Field(default=0.6, gt=0, le=1)
    retire_after_runs: int = Field(default=25, ge=1)
    checked_retire_after: int = Field(default=10, ge=1)


class ChecksConfig(_Section):
    """Lesson checks (ast-grep, regex, command): how many processes scan files at once."""

    workers: int = Field(default=0, ge=0, le=256)
    command_timeout: float = Field(default=120.0, gt=0)


def _default_roles() -> dict[Role, RoleConfig]:
    sonnet = ("anthropic:claude-sonnet-5-5",)
    return {
        Role.PLANNER: RoleConfig(model=sonnet),
        Role.PLAN_REVIEWER: RoleConfig(model=sonnet),
        Role.EXECUTOR: RoleConfig(model=sonnet),
        Role.PLAN_VERIFIER: RoleConfig(model=sonnet),
        Role.ASK_VERIFIER: RoleConfig(model=("openai:gpt-6.1-sol",)),
        Role.DISTILLER: RoleConfig(model=sonnet),
    }


def _default_providers() -> dict[str, ProviderConfig]:
    return {
        "anthropic": ProviderConfig(kind=ProviderKind.ANTHROPIC, api_key_env="ANTHROPIC_API_KEY"),
        "openai": ProviderConfig(kind=ProviderKind.OPENAI, api_key_env="OPENAI_API_KEY"),
    }


class FactoryConfig(_Section):
    run: RunConfig = RunConfig()
    plan: PlanConfig = PlanConfig()
    commands: CommandsConfig = CommandsConfig()
    executor: ExecutorConfig = ExecutorConfig()
    verify: VerifyConfig = VerifyConfig()
    lessons: LessonsConfig = LessonsConfig()
    checks: ChecksConfig = ChecksConfig()
    roles: dict[Role, RoleConfig] = Field(default_factory=_default_roles)
    providers: dict[str, ProviderConfig] = Field(default_factory=_default_providers)
    agents: dict[str, AgentConfig] = Field(default_factory=default_agents)
    """External coding agents by name; the executor's choices may name them instead of a provider."""
    prices: dict[str, Price] = Field(default_factory=dict)
    """Prices by `provider:model`, overriding the shipped table (genai-prices) for that model."""

    def price(self, ref: ModelRef) -> Price | None:
        """The user's price for a model, or None to let the shipped table price it."""
        return self.prices.get(str(ref))

    @model_validator(mode="after")
    def _roles_use_known_providers(self) -> FactoryConfig:
        if clash := sorted(set(self.agents) & set(self.providers)):
            raise PydanticCustomError(
                "unknown_provider",
                "'{name}' names both an agent and a provider ([providers.{name}]): rename one",
                {"name": clash[0], "loc": ("agents", clash[0])},
            )
        for role, role_config in self.roles.items():
            for ref in role_config.every_choice:
                if ref.provider in self.providers:
                    continue
                if ref.provider in self.agents and role is not Role.EXECUTOR:
                    raise PydanticCustomError(
                        "unknown_provider",
                        "names agent '{provider}': an agent carries out steps, so only "
                        "[roles.executor] may name one; choose a provider here",
                        {"provider": ref.provider, "loc": ("roles", role.value, "model")},
                    )
                if ref.provider in self.agents:
                    continue
                known = ", ".join(sorted({*self.providers, *self.agents})) or "none"
                raise PydanticCustomError(
                    "unknown_provider",
                    "names provider '{provider}', which is not configured (configured: {known}); "
                    "add [providers.{provider}] or pick a configured one",
                    {"provider": ref.provider, "known": known, "loc": ("roles", role.value, "model")},
                )
        return self

    def agent(self, ref: ModelRef) -> AgentConfig | None:
        """The external agent a role's choice names, or None when it names a provider."""
        return None if ref.provider in self.providers else self.agents.get(ref.provider)

    @model_validator(mode="after")
    def _prices_name_configured_models(self) -> FactoryConfig:
        for key in self.prices:
            try:
                ref = ModelRef.parse(key)
            except ValueError as error:
                raise _price_key_error(key, str(error)) from None
            if str(ref) != key:
                raise _price_key_error(key, f"write it as '{ref}', without spaces")
            if ref.provider not in self.providers:
                known = ", ".join(sorted(self.providers)) or "none"
                raise PydanticCustomError(
                    "unknown_provider",
                    "names provider '{provider}', which is not configured (configured: {known}); "
                    "the part before ':' is the NAME of a [providers.NAME] table",
                    {"provider": ref.provider, "known": known, "loc": ("prices", key)},
                )
        return self


def _price_key_error(key: str, problem: str) -> PydanticCustomError:
    return PydanticCustomError(
        "price_key",
        '{problem}; a price is named like the model in [roles], e.g. [prices."anthropic:claude-sonnet-5-5"]',
        {"problem": problem, "loc": ("prices", key)},
    )
