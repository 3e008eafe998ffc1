"""The one git wrapper: typed async calls on a repository or one of its worktrees.

Every call runs `git -C <path> ...` through one runner with a fixed locale, no terminal prompts
and no repository-selecting variables inherited from a parent git (a factory started from a git
hook must not act on the hook's repository). Failures become `GitError` carrying the command,
git's own words and what to do. Operations that change worktree or branch bookkeeping hold the
repository's `RepoLock`, so callers cannot forget it; commits inside a worktree do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
from collections.abc import AsyncIterator, Container, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aifactory.errors import GitError, NotARepositoryError
from aifactory.workspace.gitdata import (
    Commit,
    Diff,
    FileStat,
    MergeCheck,
    cut_diff,
    parse_log,
    parse_merge_tree,
    parse_numstat,
    split_z,
)
from aifactory.workspace.gitenv import git_env, identity_env
from aifactory.workspace.lock import RepoLock
from aifactory.workspace.process import GroupExit, OutputSink, Stream, open_stream, run_in_group

DEFAULT_AUTHOR = "aifactory <aifactory@localhost>"

_RUN_IT_YOURSELF = "Run the same command in that directory to see the full picture."


@dataclass(frozen=True, slots=True)
class _Completed:
    code: int
    stdout: str
    stderr: str


class Git:
    """Git calls bound to one working tree (the main one or a linked worktree)."""

    def __init__(self, path: Path, *, common_dir: Path | None = None) -> None:
        self.path = path
        self._common_dir = common_dir

    def __repr__(self) -> str:
        return f"Git({str(self.path)!r})"

    @classmethod
    async def discover(cls, path: Path) -> Git:
        """The repository or worktree containing `path`, bound to its top-level directory."""
        result = await cls(path)._exec("rev-parse", "--show-toplevel")
        if result.code != 0:
            raise NotARepositoryError(
                f"{path} is not inside a git repository: run `git init` or pass --repo "
                f"(git said: {result.stderr.strip()})"
            )
        return cls(Path(result.stdout.strip()))

    @classmethod
    async def init(cls, path: Path) -> Git:
        """A new repository at `path` whose first branch is main."""
        path.mkdir(parents=True, exist_ok=True)
        await cls(path)._run("init", "--quiet", "--initial-branch=main")
        return cls(path)

    async def head(self) -> str | None:
        """The commit HEAD points at, or None while the current branch has no commit yet."""
        result = await self._run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1))
        return result.stdout.strip() or None

    async def require_head(self) -> str:
        """HEAD's commit; the factory branches from it, so a repository without one is refused."""
        head = await self.head()
        if head is None:
            raise NotARepositoryError(
                f"{self.path} has no commits yet: commit something first, "
                "e.g. `git commit --allow-empty -m init`"
            )
        return head

    async def current_branch(self) -> str | None:
        """The checked-out branch's short name, or None when HEAD is detached."""
        result = await self._run("symbolic-ref", "--quiet", "--short", "HEAD", ok=(0, 1))
        return result.stdout.strip() or None

    async def dirty_paths(self, *, untracked: bool = True) -> list[str]:
        """Staged, unstaged and (unless told not to) untracked paths, relative to the top."""
        which = "--untracked-files=all" if untracked else "--untracked-files=no"
        result = await self._run("status", "--porcelain=v1", "-z", which, "--no-renames")
        return sorted({entry[3:] for entry in split_z(result.stdout)})

    async def tracked_paths(self) -> list[str]:
        """Every tracked path at HEAD's index, relative to the top."""
        result = await self._run("ls-files", "-z")
        return list(split_z(result.stdout))

    async def common_dir(self) -> Path:
        """The git directory shared by the repository and all of its worktrees."""
        if self._common_dir is None:
            result = await self._run("rev-parse", "--path-format=absolute", "--git-common-dir")
            self._common_dir = Path(result.stdout.strip())
        return self._common_dir

    # -- worktrees and branches: shared bookkeeping, always under the repository lock --

    async def add_worktree(self, path: Path, branch: str, base: str | None = None) -> Git:
        """Check `branch` out in a new worktree at `path` (absolute): created at `base`, or as it is.

        Checking an existing branch out again first forgets worktrees whose folder was deleted, as
        git would otherwise refuse the branch as checked out there.
        """
        _require_absolute(path)
        create = (str(path), branch) if base is None else ("--no-track", "-b", branch, str(path), base)
        async with self._bookkeeping():
            if base is None:
                await self._run("worktree", "prune")
            # Additions are serialized, so each one may use every core to write its files.
            await self._run(
                *("-c", "checkout.workers=0", "worktree", "add", "--quiet", *create),
                fix=f"If {path} or branch {branch} is left over from an earlier run, remove them "
                "(`git worktree remove --force PATH`, `git branch -D BRANCH`) or use a new run id.",
            )
        return Git(path, common_dir=self._common_dir)

    async def add_detached_worktree(self, path: Path, commit: str) -> Git:
        """Check out `commit` on no branch in a new worktree at `path` (absolute): a throwaway checkout."""
        _require_absolute(path)
        async with self._bookkeeping():
            await self._run(
                *("-c", "checkout.workers=0", "worktree", "add", "--quiet", "--detach", str(path), commit)
            )
        return Git(path, common_dir=self._common_dir)

    async def remove_worktree(self, path: Path, *, force: bool = True) -> None:
        """Remove the worktree at `path` (absolute); if its directory is gone, forget it (prune)."""
        _require_absolute(path)
        async with self._bookkeeping():
            if not await asyncio.to_thread(path.exists):
                await self._run("worktree", "prune")
                return
            await self._run("worktree", "remove", *(["--force"] if force else []), str(path))

    async def delete_branch(self, name: str, *, force: bool = False) -> None:
        """Delete a local branch; without `force`, git refuses if it is not merged."""
        async with self._bookkeeping():
            await self._run(
                "branch",
                "-D" if force else "-d",
                name,
                fix="A branch checked out in a worktree cannot be deleted: remove the worktree first.",
            )

    async def branch_exists(self, name: str) -> bool:
        """Whether a local branch of that name exists (reads one ref, so it needs no lock)."""
        result = await self._run("rev-parse", "--verify", "--quiet", f"refs/heads/{name}", ok=(0, 1))
        return result.code == 0

    # -- inside a worktree: only this worktree's index and branch are touched --

    async def commit_all(
        self, message: str, *, author: str = DEFAULT_AUTHOR, allow_empty: bool = True
    ) -> str:
        """Stage everything (deletions too) and commit as `author`; return the new HEAD.

        Author and committer come from the environment, so no git identity needs configuring.
        Hooks, signing and auto-maintenance are off: these are checkpoints, checked elsewhere,
        and dozens of concurrent auto-gcs would race with worktree bookkeeping. With
        `allow_empty=False` and nothing to commit, no commit is made and HEAD is returned.
        """
        await self._run("add", "--all")
        if not allow_empty:
            staged = await self._run("diff", "--cached", "--quiet", ok=(0, 1))
            if staged.code == 0:
                return await self.require_head()
        await self._run(
            *("-c", "commit.gpgsign=false", "-c", "maintenance.auto=false"),
            *("commit", "--quiet", "--no-verify", "--allow-empty", "-m", message),
            env=identity_env(author),
        )
        return await self.require_head()

    async def restore(self, commit: str = "HEAD") -> None:
        """Put the worktree and its branch back at `commit`, dropping changes and untracked files
        (ignored ones kept)."""
        await self._run("reset", "--quiet", "--hard", commit)
        await self._run("clean", "--quiet", "--force", "-d")

    async def discard_changes(self) -> None:
        """Drop everything uncommitted, and the index lock a killed git left behind: call this only
        on a worktree nobody uses."""
        lock = await self._run("rev-parse", "--path-format=absolute", "--git-path", "index.lock")
        await asyncio.to_thread(Path(lock.stdout.strip()).unlink, missing_ok=True)
        await self.restore()

    async def log(self, base: str, head: str) -> list[Commit]:
        """The commits on `head` that `base` lacks, oldest first."""
        result = await self._run("log", "-z", "--reverse", "--format=%H %ct%n%B", f"{base}..{head}")
        return parse_log(result.stdout)

    # -- diffs and merges --

    async def diff(self, base: str, head: str, *, cap: int) -> Diff:
        """The patch of `head` since it forked from `base`, at most `cap` bytes.

        The patch is taken as git writes it and git is killed once the cap is passed, so a
        generated file of a gigabyte costs no more than `cap`.
        """
        args = (
            *("diff", "--no-color", "--no-ext-diff", "--no-textconv"),
            *("--src-prefix=a/", "--dst-prefix=b/", f"{base}...{head}"),
        )
        patch, errors = bytearray(), bytearray()

        def take(chunk: bytes) -> bool:
            # One byte past the cap is how we know the patch was cut.
            patch.extend(chunk[: cap + 1 - len(patch)])
            return len(patch) <= cap

        ended = await self._spawn(args, output=take, errors=_collect(errors))
        if ended.stopped:
            return Diff(text=cut_diff(bytes(patch), cap), truncated=True)
        _check(self.path, _completed(ended, b"", errors), args, (0,), _RUN_IT_YOURSELF)
        return Diff(text=patch.decode(errors="replace"), truncated=False)

    async def numstat(self, base: str, head: str) -> list[FileStat]:
        """Lines added and removed per file on `head` since it forked from `base`."""
        result = await self._run("diff", "--numstat", "-z", "--no-renames", f"{base}...{head}")
        return parse_numstat(result.stdout)

    async def merge_base(self, first: str, second: str) -> str:
        """The commit a three-dot diff `first...second` starts from."""
        result = await self._run(
            "merge-base",
            first,
            second,
            fix=f"`{first}` and `{second}` must be commits with a common history.",
        )
        return result.stdout.strip()

    @contextlib.asynccontextmanager
    async def stream(self, *args: str, stdin: bool = False) -> AsyncIterator[Stream]:
        """Run a read-only git command whose output is too big to hold, read at the caller's pace.

        Leaving the block after reading `stdout` to its end checks git's exit status (a failure is a
        `GitError` naming the command); leaving it earlier stops git.
        """
        argv = ["git", "-C", str(self.path), *args]
        async with contextlib.AsyncExitStack() as stack:
            try:
                stream = await stack.enter_async_context(
                    open_stream(argv, cwd=None, env=git_env(None), stdin=stdin)
                )
            except FileNotFoundError as error:
                raise GitError("git was not found on PATH: install git 2.38 or newer") from error
            yield stream
            if stream.stdout.at_eof():
                code, stderr = await stream.finish()
                _check(self.path, _Completed(code, "", stderr), args, (0,), _RUN_IT_YOURSELF)

    async def merge_check(self, into: str, branch: str) -> MergeCheck:
        """Would merging `branch` into `into` conflict? Touches neither working tree nor index."""
        args = ("merge-tree", "--write-tree", "--name-only", "-z", into, branch)
        result = await self._exec(*args)
        # Exit 1 means conflicts, but git also exits 1 for a name it cannot resolve: then it
        # prints no tree.
        if result.code not in (0, 1) or not result.stdout:
            raise _failure(
                self.path,
                result,
                args,
                "Check that both names exist; `git merge-tree --write-tree` needs git 2.38 or newer.",
            )
        return parse_merge_tree(result.stdout, clean=result.code == 0)

    async def merge(self, branch: str, message: str, *, author: str = DEFAULT_AUTHOR) -> str:
        """Merge `branch` into the checked-out branch with a merge commit; return its sha.

        A conflicting merge is aborted, so the working tree is left as it was.
        """
        args = ("merge", "--no-ff", "--no-edit", "-m", message, branch)
        result = await self._exec(*args, env=identity_env(author))
        if result.code == 0:
            return await self.require_head()
        unmerged = await self._run("diff", "--name-only", "-z", "--diff-filter=U")
        conflicts = split_z(unmerged.stdout)
        if not conflicts:
            raise _failure(self.path, result, args, _RUN_IT_YOURSELF)
        await self._run("merge", "--abort")
        raise _failure(
            self.path,
            result,
            args,
            f"The merge was aborted; conflicts in: {', '.join(conflicts)}. "
            f"Merge it yourself (`git merge {branch}`) and resolve them.",
        )

    # -- the runner --

    @contextlib.asynccontextmanager
    async def _bookkeeping(self) -> AsyncIterator[None]:
        async with RepoLock(await self.common_dir()).hold():
            yield

    async def _run(
        self,
        *args: str,
        ok: Container[int] = (0,),
        env: Mapping[str, str] | None = None,
        fix: str = _RUN_IT_YOURSELF,
    ) -> _Completed:
        result = await self._exec(*args, env=env)
        _check(self.path, result, args, ok, fix)
        return result

    async def _exec(self, *args: str, env: Mapping[str, str] | None = None) -> _Completed:
        stdout, stderr = bytearray(), bytearray()
        ended = await self._spawn(args, output=_collect(stdout), errors=_collect(stderr), env=env)
        return _completed(ended, stdout, stderr)

    async def _spawn(
        self,
        args: Sequence[str],
        *,
        output: OutputSink,
        errors: OutputSink,
        env: Mapping[str, str] | None = None,
    ) -> GroupExit:
        argv = ["git", "-C", str(self.path), *args]
        try:
            return await run_in_group(argv, cwd=None, env=git_env(env), output=output, errors=errors)
        except FileNotFoundError as error:
            raise GitError("git was not found on PATH: install git 2.38 or newer") from error


def _require_absolute(path: Path) -> None:
    # git would read a relative path against the repository, Python against the process's cwd.
    if not path.is_absolute():
        raise ValueError(f"worktree paths must be absolute, got {path}")


def _check(path: Path, result: _Completed, args: Sequence[str], ok: Container[int], fix: str) -> None:
    if result.code not in ok:
        raise _failure(path, result, args, fix)


def _failure(path: Path, result: _Completed, args: Sequence[str], fix: str) -> GitError:
    said = result.stderr.strip() or "(no message)"
    return GitError(f"`{shlex.join(['git', *args])}` failed in {path} (exit {result.code}): {said}\n{fix}")


def _collect(buffer: bytearray) -> OutputSink:
    def take(chunk: bytes) -> bool:
        buffer.extend(chunk)
        return True

    return take


def _completed(ended: GroupExit, stdout: bytes | bytearray, stderr: bytes | bytearray) -> _Completed:
    return _Completed(
        code=ended.exit_code,
        stdout=stdout.decode(errors="surrogateescape"),
        stderr=stderr.decode(errors="replace"),
    )
