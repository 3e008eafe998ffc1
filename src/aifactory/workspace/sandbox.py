"""Confining what a step's commands and agents may write: the worktree, their own state, a temp dir.

The built-in executor's `run_command` and the external agent CLIs run with the user's rights, and
the guard only notices some writes outside the worktree after the fact. Under bubblewrap (`bwrap`)
the child sees the whole filesystem read-only except the paths named writable: the attempt's
worktree, its git metadata (`.git/worktrees/NAME`, where `git status` refreshes the index, and
the object store, which `git add` writes; the refs stay read-only, so an agent's `git commit` on
its branch fails), a temp dir of its own
that TMPDIR names, and the state an agent CLI keeps (`~/.claude`, `$CODEX_HOME`). /tmp itself stays
readable but not writable, rather than a private tmpfs, since a repository, a home directory or a
tool may live there. The network stays open: agents call their models. There is no new session
(`--new-session`): the child stays in the process group that `process.py` kills on a timeout or
Ctrl-C, and `--die-with-parent` takes it down with bwrap.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from aifactory.config.model import SandboxMode
from aifactory.errors import ConfigError
from aifactory.workspace.process import Stream, open_stream

INSTALL = (
    "install bubblewrap (`apt-get install bubblewrap`, `dnf install bubblewrap`, `pacman -S bubblewrap`)"
)
UNSANDBOXED = (
    "bubblewrap (bwrap) cannot run here, so writes outside the worktree by agents and commands are only "
    f'detected, not prevented: {INSTALL}, or set [run] sandbox = "none" to silence this'
)
"""The warning a run shows once when `[run] sandbox = "auto"` falls back to no sandbox."""


@dataclass(frozen=True)
class NoSandbox:
    """Commands run as they are; `warning` says why, when the user did not choose this."""

    name: ClassVar[str] = "none"
    warning: str = ""

    def wrap(self, argv: Sequence[str], *, writable: Sequence[Path], tmpdir: Path | None = None) -> list[str]:
        return list(argv)


@dataclass(frozen=True)
class Bubblewrap:
    """`bwrap` around the command: the root read-only, `writable` (those that exist) bound writable."""

    binary: str
    name: ClassVar[str] = "bwrap"
    warning: ClassVar[str] = ""

    def wrap(self, argv: Sequence[str], *, writable: Sequence[Path], tmpdir: Path | None = None) -> list[str]:
        wrapped = [
            self.binary,
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--die-with-parent",
        ]
        # Parents first: a path bound inside an already writable one stays writable either way.
        named = (*writable, *([tmpdir] if tmpdir else []))
        paths = sorted({p.resolve() for p in named if p.exists()}, key=lambda p: len(p.parts))
        for path in paths:
            wrapped += ["--bind", str(path), str(path)]
        if tmpdir is not None:
            wrapped += ["--setenv", "TMPDIR", str(tmpdir.resolve())]
        return [*wrapped, "--", *argv]


Sandbox = NoSandbox | Bubblewrap


def choose(mode: SandboxMode, *, path: str | None = None) -> Sandbox:
    """`[run] sandbox` made real; `path` is where to look for bwrap (None: $PATH).

    `auto` falls back to no sandbox with a warning; `bwrap` that cannot run is a `ConfigError`
    naming the fix, raised before any work.
    """
    if mode == "none":
        return NoSandbox()
    binary = shutil.which("bwrap", path=path)
    why = "it is not on PATH" if binary is None else _fails(binary)
    if binary is not None and not why:
        return Bubblewrap(binary)
    if mode == "auto":
        return NoSandbox(warning=UNSANDBOXED)
    raise ConfigError(
        f'[run] sandbox = "bwrap", but bubblewrap cannot run here ({why}): {INSTALL}, or set '
        '[run] sandbox = "auto" (sandboxed when it can be) or "none" in .factory/config.toml'
    )


@functools.cache
def _fails(binary: str) -> str:
    """Why `bwrap` cannot confine a command here (empty: it can); probed once per binary and process."""
    try:
        probe = subprocess.run(
            [binary, "--ro-bind", "/", "/", "true"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return "" if probe.returncode == 0 else probe.stderr.strip() or f"exit code {probe.returncode}"


def git_metadata(worktree: Path) -> list[Path]:
    """What git writes for a linked worktree: its own directory (`.git/worktrees/NAME`: index, HEAD)
    and the shared object store, so `git status` and `git add` work; refs stay read-only."""
    marker = worktree / ".git"
    if not marker.is_file():
        return []
    text = marker.read_text(encoding="utf-8").strip()
    if not text.startswith("gitdir:"):
        return []
    gitdir = worktree / text.removeprefix("gitdir:").strip()
    common = gitdir / "commondir"
    if not common.is_file():
        return [gitdir]
    return [gitdir, gitdir / common.read_text(encoding="utf-8").strip() / "objects"]


@contextlib.contextmanager
def confined(
    sandbox: Sandbox, argv: Sequence[str], *, worktree: Path, writable: Sequence[Path] = ()
) -> Iterator[list[str]]:
    """`argv` allowed to write only in `worktree` (and its git metadata), `writable` and a temp dir of
    its own, which is removed afterwards."""
    if isinstance(sandbox, NoSandbox):
        yield list(argv)
        return
    with tempfile.TemporaryDirectory(prefix="aifactory-tmp-", ignore_cleanup_errors=True) as tmp:
        yield sandbox.wrap(argv, writable=[worktree, *git_metadata(worktree), *writable], tmpdir=Path(tmp))


@contextlib.asynccontextmanager
async def open_confined(
    sandbox: Sandbox,
    argv: Sequence[str],
    *,
    worktree: Path,
    writable: Sequence[Path],
    env: Mapping[str, str],
    stdin: bool = False,
) -> AsyncIterator[Stream]:
    """`open_stream` in `worktree` for an agent CLI, confined as `confined` says."""
    with confined(sandbox, argv, worktree=worktree, writable=writable) as wrapped:
        async with open_stream(wrapped, cwd=worktree, env=env, stdin=stdin) as stream:
            yield stream
