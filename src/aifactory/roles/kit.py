"""What every role needs, built once per command: configuration, prompts, and models per role.

Every command opens a kit, most call no model (`factory check`, `status`, `lessons`): the model
stack (pydantic-ai, its SDKs and our wrappers: most of the CLI's start-up time) is imported when the
first model is asked for, not with this module. A role's model call itself is `roles.consult`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aifactory.blueprint.store import Blueprint
from aifactory.config import FactoryConfig, ModelRef
from aifactory.domain.events import EventSink
from aifactory.domain.run import Role
from aifactory.providers.base import Provider, api_key
from aifactory.providers.registry import open_provider

if TYPE_CHECKING:
    from pydantic_ai.models import Model
    from pydantic_ai.settings import ModelSettings

    from aifactory.providers.calls import CallScope


class ModelCatalog:
    """Hands each role its configured model, wrapped for recording and retries, providers opened once."""

    def __init__(
        self,
        config: FactoryConfig,
        env: Mapping[str, str],
        sink: EventSink,
        cooling: Callable[[], Mapping[str, datetime]],
        guard: Callable[[CallScope], None],
    ) -> None:
        self._config = config
        self._env = env
        self._sink = sink
        self._cooling = cooling
        self._guard = guard
        self._providers: dict[str, Provider] = {}
        self._models: dict[str, Model] = {}
        self._served: dict[tuple[Role, str | None, str | None], str] = {}

    def check(self, roles: Iterable[Role]) -> None:
        """Open the providers these roles need now, so a missing key fails before any work starts."""
        for role in roles:
            for ref in self._config.roles[role].every_choice:
                if self._config.agent(ref) is None:
                    self._provider(role, ref.provider)

    @property
    def env(self) -> Mapping[str, str]:
        """The environment providers read their keys from; external agents get a scrubbed part of it."""
        return self._env

    @property
    def sink(self) -> EventSink:
        return self._sink

    def cooling(self) -> Mapping[str, datetime]:
        """Providers and agents cooling down now, and until when (from the ledger)."""
        return self._cooling()

    def guard(self, scope: CallScope) -> None:
        """Raises `BudgetExceeded` when the caller's run or attempt may spend no more."""
        self._guard(scope)

    def model(
        self,
        role: Role,
        scope: CallScope,
        *,
        complex_step: bool = False,
        refs: Sequence[ModelRef] | None = None,
        wait: bool = True,
    ) -> Model:
        """The role's choices as one pooled model; `complex_step` picks the executor's `complex` list.

        `refs` narrows the choices (the executor's provider choices between agents); without `wait`
        the pool fails at once when all of them are cooling, so the next choice can take over.
        """
        # Imported at the first model, not with this module: it loads pydantic-ai (see above).
        pool = importlib.import_module("aifactory.providers.pool")
        choices = []
        for ref in refs if refs is not None else self._config.roles[role].choices(complex_step=complex_step):
            key = str(ref)
            provider = self._provider(role, ref.provider)
            if key not in self._models:
                self._models[key] = provider.model(ref.model)
            choices.append(
                pool.Offer(
                    provider=ref.provider,
                    model=self._models[key],
                    price=self._config.price(ref),
                    credentials=provider.credentials,
                    secrets=self._secrets(ref.provider),
                )
            )
        run = self._config.run
        policy = pool.PoolPolicy(
            retries=run.model_retries,
            backoff=run.retry_backoff,
            cooldown=run.cooldown,
            max_wait=run.max_wait if wait else 0.0,
        )
        model: Model = pool.pooled(
            choices,
            role=role,
            scope=scope,
            sink=self._sink,
            cooling=self._cooling,
            guard=self._guard,
            policy=policy,
            served=self._served,
        )
        return model

    def settings(self, role: Role) -> ModelSettings:
        """The role's limits, and prompt-caching breakpoints for providers that take them.

        The stable prefix of every role's request carries cache breakpoints (tool definitions, the
        system prompt; the loop adds one after the plan, `agents.loop.run_model`), so the steps and
        attempts of one run read it from the provider's cache instead of paying for it again:
        three of the four breakpoints Anthropic allows. Providers without caching ignore the keys.
        """
        role_config = self._config.roles[role]
        settings: ModelSettings = importlib.import_module(
            "pydantic_ai.models.anthropic"
        ).AnthropicModelSettings(
            max_tokens=role_config.max_tokens,
            anthropic_cache_tool_definitions=True,
            anthropic_cache_instructions=True,
        )
        if role_config.temperature is not None:
            settings["temperature"] = role_config.temperature
        return settings

    def _secrets(self, name: str) -> tuple[str, ...]:
        """The provider's key, which its errors may echo (Bedrock's AWS secret never leaves the client)."""
        key = api_key(self._config.providers[name], self._env)
        return (key,) if key else ()

    def _provider(self, role: Role, name: str) -> Provider:
        if name not in self._providers:
            self._providers[name] = open_provider(
                name,
                self._config.providers[name],
                self._env,
                used_by=f"role {role.value} ([roles.{role.value}] model)",
            )
        return self._providers[name]


@dataclass(frozen=True)
class RoleKit:
    """Everything a role call needs besides its own inputs."""

    config: FactoryConfig
    blueprint: Blueprint
    catalog: ModelCatalog
    repo: Path

    @property
    def output_retries(self) -> int:
        return self.config.run.output_retries


@dataclass(frozen=True)
class ContextDoc:
    """A document given with the ask (API description, use cases), already read and capped."""

    path: str
    text: str
