"""Verification of one attempt: the project's commands, then both verifier roles, then the decision."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aifactory.checks.base import CheckTarget
from aifactory.checks.command import CommandCheck
from aifactory.domain.events import VerdictReached
from aifactory.domain.plan import Plan
from aifactory.domain.verdict import AttemptVerdict, decide
from aifactory.engine.context import Factory
from aifactory.providers.calls import CallScope
from aifactory.roles.executor import DoneStep
from aifactory.roles.verifier import VERIFIERS, CommandReport, Evidence, verify
from aifactory.workspace.git import Git


@dataclass(frozen=True)
class Subject:
    """The attempt under verification: its plan, its commits, and where it lives."""

    run_id: str
    attempt: str
    plan: Plan
    plan_text: str
    steps: Sequence[DoneStep]
    worktree: Git
    target: CheckTarget


def project_checks(factory: Factory) -> list[CommandCheck]:
    """The configured test and lint commands, in that order."""
    commands = factory.kit.config.commands
    configured = [("test", commands.test), ("lint", commands.lint)]
    return [
        CommandCheck(label=label, command=command, timeout=commands.timeout, output_cap=commands.output_cap)
        for label, command in configured
        if command.strip()
    ]


async def verify_attempt(factory: Factory, subject: Subject) -> AttemptVerdict:
    """Run every check and verifier on the attempt's commits and combine their verdicts."""
    target = subject.target
    checks = project_checks(factory)
    command_verdicts = [await check.run(target) for check in checks]
    diff = await subject.worktree.diff(target.base, target.head, cap=factory.kit.config.verify.max_diff_chars)
    evidence = Evidence(
        ask=subject.plan.ask,
        plan_text=subject.plan_text,
        diff=diff.text,
        diff_truncated=diff.truncated,
        commands=[
            CommandReport(
                name=check.label, command=check.command, passed=verdict.passed, summary=verdict.summary
            )
            for check, verdict in zip(checks, command_verdicts, strict=True)
        ],
        steps=subject.steps,
    )
    role_verdicts = await asyncio.gather(
        *(
            verify(
                factory.kit,
                role,
                evidence,
                worktree=target.worktree,
                scope=CallScope(role=role, run_id=subject.run_id, attempt=subject.attempt),
            )
            for role in VERIFIERS
        )
    )
    verdicts = (*command_verdicts, *role_verdicts)
    for verdict in verdicts:
        factory.sink(VerdictReached(run_id=subject.run_id, attempt=subject.attempt, verdict=verdict))
    return decide(verdicts)
