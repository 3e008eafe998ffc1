"""The sandbox lets a command write only in its worktree, its temp dir and the paths named; it still dies
with its process group."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from aifactory.errors import ConfigError
from aifactory.workspace.process import open_stream, run_process
from aifactory.workspace.sandbox import Bubblewrap, NoSandbox, Sandbox, choose, confined
from tests.support import git


def _bwrap() -> Sandbox:
    sandbox = choose("bwrap")
    assert isinstance(sandbox, Bubblewrap)
    return sandbox


def _run(sandbox: Sandbox, command: str, worktree: Path, *extra: Path) -> tuple[int, str]:
    async def go() -> tuple[int, str]:
        with confined(sandbox, ["/bin/sh", "-c", command], worktree=worktree, writable=extra) as argv:
            result = await run_process(argv, cwd=worktree, env=None, timeout_s=30, output_cap=10_000)
        return result.exit_code, result.output

    return asyncio.run(go())


def test_a_sandboxed_command_writes_in_its_worktree_and_temp_dir_only(tmp_path: Path) -> None:
    worktree, state, outside = tmp_path / "worktree", tmp_path / "state", tmp_path / "outside.txt"
    worktree.mkdir()
    state.mkdir()
    code, output = _run(
        _bwrap(),
        f'echo in > inside.txt && echo t > "$TMPDIR/t" && echo s > {state}/s && echo "$TMPDIR" '
        f"&& echo out > {outside}",
        worktree,
        state,
    )
    assert code != 0 and "Read-only file system" in output, output
    assert (worktree / "inside.txt").read_text() == "in\n"
    assert (state / "s").read_text() == "s\n"
    assert not outside.exists()
    temp = Path(output.splitlines()[0])
    assert temp.name.startswith("aifactory-tmp-") and not temp.exists(), "its temp dir is removed after"


def test_no_sandbox_runs_the_command_as_it_is(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    code, _ = _run(NoSandbox(), f"echo out > {outside}", tmp_path)
    assert code == 0 and outside.exists()


def test_git_in_a_sandboxed_worktree_reads_and_stages_but_cannot_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    worktree = tmp_path / "worktree"
    git(repo, "worktree", "add", "-q", "-b", "work", str(worktree))
    (worktree / "a.txt").write_text("changed\n")
    code, output = _run(_bwrap(), "git status --short && git add a.txt && git diff --cached --stat", worktree)
    assert code == 0 and "M a.txt" in output and "1 file changed" in output, output
    code, output = _run(_bwrap(), "git -c user.name=a -c user.email=a@a commit -qam mine", worktree)
    assert code != 0, output
    assert git(repo, "rev-parse", "work") == git(repo, "rev-parse", "main"), "the branch did not move"


def test_none_is_no_sandbox_and_auto_without_bwrap_warns(tmp_path: Path) -> None:
    assert choose("none") == NoSandbox()
    fallback = choose("auto", path=str(tmp_path))
    assert isinstance(fallback, NoSandbox)
    assert (
        "only detected, not prevented" in fallback.warning
        and "apt-get install bubblewrap" in fallback.warning
    )
    assert isinstance(choose("auto"), Bubblewrap), "bwrap runs on this machine"


def test_bwrap_chosen_but_missing_is_a_config_error_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r'\[run\] sandbox = "bwrap".*not on PATH.*apt-get install bubblewrap'
    ):
        choose("bwrap", path=str(tmp_path))


def test_a_sandboxed_command_past_its_time_limit_dies_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    command = f"sleep 300 & echo $! > {pids}/child; echo $$ > {pids}/shell; wait"
    pids.mkdir()

    async def go() -> bool:
        with confined(_bwrap(), ["/bin/sh", "-c", command], worktree=tmp_path) as argv:
            result = await run_process(argv, cwd=tmp_path, env=None, timeout_s=1.5, output_cap=1_000)
        return result.timed_out

    assert asyncio.run(go())
    _assert_gone(pids)


def test_leaving_a_sandboxed_stream_kills_the_agent_and_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    command = f"sleep 300 & echo $! > {pids}/child; echo $$ > {pids}/shell; echo ready; wait"
    pids.mkdir()

    async def go() -> None:
        with confined(_bwrap(), ["/bin/sh", "-c", command], worktree=tmp_path) as argv:
            async with open_stream(argv, cwd=tmp_path, env=None) as child:
                assert await child.stdout.readline() == b"ready\n"

    asyncio.run(go())
    _assert_gone(pids)


def _assert_gone(pids: Path) -> None:
    alive = [int((pids / name).read_text()) for name in ("child", "shell")]
    deadline = time.monotonic() + 5
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _exists(pid)]
        time.sleep(0.05)
    assert not alive, f"still running: {alive}"


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
