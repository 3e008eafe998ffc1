"""What starting `factory` loads: a lint run in a pre-commit hook must not wait for the model SDKs."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL_STACK = ("pydantic_ai", "anthropic", "openai")


def _as_the_script(*lines: str) -> subprocess.CompletedProcess[str]:
    """What pip's `factory` wrapper does: import the entry point at the top, then the rest."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, function = scripts["factory"].partition(":")
    code = "\n".join(["import sys", f"from {module} import {function} as main", *lines])
    return subprocess.run(
        [sys.executable, "-c", code, "--version"], capture_output=True, text=True, check=True
    )


def _imported(stderr: str) -> set[str]:
    """Top-level packages named in `-X importtime` output."""
    return {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in stderr.splitlines() if "|" in line}


def test_importing_the_entry_point_loads_no_command() -> None:
    """Every lesson-check worker runs the `factory` script's imports again, so they must cost nothing."""
    unwanted = ("aifactory.cli", "typer", *MODEL_STACK)
    loaded = _as_the_script(f"print(*sorted(m for m in sys.modules if m.startswith({unwanted!r})))")
    assert loaded.stdout.strip() == ""


def test_the_entry_point_runs_the_cli() -> None:
    ran = _as_the_script("sys.argv[0] = 'factory'", "main()")
    assert ran.stdout.startswith("aifactory ")


def test_factory_check_and_usage_run_without_loading_the_model_sdks(git_repo: Path) -> None:
    def factory(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-X", "importtime", "-m", "aifactory", "--repo", str(git_repo), *args]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    assert factory("init").returncode == 0
    (git_repo / "app.py").write_text("print('hello')\n")
    checked = factory("check")
    assert checked.returncode == 0, checked.stderr
    assert "0 finding(s)" in checked.stdout
    assert not _imported(checked.stderr) & set(MODEL_STACK)
    billed = factory("usage")
    assert billed.returncode == 0, billed.stderr
    assert not _imported(billed.stderr) & set(MODEL_STACK)
    assert "pydantic_ai" in _imported(factory("plan", "--help").stderr)
