"""The shape of `.factory/config.toml`; every default here is also written, commented, by `factory init`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from aifactory.config.agents import AgentConfig, default_agents
from aifactory.config.mcp import McpServerConfig, parse_grants, server_name_error, unknown_server
from aifactory.config.providers import ProviderConfig, ProviderKind, Section
from aifactory.config.small_agents import LibrarianConfig, SmallAgentsConfig
from aifactory.domain.prices import Price
from aifactory.domain.run import Role

SandboxMode = Literal["auto", "bwrap", "none"]
"""`[run] sandbox`: what confines the writes of agents and executor commands (`workspace/sandbox.py`)."""


class ModelRef(Section):
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


class RoleConfig(Section):
    """Which models play a role, in order of preference, and how much each may write per answer.

    `model` is one `provider:model` or a list: the pool uses the first choice that is not cooling
    down after a limit. `complex`, for the executor, is the list used for steps the plan reviewer
    judged complex (a stronger model), `model` serving the simple ones.
    """

    model: tuple[str, ...]
    complex: tuple[str, ...] = ()
    max_tokens: int = Field(default=8192, gt=0)
    temperature: float | None = Field(default=None, ge=0, le=2)
    mcp_tools: tuple[str, ...] = ()
    """MCP tools the role's built-in agent may call: `NAME` (every tool of a server) or `NAME.TOOL`."""

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: str | list[str]) -> tuple[str, ...]:
        return _choices(value)

    @field_validator("complex", mode="before")
    @classmethod
    def _complex(cls, value: str | list[str]) -> tuple[str, ...]:
        return _choices(value) if value else ()

    @field_validator("mcp_tools", mode="before")
    @classmethod
    def _mcp_tools(cls, value: str | list[str]) -> tuple[str, ...]:
        return parse_grants([value] if isinstance(value, str) else value)

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


class RunConfig(Section):
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
    sandbox: SandboxMode = "auto"


class PlanConfig(Section):
    """Planning: how long the planner and reviewer may explore, how much of each context document they see."""

    max_turns: int = Field(default=20, ge=1)
    context_cap: int = Field(default=40_000, ge=1_000)


class CommandsConfig(Section):
    """The project's own verification commands, run in each attempt's worktree."""

    test: str = ""
    lint: str = ""
    timeout: float = Field(default=900.0, gt=0)
    output_cap: int = Field(default=20_000, ge=1_000)


class ExecutorConfig(Section):
    max_turns: int = Field(default=40, ge=1)
    command_timeout: float = Field(default=120.0, gt=0)
    output_cap: int = Field(default=12_000, ge=1_000)


class VerifyConfig(Section):
    max_diff_chars: int = Field(default=60_000, ge=1_000)
    max_turns: int = Field(default=12, ge=1)


class LessonsConfig(Section):
    """How the factory learns from findings: approval, injection into plans, retirement."""

    auto_accept: bool = True
    max_injected: int = Field(default=8, ge=0, le=100)
    duplicate_similarity: float = Field(default=0.6, gt=0, le=1)
    retire_after_runs: int = Field(default=25, ge=1)
    checked_retire_after: int = Field(default=10, ge=1)


class ChecksConfig(Section):
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


class WorkflowsConfig(Section):
    """`[workflows]`: how many step instances of a workflow run at once."""

    parallel: int = Field(default=4, ge=1, le=64)


class FactoryConfig(Section):
    run: RunConfig = RunConfig()
    plan: PlanConfig = PlanConfig()
    commands: CommandsConfig = CommandsConfig()
    executor: ExecutorConfig = ExecutorConfig()
    verify: VerifyConfig = VerifyConfig()
    lessons: LessonsConfig = LessonsConfig()
    checks: ChecksConfig = ChecksConfig()
    workflows: WorkflowsConfig = WorkflowsConfig()
    roles: dict[Role, RoleConfig] = Field(default_factory=_default_roles)
    providers: dict[str, ProviderConfig] = Field(default_factory=_default_providers)
    agents: dict[str, AgentConfig] = Field(default_factory=default_agents)
    """External coding agents by name; the executor's choices may name them instead of a provider."""
    small_agents: SmallAgentsConfig = SmallAgentsConfig()
    librarian: LibrarianConfig = LibrarianConfig()
    prices: dict[str, Price] = Field(default_factory=dict)
    """Prices by `provider:model`, overriding the shipped table (genai-prices) for that model."""
    mcp_servers: dict[str, McpServerConfig] = Field(default_factory=dict)
    """External MCP servers whose tools a role's `mcp_tools` may grant."""

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

    @model_validator(mode="after")
    def _mcp_tools_name_servers(self) -> FactoryConfig:
        for name in self.mcp_servers:
            if problem := server_name_error(name):
                raise PydanticCustomError("mcp_setting", problem, {"loc": ("mcp_servers", name)})
        for role, role_config in self.roles.items():
            if role_config.mcp_tools and role is not Role.EXECUTOR:
                raise PydanticCustomError(
                    "mcp_setting",
                    "only [roles.executor] is given MCP tools for now: move the list there",
                    {"loc": ("roles", role.value, "mcp_tools")},
                )
            if server := unknown_server(role_config.mcp_tools, self.mcp_servers):
                known = ", ".join(sorted(self.mcp_servers)) or "none"
                raise PydanticCustomError(
                    "mcp_setting",
                    "names MCP server '{server}', which is not configured (configured: {known}); "
                    "add [mcp_servers.{server}] with a command or a url",
                    {"server": server, "known": known, "loc": ("roles", role.value, "mcp_tools")},
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
