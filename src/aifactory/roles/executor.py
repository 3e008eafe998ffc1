"""The executor role: the blueprint's executor prompt for one step, carried out by the executor's choices.

The choices may mix external agents (`claude-code:MODEL`) with provider models; consecutive provider
choices form one pool served by the built-in agent. `agents.relay` hands the step from one seat to
the next when a limit is hit. The prompt is rendered per kind of agent, since the built-in agent's
tools are not Claude Code's.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aifactory.agents.base import StepJob, StepOutcome
from aifactory.agents.builtin import BuiltinAgent
from aifactory.agents.mcp_offer import McpOffer
from aifactory.agents.registry import open_agent
from aifactory.agents.relay import Place, Relay, Seat
from aifactory.config import ModelRef
from aifactory.domain.plan import Complexity, Plan
from aifactory.domain.run import Role
from aifactory.providers.calls import CallScope
from aifactory.roles.kit import RoleKit
from aifactory.workspace.sandbox import choose

if TYPE_CHECKING:
    from aifactory.agents.mcp import McpServers

BUILTIN = "builtin"


@dataclass(frozen=True)
class DoneStep:
    """A finished step as later prompts show it."""

    number: int
    title: str
    summary: str
    commit: str


@dataclass(frozen=True)
class StepBrief:
    """Step `index` (0-based) of `plan` in an attempt, and what the attempt's earlier steps left."""

    plan: Plan
    plan_text: str
    index: int
    done: Sequence[DoneStep]
    worktree: Path
    attempt: str
    branch: str
    env: Mapping[str, str]
    sessions: Mapping[str, str]
    """The session each external agent left at an earlier step of this attempt, by agent name."""
    mcp: McpServers | None = None
    """The attempt's MCP servers (`attempt_mcp`), whose granted tools the built-in agent gets."""


@dataclass(frozen=True)
class StepDone:
    """Who carried out the step (an agent's or a provider's name), on which model, and how."""

    by: str
    model: str
    outcome: StepOutcome


async def execute_step(
    kit: RoleKit, scope: CallScope, brief: StepBrief, restore: Callable[[], Awaitable[None]]
) -> StepDone:
    """Carry out one step on the executor's choices for its complexity, first available first."""
    complex_step = brief.plan.steps[brief.index].complexity is Complexity.COMPLEX
    groups = _groups(kit, kit.config.roles[Role.EXECUTOR].choices(complex_step=complex_step))
    seats = [_seat(kit, scope, brief, group, last=n == len(groups) - 1) for n, group in enumerate(groups)]
    run = kit.config.run
    relay = Relay(
        place=Place(role=Role.EXECUTOR, run_id=scope.run_id, attempt=scope.attempt, step=scope.step),
        sink=kit.catalog.sink,
        cooling=kit.catalog.cooling,
        guard=lambda: kit.catalog.guard(scope),
        restore=restore,
        cooldown=run.cooldown,
        max_wait=run.max_wait,
    )
    seat, outcome = await relay.run(seats)
    return StepDone(by=seat.name, model=seat.model, outcome=outcome)


async def check_agents(kit: RoleKit) -> None:
    """Every external agent the executor names is installed in a version it can drive (before any work)."""
    for ref in kit.config.roles[Role.EXECUTOR].every_choice:
        agent = kit.config.agent(ref)
        if agent is not None:
            await open_agent(
                ref.provider, agent, ref.model, kit.catalog.env, secret_names=_secrets(kit)
            ).check()


@contextlib.asynccontextmanager
async def attempt_mcp(
    kit: RoleKit, worktree: Path, env: Mapping[str, str]
) -> AsyncIterator[McpServers | None]:
    """The MCP servers `[roles.executor] mcp_tools` names, running in the attempt's worktree until it ends.

    None when the allow-list is empty or every executor choice is an external agent (an agent CLI
    that speaks MCP starts the granted servers itself, from its step's `McpOffer`). `env` is the
    scrubbed environment of worktree commands; a server adds what its table passes on from the
    factory's own.
    """
    executor = kit.config.roles[Role.EXECUTOR]
    if not executor.mcp_tools or all(kit.config.agent(ref) for ref in executor.every_choice):
        yield None
        return
    # Imported only when an attempt has MCP servers: the SDK is not needed otherwise.
    servers = importlib.import_module("aifactory.agents.mcp").McpServers(
        kit.config.mcp_servers, executor.mcp_tools, cwd=worktree, env=env, source=kit.catalog.env
    )
    async with servers as running:
        yield running


def _groups(kit: RoleKit, refs: Sequence[ModelRef]) -> list[list[ModelRef]]:
    """Each agent alone; runs of provider choices together, as one pool."""
    groups: list[list[ModelRef]] = []
    for ref in refs:
        pooled = kit.config.agent(ref) is None
        if pooled and groups and kit.config.agent(groups[-1][0]) is None:
            groups[-1].append(ref)
        else:
            groups.append([ref])
    return groups


def _seat(kit: RoleKit, scope: CallScope, brief: StepBrief, group: list[ModelRef], *, last: bool) -> Seat:
    first = group[0]
    agent_config = kit.config.agent(first)
    if agent_config is None:
        model = kit.catalog.model(Role.EXECUTOR, scope, refs=group, wait=last)
        builtin = BuiltinAgent(
            model,
            settings=kit.catalog.settings(Role.EXECUTOR),
            output_retries=kit.output_retries,
            mcp=brief.mcp,
        )
        names = tuple(ref.provider for ref in group)
        job = step_job(kit, brief, agent=BUILTIN)
        return Seat(
            name=first.provider, model=first.model, names=names, agent=builtin, job=job, external=False
        )
    agent = open_agent(first.provider, agent_config, first.model, kit.catalog.env, secret_names=_secrets(kit))
    grants = kit.config.roles[Role.EXECUTOR].mcp_tools
    mcp = McpOffer.of(kit.config.mcp_servers, grants, kit.catalog.env)
    resume = brief.sessions.get(first.provider)
    job = step_job(kit, brief, agent=agent_config.kind.value, resume=resume, mcp=mcp)
    return Seat(
        name=first.provider, model=first.model, names=(first.provider,), agent=agent, job=job, external=True
    )


def _secrets(kit: RoleKit) -> list[str]:
    """The variables holding the providers' keys: an agent gets one only if its table passes it on."""
    return [p.api_key_env for p in kit.config.providers.values() if p.api_key_env is not None]


def step_job(
    kit: RoleKit, brief: StepBrief, *, agent: str, resume: str | None = None, mcp: McpOffer | None = None
) -> StepJob:
    """The prompt and limits of the step for an agent of kind `agent` (`builtin` or an agent kind)."""
    prompt = kit.blueprint.prompt(
        Role.EXECUTOR,
        plan_text=brief.plan_text,
        step=brief.plan.steps[brief.index],
        step_number=brief.index + 1,
        total_steps=len(brief.plan.steps),
        done=brief.done,
        attempt=brief.attempt,
        branch=brief.branch,
        agent=agent,
    )
    executor = kit.config.executor
    return StepJob(
        worktree=brief.worktree,
        instructions=prompt.system,
        task=prompt.task,
        stable=prompt.stable,
        max_turns=executor.max_turns,
        command_timeout=executor.command_timeout,
        output_cap=executor.output_cap,
        env=brief.env,
        resume=resume,
        mcp=mcp,
        sandbox=choose(kit.config.run.sandbox),
    )
