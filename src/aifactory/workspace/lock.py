"""One lock per repository for git operations that change shared metadata.

Git 2.39 is not safe against itself here: while `git worktree add` is writing
`.git/worktrees/<name>/`, a concurrent `git worktree list`, `git branch -f` or another
`worktree add` in the same repository can fail with "failed to read .git/worktrees/<name>/commondir".
So worktree and branch bookkeeping is serialized per repository: by an asyncio.Lock among the
tasks of one process, and by `flock` on a file in the git common dir among processes (two
`factory run`s at once). The asyncio.Lock comes first so a process has at most one waiter on the
file lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

LOCK_FILE_NAME = "aifactory.lock"
_POLL_S = 0.02

# asyncio.Lock binds to the loop that first waits on it, so locks are kept per event loop.
_task_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Path, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


class RepoLock:
    """Serializes metadata-changing git operations on one repository, across tasks and processes.

    Bind it to the repository's git common dir (shared by all of its worktrees), then
    `async with lock.hold(): ...`. Not re-entrant.
    """

    def __init__(self, common_dir: Path) -> None:
        self.common_dir = common_dir.resolve()
        self.path = self.common_dir / LOCK_FILE_NAME

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        async with self._task_lock():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                await _flock(fd)
                yield
            finally:
                os.close(fd)

    def _task_lock(self) -> asyncio.Lock:
        locks = _task_locks.setdefault(asyncio.get_running_loop(), {})
        return locks.setdefault(self.common_dir, asyncio.Lock())


async def _flock(fd: int) -> None:
    """Take the file lock without blocking the event loop or a thread.

    Polling keeps cancellation trivial: a thread blocked in flock() would go on to take the lock
    after its caller was cancelled and hold it with nobody left to release it.
    """
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            await asyncio.sleep(_POLL_S)
        else:
            return
