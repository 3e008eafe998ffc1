"""`factory models`: the pool and the external agents as configured and as they stand now.

For each provider: its kind and endpoint, whether its key is set, whether it is cooling down (from
the ledger, so a limit another run hit shows here too), and which roles use which of its models in
which place of their choices. For each `[agents.NAME]`: its kind, whether its CLI answers
`--version` in a version the factory drives (all asked at once, each within a few seconds, so the
command stays quick), whether it is cooling down, and which executor choices name it.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from aifactory.agents.registry import open_agent
from aifactory.config import FactoryConfig
from aifactory.config.agents import AgentConfig
from aifactory.errors import ConfigError
from aifactory.ledger.cooldowns import Cooling, cooling
from aifactory.ledger.store import Ledger
from aifactory.service.project import Project

CHECK_TIMEOUT_S = 10.0
"""How long an agent's `--version` may take before it is reported as not answering."""


@dataclass(frozen=True)
class Use:
    role: str
    model: str
    place: int
    """1 for a role's first choice, 2 for its fallback, and so on."""
    complex_steps: bool = False


@dataclass(frozen=True)
class ProviderState:
    name: str
    kind: str
    endpoint: str
    key_variable: str | None
    """None when the provider takes no key from the environment (a local server, Bedrock's AWS chain)."""
    key_set: bool
    cooling_until: datetime | None
    reason: str
    uses: list[Use] = field(default_factory=list)

    @property
    def state(self) -> str:
        if not self.key_set:
            return f"no key: {self.key_variable} is not set"
        return _cooling_state(self.cooling_until, self.reason)


@dataclass(frozen=True)
class AgentState:
    """An external agent: `version` is None when its CLI is missing, too old or silent (`problem`)."""

    name: str
    kind: str
    binary: str
    version: str | None
    problem: str
    cooling_until: datetime | None
    reason: str
    uses: list[Use] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.version is None:
            return f"not installed: {self.problem}"
        return _cooling_state(self.cooling_until, self.reason)


def _cooling_state(until: datetime | None, reason: str) -> str:
    if until is not None:
        return f"cooling down until {until.astimezone():%Y-%m-%d %H:%M:%S}: {reason}"
    return "ready"


def provider_states(project: Project, env: Mapping[str, str] | None = None) -> list[ProviderState]:
    environment = os.environ if env is None else env
    resting = _resting(project)
    config = project.config
    uses = _uses(config)
    return [
        ProviderState(
            name=name,
            kind=provider.kind.value,
            endpoint=provider.base_url or "(the provider's public endpoint)",
            key_variable=provider.api_key_env,
            key_set=provider.api_key_env is None or bool(environment.get(provider.api_key_env, "").strip()),
            cooling_until=resting[name].until if name in resting else None,
            reason=resting[name].reason if name in resting else "",
            uses=uses[name],
        )
        for name, provider in config.providers.items()
    ]


async def agent_states(project: Project, env: Mapping[str, str] | None = None) -> list[AgentState]:
    """Every `[agents.NAME]`, its CLI checked concurrently with the others."""
    environment = os.environ if env is None else env
    resting = _resting(project)
    config = project.config
    secrets = [p.api_key_env for p in config.providers.values() if p.api_key_env is not None]
    checked = await asyncio.gather(
        *(_check(name, agent, environment, secrets) for name, agent in config.agents.items())
    )
    uses = _uses(config)
    return [
        AgentState(
            name=name,
            kind=agent.kind.value,
            binary=agent.binary,
            version=version,
            problem=problem,
            cooling_until=resting[name].until if name in resting else None,
            reason=resting[name].reason if name in resting else "",
            uses=uses[name],
        )
        for (name, agent), (version, problem) in zip(config.agents.items(), checked, strict=True)
    ]


async def _check(
    name: str, agent: AgentConfig, env: Mapping[str, str], secrets: list[str]
) -> tuple[str | None, str]:
    """The CLI's version, or None and why not (the install command is in the agent's message)."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            return await open_agent(name, agent, "", env, secret_names=secrets).check(), ""
    except ConfigError as error:
        return None, str(error)
    except TimeoutError:
        return None, f"`{agent.binary} --version` did not answer within {CHECK_TIMEOUT_S:.0f}s"


def _resting(project: Project) -> dict[str, Cooling]:
    with Ledger.open(project.ledger_path) as ledger:
        return cooling(ledger)


def _uses(config: FactoryConfig) -> dict[str, list[Use]]:
    """Which roles name each provider or agent, in which place of their choices."""
    uses: dict[str, list[Use]] = defaultdict(list)
    for role, role_config in config.roles.items():
        for complex_steps, chosen in ((False, role_config.choices()), (True, role_config.complex_choices)):
            for place, ref in enumerate(chosen, start=1):
                uses[ref.provider].append(
                    Use(role=role.value, model=ref.model, place=place, complex_steps=complex_steps)
                )
    return uses
