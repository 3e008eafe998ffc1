"""A factory whose every role has the same one or two choices, each provider of any kind, for fault tests.

Every role names `first` (then `second`); each is its own fake server speaking its kind's wire, so a
fault injected on one provider's server shows how the pool handles that provider's own errors.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aifactory.domain.run import Role
from aifactory.service.setup import create_sample
from aifactory.testing import FakeServer, Scenario, SimRequest, WireProtocol
from tests.sim import KEY_VARIABLE, SAMPLE, SimProject
from tests.support import git


@dataclass(frozen=True)
class Kind:
    """A provider kind as a test configures it: its wire, a model, its table's settings, its credentials."""

    protocol: WireProtocol
    model: str
    settings: str
    credentials: Mapping[str, str]


AWS = {"AWS_ACCESS_KEY_ID": "AKIAFAKEFACTORY1", "AWS_SECRET_ACCESS_KEY": "fake-secret-access-key"}

KINDS: dict[str, Kind] = {
    "anthropic": Kind(
        "anthropic", "claude-sonnet-5-5", f'base_url = "{{url}}"\napi_key_env = "{KEY_VARIABLE}"', {}
    ),
    "openai": Kind("openai", "gpt-6.1-sol", f'base_url = "{{url}}"\napi_key_env = "{KEY_VARIABLE}"', {}),
    "azure-openai": Kind(
        "azure-openai",
        "gpt-4o-prod",
        f'endpoint = "{{url}}"\napi_version = "2024-10-21"\napi_key_env = "{KEY_VARIABLE}"',
        {},
    ),
    "bedrock": Kind(
        "bedrock",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        'region = "us-east-1"\nbase_url = "{url}"',
        AWS,
    ),
}


@dataclass(frozen=True)
class Seat:
    """One of a role's choices: its provider's kind, what its server answers, its client's timeout, and
    how long its server takes to answer each call."""

    kind: str
    scenario: Scenario
    timeout: float = 10.0
    latency: float = 0.0


NAMES = ("first", "second")
"""The providers' names in `[providers]`, in the order every role chooses them."""


@dataclass
class Choices:
    """The project and each choice's server, in order."""

    sim: SimProject
    servers: list[FakeServer]

    @property
    def first(self) -> FakeServer:
        return self.servers[0]

    def calls(self, role: str = "executor") -> list[tuple[str, int | None, bool]]:
        """The role's model calls in order: (provider, step, whether it failed)."""
        sql = "select provider, step, error from model_calls where role = ? order by id"
        return [(provider, step, bool(error)) for provider, step, error in self._rows(sql, role)]

    def provider_events(self, role: str = "executor") -> list[tuple[str, str, str | None, int | None]]:
        """The role's cooldowns and switches in order: (kind, provider, the provider taking over, step)."""
        sql = "select kind, provider, other, step from provider_events where role = ? order by id"
        return [tuple(row) for row in self._rows(sql, role)]

    def cooled(self) -> list[tuple[str, float, str]]:
        """Every cooldown: (provider, seconds of rest from when it was recorded, why)."""
        rows = self._rows(
            "select provider, until, at, reason from provider_events where kind = 'provider-cooled'"
        )
        return [(provider, _seconds(until, at), reason) for provider, until, at, reason in rows]

    def step_subjects(self, branch: str) -> list[str]:
        """The subjects of the attempt branch's commits since main, oldest first."""
        return git(self.sim.repo, "log", "--reverse", "--format=%s", f"main..{branch}").splitlines()

    def _rows(self, sql: str, *parameters: str) -> list[Any]:
        with sqlite3.connect(self.sim.repo / ".factory" / "ledger.db") as db:
            return db.execute(sql, parameters).fetchall()


def _seconds(until: str, at: str) -> float:
    return (datetime.fromisoformat(until) - datetime.fromisoformat(at)).total_seconds()


def executor_step(request: SimRequest) -> bool:
    """An executor's request: the only ones a fault is injected into, so planning goes through."""
    return request.offers("step_done")


def _config(
    root: Path, seats: Sequence[Seat], servers: Sequence[FakeServer], run: Mapping[str, float]
) -> str:
    choices = json.dumps(
        [f"{name}:{KINDS[seat.kind].model}" for name, seat in zip(NAMES, seats, strict=False)]
    )
    lines = ["[run]", "model_retries = 2", "retry_backoff = 0.01"]
    lines += [f"{key} = {value}" for key, value in run.items()]
    lines += [f"worktrees = {json.dumps(str(root / 'worktrees'))}"]
    lines += [f"[roles.{role.value}]\nmodel = {choices}" for role in Role]
    for name, seat, server in zip(NAMES, seats, servers, strict=False):
        settings = KINDS[seat.kind].settings.format(url=server.base_url)
        lines += [f"[providers.{name}]", f'kind = "{seat.kind}"', settings, f"timeout = {seat.timeout}"]
    return "\n".join(lines) + "\n"


@contextmanager
def choices(root: Path, *seats: Seat, run: Mapping[str, float] | None = None) -> Iterator[Choices]:
    """A committed repository set up by `factory init`, every role choosing `seats` (one or two) in order."""
    with ExitStack() as stack:
        servers = [
            stack.enter_context(FakeServer(s.scenario, KINDS[s.kind].protocol, latency=s.latency))
            for s in seats
        ]
        repo = root / "repo"
        asyncio.run(create_sample(repo, SAMPLE, _config(root, seats, servers, run or {})))
        credentials = {name: value for seat in seats for name, value in KINDS[seat.kind].credentials.items()}
        sim = SimProject(repo=repo, claude=servers[0], gpt=servers[-1], credentials=credentials)
        yield Choices(sim, servers)
