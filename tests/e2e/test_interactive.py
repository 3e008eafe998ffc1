"""At a terminal, the planner's questions are asked and answered there."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from aifactory.domain import planfile
from aifactory.testing.team import scripted_team
from tests.sim import sim_project


def _read_until(master: int, pattern: str, seen: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not re.search(pattern, "".join(seen), re.DOTALL):
        assert time.monotonic() < deadline, "".join(seen)
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                seen.append(os.read(master, 4096).decode(errors="replace"))
            except OSError:
                return


def test_questions_are_asked_at_the_terminal_and_an_empty_answer_leaves_one_open(tmp_path: Path) -> None:
    team = scripted_team(steps=1, questions=["Which format?", "Which folder?"])
    with sim_project(tmp_path, team) as sim:
        master, slave = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "aifactory", "--repo", str(sim.repo), "plan", "Write a note"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, **sim.env, "COLUMNS": "200"},
        )
        os.close(slave)
        seen: list[str] = []
        _read_until(master, r"Which format\?.*answer", seen)
        os.write(master, b"Markdown\r")
        _read_until(master, r"Which folder\?.*answer", seen)
        os.write(master, b"\r")
        _read_until(master, r"factory plan --answer", seen)
        process.wait(timeout=30)
        os.close(master)
        path = next((sim.repo / "plans").glob("*-plan.md"))
        plan = planfile.parse(path.read_text())
    assert process.returncode == 0, "".join(seen)
    assert [(q.text, q.answer) for q in plan.questions] == [
        ("Which format?", "Markdown"),
        ("Which folder?", None),
    ]
    assert "factory plan --answer" in "".join(seen)
