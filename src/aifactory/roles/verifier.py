"""The two verifiers: code against the plan, and code against the plan and the original ask."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_ai import ToolOutput

from aifactory.domain.run import Role
from aifactory.domain.verdict import Finding, Verdict
from aifactory.providers.calls import CallScope
from aifactory.roles.consult import consult
from aifactory.roles.executor import DoneStep
from aifactory.roles.kit import RoleKit


class VerifierReport(BaseModel):
    verdict: Literal["pass", "reject"] = Field(description="pass only when no finding has severity error")
    summary: str = Field(description="one paragraph: what the change does and how it measures up")
    findings: list[Finding] = Field(default_factory=list)


_OUTPUT_NAMES = {Role.PLAN_VERIFIER: "submit_plan_verdict", Role.ASK_VERIFIER: "submit_ask_verdict"}
VERIFIERS = tuple(_OUTPUT_NAMES)


@dataclass(frozen=True)
class CommandReport:
    """A project command's result as the verifiers' prompts show it."""

    name: str
    command: str
    passed: bool
    summary: str


@dataclass(frozen=True)
class Evidence:
    """What the verifiers look at: the plan, the change, and how the project's own checks went."""

    ask: str
    plan_text: str
    diff: str
    diff_truncated: bool
    commands: Sequence[CommandReport]
    steps: Sequence[DoneStep]


async def verify(
    kit: RoleKit, role: Role, evidence: Evidence, *, worktree: Path, scope: CallScope
) -> Verdict:
    """Ask one verifier role for its verdict on the attempt in `worktree`."""
    prompt = kit.blueprint.prompt(
        role,
        ask=evidence.ask,
        plan_text=evidence.plan_text,
        diff=evidence.diff,
        diff_truncated=evidence.diff_truncated,
        commands=evidence.commands,
        steps=evidence.steps,
    )
    output = ToolOutput(
        VerifierReport, name=_OUTPUT_NAMES[role], description="Submit your verdict and findings."
    )
    report = await consult(
        kit, role, prompt, output, root=worktree, scope=scope, max_turns=kit.config.verify.max_turns
    )
    return Verdict(
        source=role.value,
        passed=report.verdict == "pass",
        summary=report.summary,
        findings=tuple(report.findings),
    )
