"""Record the real Claude Code CLI's stream-json against the fake Anthropic server, as test fixtures.

    PYTHONPATH=src python -m tests.agents.capture_claude_code [SITUATION ...]

writes `tests/agents/fixtures/claude-code/*.jsonl`, one file per situation the parser must judge (all of
them, or the ones named). The `bedrock-` situations run the CLI in its Bedrock mode against the fake
Bedrock (InvokeModel, SigV4 with fake AWS keys).
`truncated.jsonl` is the only one made by hand: `success.jsonl` cut in the middle of its last event
and without its result, as a killed CLI leaves it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from aifactory.testing import (
    ErrorEvent,
    FakeServer,
    HttpError,
    Responder,
    Rules,
    SimRequest,
    always,
    call_tool,
    reply_text,
)
from aifactory.testing.scenario import Answer
from aifactory.testing.team import working_directory
from tests.agents.claude import BEDROCK_CREDENTIALS, BEDROCK_MODEL, QUIET, USAGE_LIMIT_HEADERS, claude_binary

FIXTURES = Path(__file__).parent / "fixtures" / "claude-code"
API_KEY = {"ANTHROPIC_API_KEY": "sk-ant-fixture"}
OAUTH = {"CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-fixture"}
BEDROCK = {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1", **BEDROCK_CREDENTIALS}
THROTTLED = ErrorEvent(3, "throttlingException", "Too many tokens, please wait before trying again.")


def _write_then_answer(request: SimRequest) -> Answer:
    if request.find_results("Write"):
        return reply_text("Wrote hello.txt.")
    return call_tool("Write", file_path=f"{working_directory(request)}/hello.txt", content="hello\n")


SITUATIONS: dict[str, tuple[Responder, Mapping[str, str], tuple[str, ...], int]] = {
    "success": (_write_then_answer, API_KEY, (), 0),
    "partial-messages": (_write_then_answer, API_KEY, ("--include-partial-messages",), 0),
    "api-retry-429": (HttpError(429, headers={"retry-after": "0"}), API_KEY, (), 1),
    "overloaded-529": (HttpError(529), API_KEY, (), 0),
    "usage-limit": (HttpError(429, "rate_limit_error", "limit", headers=USAGE_LIMIT_HEADERS), OAUTH, (), 0),
    "not-logged-in": (reply_text("unreachable"), {}, (), 0),
    "bedrock-success": (_write_then_answer, BEDROCK, (), 0),
    "bedrock-throttled": (HttpError(429), BEDROCK, (), 1),
    "bedrock-throttled-in-stream": (THROTTLED, BEDROCK, (), 0),
    "bedrock-unknown-key": (
        reply_text("unreachable"),
        {**BEDROCK, "AWS_ACCESS_KEY_ID": "AKIDUNKNOWN"},
        (),
        0,
    ),
}
"""Name → (the fake's answer, credentials, extra flags, CLAUDE_CODE_MAX_RETRIES)."""


def capture(name: str) -> str:
    answer, credentials, flags, retries = SITUATIONS[name]
    bedrock = "CLAUDE_CODE_USE_BEDROCK" in credentials
    model = BEDROCK_MODEL if bedrock else "claude-sonnet-5-5"
    fake = FakeServer(
        Rules((always, answer)),
        "bedrock" if bedrock else "anthropic",
        # Claude Code on Bedrock probes other models with tiny requests: refused, as by an account
        # without them.
        known_models={model} if bedrock else None,
        keys={BEDROCK_CREDENTIALS["AWS_ACCESS_KEY_ID"]} if bedrock else None,
    )
    with fake as server, tempfile.TemporaryDirectory() as home:
        work = Path(home) / "work"
        work.mkdir()
        env = {
            "PATH": os.environ["PATH"],
            "HOME": home,
            "ANTHROPIC_BEDROCK_BASE_URL" if bedrock else "ANTHROPIC_BASE_URL": server.base_url,
            "CLAUDE_CODE_MAX_RETRIES": str(retries),
            **QUIET,
            **credentials,
        }
        argv = [str(claude_binary()), "-p", "--output-format", "stream-json", "--verbose", *flags]
        argv += [
            "--model",
            model,
            "--permission-mode",
            "acceptEdits",
            "--allowedTools",
            "Write",
        ]
        ran = subprocess.run(
            argv,
            input="Write hello.txt",
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return ran.stdout


def main(names: list[str]) -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name in names or SITUATIONS:
        (FIXTURES / f"{name}.jsonl").write_text(capture(name), encoding="utf-8")
    if names and "success" not in names:
        return
    lines = (FIXTURES / "success.jsonl").read_text(encoding="utf-8").splitlines()
    cut = [*lines[:-2], lines[-2][: len(lines[-2]) // 2]]
    (FIXTURES / "truncated.jsonl").write_text("\n".join(cut), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
