"""One small agent on one worktree: its inputs gathered, its conversation, its checks, its own commit.

The agent's change becomes one commit (`agent: NAME` with `Factory-*` trailers) only if the project
commands its header lists still pass and it left git alone; otherwise the worktree is reset to before
it and the reason recorded, so an agent can tidy code but never leave a branch broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from aifactory.blueprint.agentfile import AgentDefinition, AgentOutput, AgentShelf
from aifactory.checks.base import CheckTarget
from aifactory.checks.candidates import find_candidates
from aifactory.checks.command import CommandCheck
from aifactory.domain import stepcommit
from aifactory.domain.events import SmallAgentRan
from aifactory.domain.run import Role
from aifactory.domain.usage import Usage
from aifactory.engine import guard
from aifactory.engine.context import Factory
from aifactory.errors import ConfigError, UserError
from aifactory.providers.calls import CallScope
from aifactory.roles.kit import RoleKit
from aifactory.roles.small_agent import AgentBrief, AgentReport, run_small_agent
from aifactory.workspace.git import Git

STYLE_FILE = "style.md"


class AgentResult(BaseModel):
    """What a small agent's run left: its commit, or why its change was dropped, and its report."""

    model_config = ConfigDict(frozen=True)

    agent: str
    branch: str
    commit: str | None = None
    """The agent's commit; None when it changed nothing or its change was dropped."""
    dropped: str | None = None
    summary: str = ""
    report: tuple[str, ...] = ()
    usage: Usage = Usage()


@dataclass(frozen=True)
class AgentJob:
    """An agent to run in `worktree` (on `branch`), over `files`; `base` is the change's base commit
    (None when it runs on files as they are), `inputs` what its caller gives beyond the factory's."""

    definition: AgentDefinition
    worktree: Git
    branch: str
    files: tuple[str, ...]
    base: str | None
    run_id: str
    attempt: str | None = None
    inputs: Mapping[str, str] | None = None


async def run_agent_job(factory: Factory, job: AgentJob) -> AgentResult:
    """Run the agent, check its change, and commit it or drop it; emits `SmallAgentRan`."""
    name = job.definition.name
    before = await guard.mark(job.worktree, factory.git)
    report = await run_small_agent(
        factory.kit,
        AgentBrief(
            definition=job.definition,
            worktree=job.worktree.path,
            context=await _context(factory, job),
            env=factory.command_env,
        ),
        CallScope(role=Role.EXECUTOR, run_id=job.run_id, attempt=job.attempt),
    )
    lines = _report_lines(report)
    dropped = await guard.breach(before, job.worktree, factory.git)
    changed = dropped is None and bool(await job.worktree.dirty_paths())
    if changed and job.definition.spec.output is AgentOutput.REPORT:
        dropped = 'its output is "report", yet it changed files; the changes were discarded'
    elif changed:
        dropped = await _failed_check(factory, job, before.head)
    commit: str | None = None
    if dropped is not None:
        await job.worktree.restore(before.head)
    elif changed:
        commit = await job.worktree.commit_all(_message(job, report, lines), allow_empty=False)
    result = AgentResult(
        agent=name,
        branch=job.branch,
        commit=commit,
        dropped=dropped,
        summary=report.summary,
        report=lines,
    )
    factory.sink(
        SmallAgentRan(
            run_id=job.run_id,
            attempt=job.attempt,
            agent=name,
            branch=job.branch,
            commit=result.commit,
            dropped=result.dropped,
            summary=result.summary,
            report=result.report,
        )
    )
    return result


async def _context(factory: Factory, job: AgentJob) -> dict[str, Any]:
    """The prompt's variables: the factory's inputs, then the caller's; a missing one is named."""
    spec = job.definition.spec
    config = factory.kit.config
    diff = ""
    if job.base is not None:
        head = await job.worktree.require_head()
        diff = (await job.worktree.diff(job.base, head, cap=config.verify.max_diff_chars)).text
    style_path = factory.kit.blueprint.root / STYLE_FILE
    if "style" in spec.inputs and not style_path.is_file():
        raise UserError(
            f"agent {job.definition.name} applies {style_path}, which is missing: write the team's "
            "style rules there (`factory init` ships a starter)"
        )
    inputs = dict(job.inputs or {})
    context: dict[str, Any] = {
        "files": list(job.files),
        "diff": diff,
        "style": style_path.read_text(encoding="utf-8") if style_path.is_file() else "",
        "replacements": _replacements(factory, job) if "replacements" in spec.inputs else [],
        "test_command": config.commands.test,
        "inputs": inputs,
    }
    for name in spec.inputs:
        if name not in context and name not in inputs:
            raise UserError(
                f"agent {job.definition.name} takes input {name!r} ({job.definition.path}): "
                f"give it, e.g. `factory agent run {job.definition.name} --input {name}=VALUE`"
            )
    return {**inputs, **context}


