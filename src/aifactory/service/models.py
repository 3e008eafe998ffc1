"""`factory models`: the pool as configured and as it stands now.

For each provider: its kind and endpoint, whether its key is set, whether it is cooling down (from
the ledger, so a limit another run hit shows here too), and which roles use which of its models in
which place of their choices.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from aifactory.ledger.cooldowns import cooling
from aifactory.ledger.store import Ledger
from aifactory.service.project import Project


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
        if self.cooling_until is not None:
            return f"cooling down until {self.cooling_until.astimezone():%Y-%m-%d %H:%M:%S}: {self.reason}"
        return "ready"


def provider_states(project: Project, env: Mapping[str, str] | None = None) -> list[ProviderState]:
    environment = os.environ if env is None else env
    with Ledger.open(project.ledger_path) as ledger:
        resting = cooling(ledger)
    config = project.config
    states = {
        name: ProviderState(
            name=name,
            kind=provider.kind.value,
            endpoint=provider.base_url or "(the provider's public endpoint)",
            key_variable=provider.api_key_env,
            key_set=provider.api_key_env is None or bool(environment.get(provider.api_key_env, "").strip()),
            cooling_until=resting[name].until if name in resting else None,
            reason=resting[name].reason if name in resting else "",
        )
        for name, provider in config.providers.items()
    }
    for role, role_config in config.roles.items():
        for complex_steps, chosen in ((False, role_config.choices()), (True, role_config.complex_choices)):
            for place, ref in enumerate(chosen, start=1):
                if ref.provider not in states:
                    continue
                states[ref.provider].uses.append(
                    Use(role=role.value, model=ref.model, place=place, complex_steps=complex_steps)
                )
    return list(states.values())
