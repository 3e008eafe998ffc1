"""Bounded subprocesses: merged output kept as head and tail, time limits, and no orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import tracemalloc
from pathlib import Path

import pytest

from aifactory.workspace.process import KILL_GRACE_S, run_process, scrubbed_env


def _running(pid: int) -> bool:
    """Alive and not a zombie (orphans are reparented to an init that may never reap them)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


async def _gone(pid: int, within: float = 2.0) -> bool:
    deadline = time.monotonic() + within
    while _running(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def _read_pid(path: Path, within: float = 5.0) -> int:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        text = await asyncio.to_thread(lambda: path.read_text() if path.exists() else "")
        if text.endswith("\n"):
            return int(text)
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} was never written")


async def test_a_string_runs_through_the_shell_with_stderr_merged_into_stdout(tmp_path: Path) -> None:
    result = await run_process(
        "echo out; echo err >&2; pwd; exit 3", cwd=tmp_path, env=None, timeout_s=10, output_cap=1000
    )
    assert result.exit_code == 3
    assert result.output == f"out\nerr\n{tmp_path}\n"
    assert not result.timed_out
    assert result.omitted_bytes == 0


async def test_a_sequence_runs_directly_without_a_shell(tmp_path: Path) -> None:
    result = await run_process(
        ["printf", "%s|", "a b", "$HOME", ";"], cwd=tmp_path, env=None, timeout_s=10, output_cap=1000
    )
    assert result.output == "a b|$HOME|;|"
    assert result.exit_code == 0


async def test_the_command_sees_exactly_the_environment_it_is_given(tmp_path: Path) -> None:
    result = await run_process(["env"], cwd=tmp_path, env={"ONLY": "this"}, timeout_s=10, output_cap=1000)
    assert result.output == "ONLY=this\n"


async def test_a_huge_output_keeps_head_and_tail_and_never_holds_more_than_the_cap(tmp_path: Path) -> None:
    command = "echo START; head -c 20000000 /dev/zero | tr '\\0' x; echo; echo END"
    tracemalloc.start()
    try:
        result = await run_process(command, cwd=tmp_path, env=None, timeout_s=30, output_cap=1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    total = len("START\n") + 20_000_000 + len("\nEND\n")
    assert result.omitted_bytes == total - 1000
    assert result.output.startswith("START\nxxx")
    assert result.output.endswith("xxx\nEND\n")
    assert f"\n[… {total - 1000} bytes omitted …]\n" in result.output
    assert len(result.output) < 1100
    assert peak < 2_000_000


async def test_the_log_receives_everything_the_cap_left_out(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "step-1.log"
    result = await run_process(
        "seq 1 100000", cwd=tmp_path, env=None, timeout_s=10, output_cap=100, log_path=log
    )
    assert result.omitted_bytes > 0
    assert log.read_text() == "".join(f"{n}\n" for n in range(1, 100_001))


async def test_a_log_that_cannot_be_written_stops_the_command_with_the_error(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(OSError, match="No space left on device"):
        await run_process(
            "yes", cwd=tmp_path, env=None, timeout_s=30, output_cap=100, log_path=Path("/dev/full")
        )
    assert time.monotonic() - started < KILL_GRACE_S


async def test_a_timeout_kills_the_whole_process_group_and_keeps_the_output_so_far(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    result = await run_process(
        f"sleep 60 & echo $! > {pid_file}; echo started; wait",
        cwd=tmp_path,
        env=None,
        timeout_s=0.5,
        output_cap=1000,
    )
    assert result.timed_out
    assert result.exit_code == -signal.SIGTERM
    assert result.output == "started\n"
    assert result.duration_s < 0.5 + KILL_GRACE_S
    assert await _gone(int(pid_file.read_text()))


async def test_a_group_that_ignores_sigterm_gets_sigkill_after_the_grace(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    result = await run_process(
        f"trap '' TERM; sleep 60 & echo $! > {pid_file}; wait",
        cwd=tmp_path,
        env=None,
        timeout_s=0.2,
        output_cap=1000,
    )
    assert result.timed_out
    assert result.exit_code == -signal.SIGKILL
    assert await _gone(int(pid_file.read_text()))


async def test_background_processes_do_not_outlive_the_command(tmp_path: Path) -> None:
    pid_file = tmp_path / "server.pid"
    result = await run_process(
        f"sleep 60 & echo $! > {pid_file}; echo done", cwd=tmp_path, env=None, timeout_s=30, output_cap=1000
    )
    assert (result.exit_code, result.output, result.timed_out) == (0, "done\n", False)
    assert result.duration_s < KILL_GRACE_S
    assert await _gone(int(pid_file.read_text()))


async def test_a_process_that_leaves_the_group_cannot_hold_the_call_open(tmp_path: Path) -> None:
    pid_file = tmp_path / "escaped.pid"
    result = await run_process(
        f"setsid sleep 60 & echo $! > {pid_file}; echo done",
        cwd=tmp_path,
        env=None,
        timeout_s=30,
        output_cap=1000,
    )
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert (result.exit_code, result.output) == (0, "done\n")
    assert result.duration_s < 2 * KILL_GRACE_S


async def test_cancelling_the_caller_kills_the_whole_process_group(tmp_path: Path) -> None:
    shell_pid, grandchild_pid = tmp_path / "shell.pid", tmp_path / "grandchild.pid"
    task = asyncio.create_task(
        run_process(
            f"echo $$ > {shell_pid}; sleep 60 & echo $! > {grandchild_pid}; wait",
            cwd=tmp_path,
            env=None,
            timeout_s=60,
            output_cap=1000,
        )
    )
    pids = [await _read_pid(shell_pid), await _read_pid(grandchild_pid)]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for pid in pids:
        assert await _gone(pid)


def test_the_model_environment_drops_credentials_and_named_secrets() -> None:
    base = {
        "PATH": "/usr/bin",
        "HOME": "/home/me",
        "OPENAI_API_KEY": "k",
        "GITHUB_TOKEN": "t",
        "github_token": "t",
        "DB_PASSWORD": "p",
        "MY_SECRET_THING": "s",
        "AWS_PROFILE": "p",
        "ANTHROPIC_BASE_URL": "u",
        "AZURE_OPENAI_ENDPOINT": "e",
        "GOOGLE_APPLICATION_CREDENTIALS": "c",
        "GEMINI_MODEL": "m",
        "MY_SERVICE_KEY": "custom",
        "TOKENIZERS_PARALLELISM": "false",
    }
    env = scrubbed_env(base, secret_names=["MY_SERVICE_KEY"])
    assert env == {"PATH": "/usr/bin", "HOME": "/home/me", "TOKENIZERS_PARALLELISM": "false"}


def test_allowed_names_survive_the_credential_patterns_but_named_secrets_never_do() -> None:
    base = {"AWS_REGION": "eu-west-1", "NPM_TOKEN": "t", "PATH": "/bin"}
    env = scrubbed_env(base, secret_names=["NPM_TOKEN"], allow=["AWS_REGION", "NPM_TOKEN"])
    assert env == {"AWS_REGION": "eu-west-1", "PATH": "/bin"}


def test_the_model_environment_defaults_to_this_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_API_KEY", "k")
    monkeypatch.setenv("VISIBLE", "yes")
    env = scrubbed_env()
    assert env["VISIBLE"] == "yes"
    assert "SOME_API_KEY" not in env
