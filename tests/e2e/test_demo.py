"""`factory demo`, the README's main-job command, as a new user runs it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support import git


def test_the_demo_runs_the_loop_and_one_attempt_is_rejected_for_a_visible_reason(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aifactory", "demo", "--folder", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "simulated model" in out
    assert "a1: passed" in out
    assert "a2: rejected" in out
    assert "shop/report.py:" in out
    assert "the whole orders file is read into memory" in out

    repo = tmp_path / "shop"
    branches = git(repo, "branch", "--list", "factory/*", "--format=%(refname:short)").split()
    assert len(branches) == 2
    for branch in branches:
        subjects = git(repo, "log", "--format=%s", f"main..{branch}").splitlines()
        assert subjects == ["step 2/2: Test top_customers", "step 1/2: Add top_customers to shop/report.py"]
    rejected = next(b for b in branches if b.endswith("/a2"))
    assert ".read()" in git(repo, "show", f"{rejected}:shop/report.py")
    assert list((repo / "plans").glob("*-plan.md"))

    with sqlite3.connect(repo / ".factory" / "ledger.db") as ledger:
        states = dict(ledger.execute("select name, state from attempts").fetchall())
        calls = ledger.execute("select count(*), count(distinct provider) from model_calls").fetchone()
    assert states == {"a1": "passed", "a2": "rejected"}
    assert calls[0] > 10
    assert calls[1] == 2
