"""Locks that serialize read-modify-write work across the tasks of one process and across processes.

Git 2.39 is not safe against itself: while `git worktree add` is writing
`.git/worktrees/<name>/`, a concurrent `git worktree list`, `git branch -f` or another
`worktree add` in the same repository can fail with "failed to read .git/worktrees/<name>/commondir".
So worktree and branch bookkeeping is serialized per repository (`RepoLock`), and so are changes to
lesson files (two runs strengthening one lesson must not lose each other's sightings). A `FileLock`
is an asyncio.Lock among the tasks of one process plus `flock` on a lock file among processes. The
asyncio.Lock comes first so a process has at most one waiter on the file lock.
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


class FileLock:
    """Mutual exclusion on one lock-file path, across tasks and processes: `async with lock.hold(): ...`.

    The file is created if missing and never written; its folder must exist. Not re-entrant.
    """

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()

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
        return locks.setdefault(self.path, asyncio.Lock())


class RepoLock(FileLock):
    """Serializes metadata-changing git operations on one repository.

    Bound to the repository's git common dir, which all of its worktrees share.
    """

    def __init__(self, common_dir: Path) -> None:
        super().__init__(common_dir / LOCK_FILE_NAME)


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
