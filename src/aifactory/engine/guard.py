"""What a step's agent may not do: commit or move its branch, or change the repository it came from.

The factory makes each step's commit, so a branch holds the same history whichever agent worked
on it; a step whose agent committed, reset or switched branches is rejected, and when the branch
itself moved it is put back at the step's starting commit (the dropped commit is named, for
`git reflog`). An external agent runs with the user's rights, so the factory also looks at the main
repository's tracked files and HEAD before and after the step: a change there is reported as
writing outside the worktree.

Limits, honestly: this notices writes to the main repository's tracked files (by path, size and
modification time) and branch moves, not writes elsewhere on the machine (home directory, other
worktrees, untracked files). It is a tripwire, not a sandbox: `[run] sandbox` (bubblewrap,
`workspace/sandbox.py`) prevents such writes, and the guard stays for when it is off or unavailable.
It cannot tell an agent from a person either: editing or committing in the main repository while a
step runs fails that step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aifactory.workspace.git import Git

_FACTORY_WRITES = (".factory/", "plans/")
"""The factory (or a concurrent run) writes lessons and plans in the main repository itself."""


@dataclass(frozen=True)
class Mark:
    """The state a step must leave alone, taken before the agent runs."""

    head: str
    branch: str | None
    repo_head: str | None
    repo_files: tuple[tuple[str, int, int], ...]


async def mark(worktree: Git, repo: Git) -> Mark:
    """Where the worktree's branch stands and what the main repository's tracked files look like."""
    return Mark(
        head=await worktree.require_head(),
        branch=await worktree.current_branch(),
        repo_head=await repo.head(),
        repo_files=await _fingerprint(repo),
    )


async def breach(before: Mark, worktree: Git, repo: Git) -> str | None:
    """Why the step must be rejected, or None; puts a moved branch back at the step's start."""
    branch = await worktree.current_branch()
    head = await worktree.require_head()
    if branch != before.branch:
        return (
            f"the agent switched the worktree from branch {before.branch} to {branch}; "
            "the factory makes each step's commit on the attempt's branch"
        )
    if head != before.head:
        await worktree.restore(before.head)
        return (
            f"the agent moved the branch from {before.head[:10]} to {head[:10]} (it committed or rewrote "
            "history); the factory makes each step's commit itself, so the branch was put back and "
            f"the agent's commit dropped (still in `git reflog`: {head[:10]})"
        )
    if await repo.head() != before.repo_head:
        return f"the main repository's HEAD moved during the step ({repo.path}): the agent left its worktree"
    changed = sorted({entry[0] for entry in set(await _fingerprint(repo)) ^ set(before.repo_files)})
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        return (
            f"tracked files of the main repository changed during the step ({shown} in {repo.path}): "
            "the agent wrote outside its worktree (or someone edited the repository meanwhile)"
        )
    return None


async def _fingerprint(repo: Git) -> tuple[tuple[str, int, int], ...]:
    """Each modified tracked file with its size and modification time: a later write changes one of them."""
    paths = [p for p in await repo.dirty_paths(untracked=False) if not p.startswith(_FACTORY_WRITES)]
    return tuple((path, *_stat(repo.path / path)) for path in paths)


def _stat(path: Path) -> tuple[int, int]:
    try:
        status = path.stat()
    except FileNotFoundError:
        return (-1, -1)
    return (status.st_size, status.st_mtime_ns)
