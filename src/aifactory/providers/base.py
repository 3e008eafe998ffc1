"""The provider seam: a configured model API that hands out pydantic-ai models.

A backend only knows its wire protocol and its client. Retries, recording and (later) pooling
and cooldowns wrap the models it returns (`providers/calls.py`), so no backend repeats them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from aifactory.config import ProviderConfig

if TYPE_CHECKING:
    from pydantic_ai.models import Model


class Provider(Protocol):
    """One entry of `[providers.NAME]`, ready to serve models."""

    name: str
    credentials: str
    """Where the provider's credentials come from, for the error a refused one gets; never the secret."""

    def model(self, model_name: str) -> Model:
        """A model of this provider; its client never retries on its own."""
        ...


class MissingCredentials(Exception):
    """A backend found no credentials where its configuration says to look: what is missing, and the fix."""

    def __init__(self, missing: str, fix: str) -> None:
        super().__init__(f"{missing}: {fix}")
        self.missing = missing
        self.fix = fix


def api_key(config: ProviderConfig, env: Mapping[str, str]) -> str | None:
    """The key in the variable `api_key_env` names; None when the provider names none (a local server)."""
    if config.api_key_env is None:
        return None
    key = env.get(config.api_key_env, "").strip()
    if not key:
        raise MissingCredentials(
            f"environment variable {config.api_key_env} is not set", f"export {config.api_key_env}=..."
        )
    return key


def describe_key(name: str, config: ProviderConfig) -> str:
    """Where a provider's key comes from, as a refused key's error names it."""
    if config.api_key_env is None:
        return f"the key: [providers.{name}] names no api_key_env, so none is sent"
    return f"the key in {config.api_key_env} ([providers.{name}] api_key_env)"
