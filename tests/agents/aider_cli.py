"""The real Aider for tests: where it is installed, and how to point it at a fake OpenAI server.

`.ci/run` installs the pinned release into its own virtual environment, `.ci/aider-venv` (Aider
pins litellm and openai versions the project's own environment must not get); elsewhere set
AIFACTORY_AIDER to an `aider` binary. A missing Aider fails the tests that need it, with the command
that installs it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aifactory.agents.aider import TESTED_VERSION

ROOT = Path(__file__).resolve().parents[2]
INSTALL = f"python3 -m venv .ci/aider-venv && .ci/aider-venv/bin/pip install aider-chat=={TESTED_VERSION}"


def aider_binary() -> Path:
    """The `aider` to test with; fails (never skips) when it is not installed."""
    configured = os.environ.get("AIFACTORY_AIDER")
    binary = Path(configured) if configured else ROOT / ".ci" / "aider-venv" / "bin" / "aider"
    if not binary.exists():
        pytest.fail(f"Aider is not installed at {binary}: run `{INSTALL}` or set AIFACTORY_AIDER")
    return binary


def agent_table(
    name: str, base_url: str, *, binary: Path, edit_format: str, timeout: float = 120, retries: int = 0
) -> str:
    """`[agents.NAME]` running the real Aider against a fake OpenAI server at `base_url`."""
    return (
        f'[agents."{name}"]\nkind = "aider"\nbinary = "{binary}"\npass_env = ["OPENAI_API_KEY"]\n'
        f'env = {{ OPENAI_API_BASE = "{base_url}", AIDER_EDIT_FORMAT = "{edit_format}" }}\n'
        f"timeout = {timeout}\nretries = {retries}\n"
    )
