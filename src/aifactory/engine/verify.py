"""Verification of one attempt: the project's commands, then both verifier roles, then the decision."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aifactory.checks.base import CheckTarget
from aifactory.checks.command import CommandCheck
from aifactory.checks.scan import LessonChecks
from aifactory.domain.events import VerdictReached
from aifactory.domain.lesson import CheckSpec
from aifactory.domain.plan import Plan
from aifactory.domain.verdict import AttemptVerdict, Verdict, decide
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
    checks: tuple[tuple[str, CheckSpec], ...] = ()


def project_checks(factory: Factory) -> list[CommandCheck]:
    """The configured test and lint commands, in that order."""
    commands = factory.kit.config.commands
    configured = [("test", commands.test), ("lint", commands.lint)]
    return [
        CommandCheck(label=label, command=command, timeout=commands.timeout, output_cap=commands.output_cap)
        for label, command in configured
        if command.strip()
    ]


@dataclass(frozen=True)
class Verification:
    verdict: AttemptVerdict
    fired: Mapping[str, int]
    """Hits of each lesson's check on the attempt, by lesson id."""


async def verify_attempt(factory: Factory, subject: Subject) -> Verification:
    """Run the lesson checks, the project's commands and both verifiers; combine their verdicts.

    The deterministic checks go first and the verifiers see their results, as a reviewer reads
    the linter's output before the code.
    """
    target = subject.target
    ran: list[tuple[str, str, Verdict]] = []
    fired: Mapping[str, int] = {}
    if subject.checks:
        config = factory.kit.config.checks
        lesson_checks = LessonChecks(
            subject.checks, workers=config.workers, command_timeout=config.command_timeout
        )
        report = await lesson_checks.report(target)
        ran.append((lesson_checks.source, "lesson checks", report.verdict(lesson_checks.source)))
        fired = {lesson: count for lesson, count in report.counts.items() if count}
    for check in project_checks(factory):
        ran.append((check.label, check.command, await check.run(target)))
    diff = await subject.worktree.diff(target.base, target.head, cap=factory.kit.config.verify.max_diff_chars)
    evidence = Evidence(
        ask=subject.plan.ask,
        plan_text=subject.plan_text,
        diff=diff.text,
        diff_truncated=diff.truncated,
        commands=[
            CommandReport(name=name, command=command, passed=verdict.passed, summary=verdict.summary)
            for name, command, verdict in ran
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
    verdicts = (*(verdict for _, _, verdict in ran), *role_verdicts)
    for verdict in verdicts:
        factory.sink(VerdictReached(run_id=subject.run_id, attempt=subject.attempt, verdict=verdict))
    return Verification(verdict=decide(verdicts), fired=fired)
