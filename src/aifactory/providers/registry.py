"""From configuration to ready providers: one line per provider kind."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from aifactory.config import ProviderConfig, ProviderKind
from aifactory.errors import ConfigError
from aifactory.providers.base import MissingCredentials, Provider

_BACKENDS: dict[ProviderKind, tuple[str, str]] = {
    ProviderKind.ANTHROPIC: ("aifactory.providers.anthropic", "AnthropicBackend"),
    ProviderKind.OPENAI: ("aifactory.providers.openai", "OpenAIBackend"),
    ProviderKind.OPENAI_COMPATIBLE: ("aifactory.providers.openai", "OpenAIBackend"),
    ProviderKind.AZURE_OPENAI: ("aifactory.providers.azure", "AzureOpenAIBackend"),
    ProviderKind.BEDROCK: ("aifactory.providers.bedrock", "BedrockBackend"),
}
"""Backends by kind, as (module, class): a module is imported only when a provider of its kind is
opened, because each pulls in its SDK, and SDK imports dominate the CLI's start-up time."""


def open_provider(name: str, config: ProviderConfig, env: Mapping[str, str], *, used_by: str) -> Provider:
    """Build provider `name`, reading its credentials from `env` (or the chain its kind uses).

    `used_by` names what needs it, so a missing credential says which role to move elsewhere.
    """
    module, cls = _BACKENDS[config.kind]
    try:
        backend: Provider = getattr(importlib.import_module(module), cls)(name, config, env)
    except MissingCredentials as missing:
        raise ConfigError(
            f"{missing.missing}, which provider {name!r} needs for {used_by}: {missing.fix}, "
            "or choose another provider for it in .factory/config.toml"
        ) from None
    return backend
