"""The codebase's own rules, checked with every test run: lint, format, types, and inward-pointing layers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


BIN = Path(sys.executable).parent
TOOLS = {
    "ruff": [sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks"],
    "ruff-format": [sys.executable, "-m", "ruff", "format", "--check", "src", "tests", "benchmarks"],
    "mypy": [sys.executable, "-m", "mypy"],
    "import-linter": [str(BIN / "lint-imports")],
}


@pytest.mark.parametrize("tool", TOOLS)
def test_the_tool_passes(tool: str) -> None:
    result = subprocess.run(TOOLS[tool], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_outgrows_one_job() -> None:
    """A module past ~400 lines is showing where the next seam is."""
    too_long = {
        str(path.relative_to(ROOT)): count
        for path in (ROOT / "src").rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert not too_long


def test_nothing_silences_a_tool() -> None:
    markers = ("# noqa", "type: ignore", "pragma: no cover", "pytest.mark.skip", "xfail")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("src", "tests", "benchmarks")
        for path in (ROOT / folder).rglob("*.py")
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if any(marker in line for marker in markers)
    ]
    assert not offenders
