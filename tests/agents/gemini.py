"""The real Gemini CLI for tests: where it is installed, and how to point it at a fake Gemini API.

CI installs the pinned release with `npm install --prefix .ci/node` (see `.ci/run`); elsewhere set
AIFACTORY_GEMINI to a `gemini` binary. A missing CLI fails the tests that need it, with the command
that installs it. Offline, the CLI needs `GOOGLE_GEMINI_BASE_URL` (the fake), an API key, and user
settings that choose the API key as its login (with a base URL set it would otherwise pick its
"gateway" login, which headless runs refuse) and turn its usage statistics off.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from aifactory.agents.gemini import TESTED_VERSION

ROOT = Path(__file__).resolve().parents[2]
INSTALL = f"npm install --prefix .ci/node @google/gemini-cli@{TESTED_VERSION}"
MODEL = "gemini-2.5-flash"

SETTINGS: dict[str, dict[str, Any]] = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "privacy": {"usageStatisticsEnabled": False},
    "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
}
"""User settings for offline runs: log in with the API key, send no usage statistics, check no update."""


def gemini_binary() -> Path:
    """The `gemini` to test with; fails (never skips) when it is not installed."""
    configured = os.environ.get("AIFACTORY_GEMINI")
    binary = Path(configured) if configured else ROOT / ".ci" / "node" / "node_modules" / ".bin" / "gemini"
    if not binary.exists():
        pytest.fail(f"Gemini CLI is not installed at {binary}: run `{INSTALL}` or set AIFACTORY_GEMINI")
    return binary


def cli_home(folder: Path, *, max_turns: int = 20) -> Path:
    """A Gemini CLI home (`GEMINI_CLI_HOME`) in `folder` holding the offline `SETTINGS`, where a 429 is
    not retried (`maxAttempts` 1) and a run takes at most `max_turns` turns."""
    settings = {**SETTINGS, "model": {"maxSessionTurns": max_turns}}
    settings["general"] = {**SETTINGS["general"], "maxAttempts": 1}
    (folder / ".gemini").mkdir(parents=True, exist_ok=True)
    (folder / ".gemini" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    return folder


def agent_table(name: str, base_url: str, *, home: Path, binary: Path, timeout: float = 120) -> str:
    """`[agents.NAME]` running the real CLI against a fake Gemini API at `base_url`."""
    return (
        f'[agents."{name}"]\nkind = "gemini"\nbinary = "{binary}"\n'
        'pass_env = ["GEMINI_API_KEY"]\n'
        f'env = {{ GOOGLE_GEMINI_BASE_URL = "{base_url}", GEMINI_CLI_HOME = "{home}" }}\n'
        f"timeout = {timeout}\nretries = 0\n"
    )
