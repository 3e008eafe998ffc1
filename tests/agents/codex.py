"""The real Codex CLI for tests: where it is installed, and how to point it at a fake Responses server.

CI installs the pinned release with `npm install --prefix .ci/node` (see `.ci/run`); elsewhere set
AIFACTORY_CODEX to a `codex` binary. A missing CLI fails the tests that need it, with the command
that installs it. Codex ignores OPENAI_BASE_URL: it reaches the fake through a custom model provider
in `$CODEX_HOME/config.toml`, with its own retries off so the factory sees a 429 at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aifactory.agents.codex import TESTED_VERSION

ROOT = Path(__file__).resolve().parents[2]
INSTALL = f"npm install --prefix .ci/node @openai/codex@{TESTED_VERSION}"
KEY_VARIABLE = "FAKE_OPENAI_KEY"
"""The variable the custom provider reads its key from (`env_key`), passed on by the agent table."""
RESET = 1_900_000_000
"""The usage limit's reset time the fake reports (2030-03-17 17:46:40 UTC)."""


def codex_binary() -> Path:
    """The `codex` to test with; fails (never skips) when it is not installed."""
    configured = os.environ.get("AIFACTORY_CODEX")
    binary = Path(configured) if configured else ROOT / ".ci" / "node" / "node_modules" / ".bin" / "codex"
    if not binary.exists():
        pytest.fail(f"Codex is not installed at {binary}: run `{INSTALL}` or set AIFACTORY_CODEX")
    return binary


def codex_home(folder: Path, base_url: str) -> Path:
    """A `CODEX_HOME` whose config sends every request to the fake at `base_url`, with no retries."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(
        'model_provider = "fake"\n\n[model_providers.fake]\nname = "fake"\n'
        f'base_url = "{base_url}"\nenv_key = "{KEY_VARIABLE}"\nwire_api = "responses"\n'
        "supports_websockets = false\nrequest_max_retries = 0\nstream_max_retries = 0\n",
        encoding="utf-8",
    )
    return folder


def agent_table(name: str, home: Path, *, binary: Path, timeout: float = 120) -> str:
    """`[agents.NAME]` running the real CLI with `home` as its CODEX_HOME."""
    return (
        f'[agents."{name}"]\nkind = "codex"\nbinary = "{binary}"\npass_env = ["{KEY_VARIABLE}"]\n'
        f'env = {{ CODEX_HOME = "{home}" }}\ntimeout = {timeout}\n'
    )
