"""`factory demo`, the README's main-job command, as a new user runs it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support import git


def test_the_demo_shows_the_factory_learn_from_a_rejection(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aifactory", "demo", "--folder", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "simulated model" in out
    assert "a1: rejected" in out
    assert "the whole orders file is read into memory" in out
    assert "check-proven" in out
    assert "learning curve" in out

    repo = tmp_path / "shop"
    [lesson_file] = [
        p for p in (repo / ".factory" / "blueprint" / "lessons").glob("*.md") if p.name != "README.md"
    ]
    lesson = lesson_file.stem
    assert f"{lesson}  reads a whole file into memory" in out, "the learned check fires on round 1's code"

    with sqlite3.connect(repo / ".factory" / "ledger.db") as ledger:
        rounds = ledger.execute(
            "select r.title, x.round, x.passed, x.lessons from rounds x join runs r on r.id = x.run_id "
            "order by x.started_at"
        ).fetchall()
        attempts = ledger.execute("select run_id, name, state from attempts order by rowid").fetchall()
        providers = ledger.execute("select count(distinct provider) from model_calls").fetchone()[0]
    task_one, task_two = rounds[0][0], rounds[2][0]
    assert [(title, number, passed) for title, number, passed, _ in rounds] == [
        (task_one, 1, 0),
        (task_one, 2, 1),
        (task_two, 1, 1),
    ]
    assert [lessons for *_, lessons in rounds] == ["[]", f'["{lesson}"]', f'["{lesson}"]']
    assert [state for *_, state in attempts] == [
        "rejected",
        "rejected",
        "passed",
        "passed",
        "passed",
        "passed",
    ]
    assert providers == 2

    # Round 1's outputs stay on their branches, unpatched; the best attempts were merged.
    run_id = attempts[0][0]
    assert ".read()" in git(repo, "show", f"factory/{run_id}/a1:shop/report.py")
    merged = git(repo, "show", "main:shop/report.py")
    assert "csv.DictReader(handle)" in merged
    assert "average_order" in git(repo, "show", "main:shop/averages.py")
