"""Configuration: typed, layered (defaults → user file → .factory/config.toml → flags), no import-time I/O."""

from aifactory.config.agents import AgentConfig, AgentKind
from aifactory.config.load import load_config, user_config_path
from aifactory.config.model import (
    CommandsConfig,
    ExecutorConfig,
    FactoryConfig,
    ModelRef,
    PlanConfig,
    RoleConfig,
    RunConfig,
    VerifyConfig,
)
from aifactory.config.providers import OpenAIApi, ProviderConfig, ProviderKind

__all__ = [
    "AgentConfig",
    "AgentKind",
    "CommandsConfig",
    "ExecutorConfig",
    "FactoryConfig",
    "ModelRef",
    "OpenAIApi",
    "PlanConfig",
    "ProviderConfig",
    "ProviderKind",
    "RoleConfig",
    "RunConfig",
    "VerifyConfig",
    "load_config",
    "user_config_path",
]
