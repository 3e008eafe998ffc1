"""The check seam: something deterministic that looks at an attempt and returns a verdict.

The project's own commands are checks now; lessons will bring ast-grep, regex and command checks
behind the same protocol, each one module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aifactory.domain.verdict import Verdict


@dataclass(frozen=True)
class CheckTarget:
    """An attempt as a check sees it: its worktree, the commit range it changed, where to log."""

    worktree: Path
    base: str
    head: str
    log_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)


class Check(Protocol):
    @property
    def source(self) -> str:
        """The name its verdicts and findings carry, e.g. `command:test`."""
        ...

    async def run(self, target: CheckTarget) -> Verdict: ...
