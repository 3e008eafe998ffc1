"""What every role needs, built once per command: configuration, prompts, and models per role.

Every command opens a kit, most call no model (`factory check`, `status`, `lessons`): the model
stack (pydantic-ai, its SDKs and our wrappers: most of the CLI's start-up time) is imported when the
first model is asked for, not with this module. A role's model call itself is `roles.consult`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aifactory.blueprint.store import Blueprint
from aifactory.config import FactoryConfig
from aifactory.domain.events import EventSink
from aifactory.domain.run import Role
from aifactory.providers.base import Provider
from aifactory.providers.registry import open_provider

if TYPE_CHECKING:
    from pydantic_ai.models import Model
    from pydantic_ai.settings import ModelSettings

    from aifactory.providers.calls import CallScope


class ModelCatalog:
    """Hands each role its configured model, wrapped for recording and retries, providers opened once."""

    def __init__(self, config: FactoryConfig, env: Mapping[str, str], sink: EventSink) -> None:
        self._config = config
        self._env = env
        self._sink = sink
        self._providers: dict[str, Provider] = {}
        self._models: dict[str, Model] = {}

    def check(self, roles: Iterable[Role]) -> None:
        """Open the providers these roles need now, so a missing key fails before any work starts."""
        for role in roles:
            self._provider(role)

    def model(self, role: Role, scope: CallScope) -> Model:
        ref = self._config.roles[role].ref
        key = str(ref)
        provider = self._provider(role)
        if key not in self._models:
            self._models[key] = provider.model(ref.model)
        run = self._config.run
        # Imported at the first model, not with this module: it loads pydantic-ai (see above).
        calls = importlib.import_module("aifactory.providers.calls")
        model: Model = calls.wrapped(
            self._models[key],
            provider=ref.provider,
            credentials=provider.credentials,
            role=role,
            scope=scope,
            sink=self._sink,
            retries=run.model_retries,
            backoff=run.retry_backoff,
        )
        return model

    def settings(self, role: Role) -> ModelSettings:
        role_config = self._config.roles[role]
        settings: ModelSettings = {"max_tokens": role_config.max_tokens}
        if role_config.temperature is not None:
            settings["temperature"] = role_config.temperature
        return settings

    def _provider(self, role: Role) -> Provider:
        name = self._config.roles[role].ref.provider
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
