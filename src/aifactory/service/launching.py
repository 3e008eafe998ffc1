"""Runs started in the background: a detached `factory run` that outlives whoever asked for it.

A front end that must answer at once (the MCP server's `run` tool) cannot hold a run in its own
process: an MCP client that disconnects takes a stdio server down with it, process group and all.
So the run is its own `factory run --run-id ID` in a new session, writing its output to
`.factory/logs/launched/ID.log`; the ledger records it as any other run, and until the run's first
row is written, the log and the process id say whether it is still starting or failed to.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from aifactory.domain.run import new_run_id
from aifactory.errors import NotFoundError
from aifactory.service.project import Project
from aifactory.service.running import runnable

LAUNCHED_DIR = "launched"
_TAIL_LINES = 20
_RUN_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True)
class Launched:
    run_id: str
    pid: int
    log: Path


@dataclass(frozen=True)
class Starting:
    """A launched run the ledger does not hold yet: still starting, or ended before it recorded anything."""

    run_id: str
    alive: bool
    output: str
    """The last lines the run wrote: why it ended, when it did."""


def launch(project: Project, plan_path: Path, *, attempts: int | None, rounds: int | None) -> Launched:
    """Start `factory run PLAN` detached; the plan is checked here first so a bad one fails at once."""
    plan = runnable(plan_path)
    run_id = new_run_id(plan.title)
    folder = project.logs_dir / LAUNCHED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{run_id}.log"
    command = [sys.executable, "-m", "aifactory", "--repo", str(project.root), "run", str(plan_path)]
    command += ["--run-id", run_id, "--no-interactive"]
    if attempts is not None:
        command += ["--attempts", str(attempts)]
    if rounds is not None:
        command += ["--rounds", str(rounds)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=project.root,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (folder / f"{run_id}.pid").write_text(str(process.pid), encoding="utf-8")
    # Reap the child when it ends, so a long-lived launcher does not collect zombies.
    threading.Thread(target=process.wait, daemon=True).start()
    return Launched(run_id=run_id, pid=process.pid, log=log)


def starting(project: Project, run_id: str) -> Starting:
    """What a launched run not yet in the ledger is doing; NotFoundError if this id was never launched."""
    folder = project.logs_dir / LAUNCHED_DIR
    log, pid_file = folder / f"{run_id}.log", folder / f"{run_id}.pid"
    if not _RUN_ID.fullmatch(run_id) or not log.is_file() or not pid_file.is_file():
        raise NotFoundError(f"no run {run_id!r}: neither the ledger nor the launched runs hold it")
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return Starting(
        run_id=run_id,
        alive=_alive(int(pid_file.read_text(encoding="utf-8"))),
        output="\n".join(lines[-_TAIL_LINES:]),
    )


def _alive(pid: int) -> bool:
    """Whether `pid` still runs and is not a zombie waiting for its parent."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/stat")
    return not (status.is_file() and ") Z " in status.read_text(encoding="utf-8", errors="replace"))
