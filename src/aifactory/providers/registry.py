"""From configuration to ready providers: one line per provider kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aifactory.config import ProviderConfig, ProviderKind
from aifactory.errors import ConfigError
from aifactory.providers.anthropic import AnthropicBackend
from aifactory.providers.base import Provider
from aifactory.providers.openai import OpenAIBackend

_BACKENDS: dict[ProviderKind, Callable[[str, ProviderConfig, str], Provider]] = {
    ProviderKind.ANTHROPIC: AnthropicBackend,
    ProviderKind.OPENAI: OpenAIBackend,
}


def open_provider(name: str, config: ProviderConfig, env: Mapping[str, str], *, used_by: str) -> Provider:
    """Build provider `name`, reading its key from the environment variable the config names."""
    api_key = env.get(config.api_key_env, "").strip()
    if not api_key:
        raise ConfigError(
            f"environment variable {config.api_key_env} is not set, and provider {name!r} needs it "
            f"for {used_by}: export {config.api_key_env}=..., or choose another provider for it "
            "in .factory/config.toml"
        )
    return _BACKENDS[config.kind](name, config, api_key)
