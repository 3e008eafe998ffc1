"""The step-kind seam: what a step of one kind does in its worktree, and what it hands back.

The workflow runner owns everything around a step (its worktree, the lock on the shared one, the
commit, the ledger); a kind only does its work. A new kind is one module and one registry line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aifactory.errors import FactoryError
from aifactory.service.project import Session
from aifactory.workspace.git import Git


class StepFailed(FactoryError):
    """A workflow step did not do its work; the reason is recorded and its dependents are skipped."""


@dataclass(frozen=True)
class StepJob:
    """One step instance, its templates already rendered with the workflow's values."""

    session: Session
    run_id: str
    key: str
    description: str
    rendered: dict[str, Any]
    """The step's fields after rendering: `command`, `prompt`, `ask`, `files`, `context`, `inputs`."""
    role: str
    agent: str
    timeout: float
    attempts: int
    worktree: Git
    log_path: Path


@dataclass(frozen=True)
class StepResult:
    outputs: dict[str, Any] = field(default_factory=dict)


class StepKind(Protocol):
    writes: bool
    """Whether it changes files: the runner commits what it leaves and, in the shared worktree, gives
    it the worktree to itself while it works."""

    async def run(self, job: StepJob) -> StepResult: ...
