"""From configuration to ready providers: one line per provider kind."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from aifactory.config import ProviderConfig, ProviderKind
from aifactory.errors import ConfigError
from aifactory.providers.base import Provider

_BACKENDS: dict[ProviderKind, tuple[str, str]] = {
    ProviderKind.ANTHROPIC: ("aifactory.providers.anthropic", "AnthropicBackend"),
    ProviderKind.OPENAI: ("aifactory.providers.openai", "OpenAIBackend"),
}
"""Backends by kind, as (module, class): a module is imported only when a provider of its kind is
opened, because each pulls in its SDK, and SDK imports dominate the CLI's start-up time."""


def open_provider(name: str, config: ProviderConfig, env: Mapping[str, str], *, used_by: str) -> Provider:
    """Build provider `name`, reading its key from the environment variable the config names."""
    api_key = env.get(config.api_key_env, "").strip()
    if not api_key:
        raise ConfigError(
            f"environment variable {config.api_key_env} is not set, and provider {name!r} needs it "
            f"for {used_by}: export {config.api_key_env}=..., or choose another provider for it "
            "in .factory/config.toml"
        )
    module, cls = _BACKENDS[config.kind]
    backend: Provider = getattr(importlib.import_module(module), cls)(name, config, api_key)
    return backend
