"""The real Claude Code CLI for tests: where it is installed, and how to point it at a fake server.

CI installs the pinned release with `npm install --prefix .ci/node` (see `.ci/run`); elsewhere set
AIFACTORY_CLAUDE to a `claude` binary. A missing CLI fails the tests that need it, with the command
that installs it: the integration with the real agent is what these tests are for.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aifactory.agents.claude_code import TESTED_VERSION

ROOT = Path(__file__).resolve().parents[2]
INSTALL = f"npm install --prefix .ci/node @anthropic-ai/claude-code@{TESTED_VERSION}"
RESET = 1_900_000_000
"""The subscription limit's reset time the fake reports (an epoch well in the future)."""

QUIET = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
}
"""Offline: no update checks, telemetry or error reports, only the model requests to the fake."""

USAGE_LIMIT_HEADERS = {
    "anthropic-ratelimit-unified-status": "rejected",
    "anthropic-ratelimit-unified-reset": str(RESET),
    "anthropic-ratelimit-unified-representative-claim": "five_hour",
}
"""How Anthropic's API tells Claude Code that a subscription's five-hour limit is reached."""


def claude_binary() -> Path:
    """The `claude` to test with; fails (never skips) when it is not installed."""
    configured = os.environ.get("AIFACTORY_CLAUDE")
    binary = Path(configured) if configured else ROOT / ".ci" / "node" / "node_modules" / ".bin" / "claude"
    if not binary.exists():
        pytest.fail(f"Claude Code is not installed at {binary}: run `{INSTALL}` or set AIFACTORY_CLAUDE")
    return binary


def agent_table(name: str, base_url: str, *, pass_env: str, binary: Path, timeout: float = 120) -> str:
    """`[agents.NAME]` running the real CLI against a fake Anthropic server at `base_url`."""
    env = {"ANTHROPIC_BASE_URL": base_url, **QUIET}
    pairs = ", ".join(f'{key} = "{value}"' for key, value in env.items())
    return (
        f'[agents."{name}"]\nkind = "claude-code"\nbinary = "{binary}"\npass_env = ["{pass_env}"]\n'
        f"env = {{ {pairs} }}\ntimeout = {timeout}\nretries = 0\n"
    )


BEDROCK_MODEL = "us.anthropic.claude-sonnet-5-5-v1:0"
BEDROCK_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDFAKEBEDROCK", "AWS_SECRET_ACCESS_KEY": "fake-aws-secret"}
"""What the AWS credential chain finds in the environment; the fake checks the signature's key id."""


def bedrock_agent_table(base_url: str, *, binary: Path, timeout: float = 120) -> str:
    """`[agents."claude-code@bedrock"]` over the shipped table, which brings `pass_env = ["AWS_*"]` and
    `CLAUDE_CODE_USE_BEDROCK`: the real CLI against a fake Bedrock at `base_url`."""
    env = {"ANTHROPIC_BEDROCK_BASE_URL": base_url, "AWS_REGION": "us-east-1", **QUIET}
    pairs = ", ".join(f'{key} = "{value}"' for key, value in env.items())
    return (
        f'[agents."claude-code@bedrock"]\nbinary = "{binary}"\nenv = {{ {pairs} }}\n'
        f"timeout = {timeout}\nretries = 0\n"
    )
