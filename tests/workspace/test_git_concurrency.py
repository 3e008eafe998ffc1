"""Many attempts on one repository at once: worktree bookkeeping is serialized, commits are not.

Git 2.39 readers such as `git worktree list` fail with "failed to read .git/worktrees/<name>/commondir"
when they race with `git worktree add`; these tests hold the wrapper to not letting that happen,
within one process and between processes.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import aifactory
from aifactory.workspace.git import Git
from aifactory.workspace.lock import RepoLock
from tests.support import git

ATTEMPTS = 12
STEPS = 5

# Another `factory run`: says "ready", waits for "go", then adds worktrees, listing them in between.
_OTHER_PROCESS = """
import asyncio, sys
from pathlib import Path
from aifactory.workspace.git import Git

async def main(repo_path: str, root: str, prefix: str, count: int) -> None:
    repo = Git(Path(repo_path))
    await repo.common_dir()
    print("ready", flush=True)
    sys.stdin.readline()

    async def add(n: int) -> None:
        await repo.add_worktree(Path(root) / f"{prefix}{n}", f"{prefix}{n}", "HEAD")
        await repo.dirty_paths()

    await asyncio.gather(*(add(n) for n in range(count)))

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


async def _other_processes(
    repo: Path, root: Path, prefixes: Sequence[str], count: int
) -> list[asyncio.subprocess.Process]:
    """Start one process per prefix, wait until all are ready, then let them go at once."""
    env = {**os.environ, "PYTHONPATH": str(Path(aifactory.__file__).parents[1])}
    children = [
        await asyncio.create_subprocess_exec(
            *(sys.executable, "-c", _OTHER_PROCESS, str(repo), str(root), prefix, str(count)),
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for prefix in prefixes
    ]
    for child in children:
        assert child.stdout is not None
        assert await child.stdout.readline() == b"ready\n"
    for child in children:
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        await child.stdin.drain()
    return children


async def test_a_dozen_attempts_add_worktrees_and_commit_at_once_while_others_read(
    git_repo: Path, tmp_path: Path
) -> None:
    repo = await Git.discover(git_repo)
    base = await repo.require_head()
    done = asyncio.Event()

    async def attempt(n: int) -> None:
        worktree = await repo.add_worktree(tmp_path / "wt" / f"a{n}", f"factory/run/a{n}", base)
        for step in range(STEPS):
            step_file = worktree.path / f"step{step}.txt"
            await asyncio.to_thread(step_file.write_text, f"attempt {n} step {step}\n")
            await worktree.commit_all(f"a{n} step {step}")

    async def reader() -> int:
        reads = 0
        while not done.is_set():
            await repo.dirty_paths()
            await repo.branch_exists(f"factory/run/a{reads % ATTEMPTS}")
            reads += 1
        return reads

    readers = [asyncio.create_task(reader()) for _ in range(3)]
    try:
        await asyncio.gather(*(attempt(n) for n in range(ATTEMPTS)))
    finally:
        done.set()
    assert all(reads > 0 for reads in await asyncio.gather(*readers))

    for n in range(ATTEMPTS):
        assert git(git_repo, "rev-list", "--count", f"{base}..factory/run/a{n}") == f"{STEPS}\n"
    assert git(git_repo, "worktree", "list", "--porcelain").count("\nbranch ") == ATTEMPTS + 1


async def test_a_second_process_waits_for_the_repository_lock(git_repo: Path, tmp_path: Path) -> None:
    repo = Git(git_repo)
    async with RepoLock(await repo.common_dir()).hold():
        [child] = await _other_processes(git_repo, tmp_path / "wt", ["b"], 1)
        await asyncio.sleep(0.5)
        assert child.returncode is None
        assert not (tmp_path / "wt" / "b0").exists()
    assert await child.wait() == 0
    assert await repo.branch_exists("b0")


async def test_processes_adding_worktrees_to_one_repository_at_once_all_succeed(
    git_repo: Path, tmp_path: Path
) -> None:
    prefixes = ("x", "y", "z")
    children = await _other_processes(git_repo, tmp_path / "wt", prefixes, 12)
    assert [await child.wait() for child in children] == [0, 0, 0]
    listed = git(git_repo, "worktree", "list", "--porcelain")
    branches = sorted(
        line.removeprefix("branch refs/heads/") for line in listed.splitlines() if line.startswith("branch ")
    )
    assert branches == sorted(["main", *(f"{prefix}{n}" for prefix in prefixes for n in range(12))])