def _replacements(factory: Factory, job: AgentJob) -> list[dict[str, Any]]:
    entries = factory.kit.config.librarian.replacements
    if not entries:
        raise UserError(
            f"agent {job.definition.name} replaces what [[librarian.replacements]] lists, and "
            ".factory/config.toml lists nothing: add an entry (description, use, optionally language "
            "and an ast-grep rule)"
        )
    root = job.worktree.path
    return [
        {
            "description": entry.description,
            "use": entry.use,
            "candidates": []
            if entry.rule is None
            else find_candidates(root, job.files, entry.language, entry.rule, entry=number),
        }
        for number, entry in enumerate(entries, start=1)
    ]


async def _failed_check(factory: Factory, job: AgentJob, before: str) -> str | None:
    """Why the change must go: the first of the agent's checks that fails on it, or None."""
    commands = factory.kit.config.commands
    configured = {"test": commands.test, "lint": commands.lint}
    log_dir = factory.logs / job.run_id / (job.attempt or "") / f"agent-{job.definition.name}"
    target = CheckTarget(
        worktree=Path(job.worktree.path), base=before, head=before, log_dir=log_dir, env=factory.command_env
    )
    for label in job.definition.spec.checks:
        command = configured[label]
        if not command.strip():
            continue
        check = CommandCheck(
            label=label, command=command, timeout=commands.timeout, output_cap=commands.output_cap
        )
        verdict = await check.run(target)
        if not verdict.passed:
            return f"{verdict.summary} after the agent's change (log: {log_dir / label}.log)"
    return None


def _report_lines(report: AgentReport) -> tuple[str, ...]:
    replaced = (f"{r.file}:{r.line}: {r.before} → {r.after}" for r in report.replacements)
    return (*(note.strip() for note in report.notes if note.strip()), *replaced)


def _message(job: AgentJob, report: AgentReport, lines: tuple[str, ...]) -> str:
    """`agent: NAME`, the summary and report, then trailers naming the run, the attempt and the agent."""
    body = "\n".join(f"- {line}" for line in lines)
    trailers = stepcommit.agent_trailers(job.definition.name, job.run_id, job.attempt)
    parts = [f"agent: {job.definition.name}", report.summary.strip(), body, trailers]
    return "\n\n".join(part for part in parts if part)


async def after_execution(
    factory: Factory,
    worktree: Git,
    *,
    branch: str,
    base: str,
    run_id: str,
    attempt: str,
    ran: frozenset[str] = frozenset(),
) -> list[AgentResult]:
    """The agents of `[small_agents] after_execution`, in order, over the files the attempt changed;
    those in `ran` (a resumed attempt's, already run) are not run again."""
    names = factory.kit.config.small_agents.after_execution
    shelf = AgentShelf(factory.kit.blueprint.root)
    results = []
    for name in names:
        if name in ran:
            continue
        head = await worktree.require_head()
        changed = await worktree.numstat(base, head)
        files = tuple(stat.path for stat in changed if (worktree.path / stat.path).is_file())
        job = AgentJob(
            definition=shelf.load(name),
            worktree=worktree,
            branch=branch,
            files=files,
            base=base,
            run_id=run_id,
            attempt=attempt,
        )
        results.append(await run_agent_job(factory, job))
    return results


def check_enabled(kit: RoleKit) -> None:
    """Every agent `[small_agents] after_execution` names is a readable agent file, checked before a run
    starts so a misspelt name stops it at once rather than failing every attempt after its steps."""
    shelf = AgentShelf(kit.blueprint.root)
    known = shelf.names()
    for name in kit.config.small_agents.after_execution:
        if name not in known:
            raise ConfigError(
                f"[small_agents] after_execution names {name!r}, which is no agent of {shelf.root} "
                f"(known: {', '.join(known) or 'none'}): fix the name in .factory/config.toml, or add "
                f"the agent file {shelf.root / name}.md"
            )
        shelf.load(name)
