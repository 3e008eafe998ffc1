"""The executor role: the blueprint's executor prompt for one step, handed to the attempt's agent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aifactory.agents.base import Agent, StepJob
from aifactory.agents.builtin import BuiltinAgent
from aifactory.domain.plan import Complexity, Plan
from aifactory.domain.run import Role
from aifactory.providers.calls import CallScope
from aifactory.roles.kit import RoleKit


@dataclass(frozen=True)
class DoneStep:
    """A finished step as later prompts show it."""

    number: int
    title: str
    summary: str
    commit: str


def agent_for(kit: RoleKit, scope: CallScope, complexity: Complexity) -> Agent:
    """The agent that carries out a step (the built-in one; external CLIs come later), on the models
    the configuration routes steps of this complexity to."""
    return BuiltinAgent(
        kit.catalog.model(Role.EXECUTOR, scope, complex_step=complexity is Complexity.COMPLEX),
        settings=kit.catalog.settings(Role.EXECUTOR),
        output_retries=kit.output_retries,
    )


def step_job(
    kit: RoleKit,
    *,
    plan: Plan,
    plan_text: str,
    index: int,
    done: Sequence[DoneStep],
    worktree: Path,
    attempt: str,
    branch: str,
    env: Mapping[str, str],
) -> StepJob:
    """The prompt and limits for step `index` (0-based) of `plan`."""
    prompt = kit.blueprint.prompt(
        Role.EXECUTOR,
        plan_text=plan_text,
        step=plan.steps[index],
        step_number=index + 1,
        total_steps=len(plan.steps),
        done=done,
        attempt=attempt,
        branch=branch,
    )
    executor = kit.config.executor
    return StepJob(
        worktree=worktree,
        instructions=prompt.system,
        task=prompt.task,
        stable=prompt.stable,
        max_turns=executor.max_turns,
        command_timeout=executor.command_timeout,
        output_cap=executor.output_cap,
        env=env,
    )
