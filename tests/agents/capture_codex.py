"""Record the real Codex CLI's `exec --json` events against the fake Responses server, as fixtures.

    PYTHONPATH=src python -m tests.agents.capture_codex

writes `tests/agents/fixtures/codex/*.jsonl`, one file per situation the parser must judge. Two are
made by hand from `shell.jsonl`: `truncated.jsonl`, cut in the middle of an event before the turn
ends, as a killed CLI leaves it; `unknown-events.jsonl`, with an event and an item type this
release does not print, as a newer CLI might.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from aifactory.testing import (
    FakeServer,
    HttpError,
    Responder,
    Rules,
    SimRequest,
    always,
    call_tool,
    reply_text,
)
from aifactory.testing.scenario import Answer, ErrorEvent
from tests.agents.codex import KEY_VARIABLE, RESET, codex_binary, codex_home

FIXTURES = Path(__file__).parent / "fixtures" / "codex"
PATCH = "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\nEOF\n"


def _then_answer(command: str, answer: str) -> Responder:
    def respond(request: SimRequest) -> Answer:
        if request.find_results("exec_command"):
            return reply_text(answer)
        return call_tool("exec_command", cmd=command)

    return respond


SITUATIONS: dict[str, Responder] = {
    "shell": _then_answer("printf 'hello\\n' > hello.txt", "Wrote hello.txt."),
    "file-change": _then_answer(PATCH, "Added hello.txt."),
    "rate-limit-429": HttpError(429, "rate_limit_exceeded", "Rate limit reached", code="rate_limit_exceeded"),
    "rate-limit-mid-stream": ErrorEvent(
        1, "rate_limit_exceeded", "Rate limit reached", code="rate_limit_exceeded"
    ),
    "quota": HttpError(
        429, "insufficient_quota", "You exceeded your current quota", code="insufficient_quota"
    ),
    "usage-limit": HttpError(
        429,
        "usage_limit_reached",
        "The usage limit has been reached",
        details={"plan_type": "plus", "resets_at": RESET},
    ),
    "unauthorized": HttpError(
        401, "invalid_request_error", "Incorrect API key provided", code="invalid_api_key"
    ),
}
"""Name → the fake's answer to every request."""


def capture(name: str) -> str:
    with (
        FakeServer(Rules((always, SITUATIONS[name])), "openai") as server,
        tempfile.TemporaryDirectory() as home,
    ):
        work = Path(home) / "work"
        work.mkdir()
        env = {
            "PATH": os.environ["PATH"],
            "HOME": home,
            "CODEX_HOME": str(codex_home(Path(home) / "codex", server.base_url)),
            KEY_VARIABLE: "sk-fixture",
            "TZ": "UTC",
        }
        argv = [str(codex_binary()), "exec", "--json", "--skip-git-repo-check", "--model", "gpt-5.1-codex"]
        argv += ["-c", 'sandbox_mode="workspace-write"', "-c", "check_for_update_on_startup=false", "-"]
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


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name in SITUATIONS:
        (FIXTURES / f"{name}.jsonl").write_text(capture(name), encoding="utf-8")
    lines = (FIXTURES / "shell.jsonl").read_text(encoding="utf-8").splitlines()
    cut = [*lines[:-2], lines[-2][: len(lines[-2]) // 2]]
    (FIXTURES / "truncated.jsonl").write_text("\n".join(cut), encoding="utf-8")
    future = [
        json.dumps({"type": "thread.compacted", "thread_id": "later"}),
        json.dumps({"type": "item.completed", "item": {"id": "item_9", "type": "hologram", "text": "hi"}}),
    ]
    unknown = [*lines[:-1], *future, lines[-1]]
    (FIXTURES / "unknown-events.jsonl").write_text("\n".join(unknown) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
