"""Record the real Gemini CLI's stream-json against the fake Gemini API, as test fixtures.

    PYTHONPATH=src python -m tests.agents.capture_gemini

writes `tests/agents/fixtures/gemini/*.jsonl` (stdout), one file per situation the parser must judge,
`exits.json` with each run's exit code, and `NAME.stderr` for a run that printed no result. The
flags are those `GeminiAgent` runs with; the settings those of `cli_home` (no retries of its own).
`truncated.jsonl` is the only one made by hand: `success.jsonl` cut in the middle of an event and
without its result, as a killed CLI leaves it.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from aifactory.testing import DropStream, FakeServer, HttpError, Responder, Rules, SimRequest, always
from aifactory.testing.scenario import Answer, call_tool, reply_text
from tests.agents.gemini import MODEL, cli_home, gemini_binary

FIXTURES = Path(__file__).parent / "fixtures" / "gemini"
KEY = {"GEMINI_API_KEY": "gemini-fixture-key"}
DAILY = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"


def _write_then_answer(request: SimRequest) -> Answer:
    if request.find_results("write_file"):
        return reply_text("Wrote hello.txt.")
    return call_tool("write_file", file_path="hello.txt", content="hello\n")


def _shell_then_answer(request: SimRequest) -> Answer:
    if request.find_results("run_shell_command"):
        return reply_text("Ran the command.")
    return call_tool("run_shell_command", command="echo hi > shell.txt", description="write shell.txt")


SITUATIONS: dict[str, tuple[Responder, Mapping[str, str], int]] = {
    "success": (_write_then_answer, KEY, 20),
    "shell-tool": (_shell_then_answer, KEY, 20),
    "rate-limit-429": (HttpError(429, headers={"retry-after": "30"}), KEY, 20),
    "daily-quota": (HttpError(429, code=DAILY), KEY, 20),
    "overloaded-503": (HttpError(503), KEY, 20),
    "dropped-stream": (DropStream(after_events=1), KEY, 20),
    "turn-limit": (_write_then_answer, KEY, 1),
    "invalid-key": (reply_text("unreachable"), {"GEMINI_API_KEY": "not-the-key"}, 20),
    "not-logged-in": (reply_text("unreachable"), {}, 20),
}
"""Name → (the fake's answer, credentials, the step's turn limit)."""


def capture(name: str) -> tuple[str, int, str]:
    """Stdout, exit code and stderr of the CLI in `name`'s situation."""
    answer, credentials, turns = SITUATIONS[name]
    keys = [KEY["GEMINI_API_KEY"]]
    with (
        FakeServer(Rules((always, answer)), "gemini", keys=keys) as server,
        tempfile.TemporaryDirectory() as home,
    ):
        work = Path(home) / "work"
        work.mkdir()
        env = {
            "PATH": os.environ["PATH"],
            "HOME": home,
            "GEMINI_CLI_HOME": str(cli_home(Path(home), max_turns=turns)),
            "GOOGLE_GEMINI_BASE_URL": server.base_url,
            **credentials,
        }
        argv = [str(gemini_binary()), "-p", "", "--output-format", "stream-json", "--skip-trust"]
        argv += ["--model", MODEL, "--approval-mode", "auto_edit", "--allowed-tools=run_shell_command"]
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
        return ran.stdout, ran.returncode, ran.stderr


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    exits = {}
    for name in SITUATIONS:
        stdout, code, stderr = capture(name)
        (FIXTURES / f"{name}.jsonl").write_text(stdout, encoding="utf-8")
        if '"type":"result"' not in stdout:
            (FIXTURES / f"{name}.stderr").write_text(stderr, encoding="utf-8")
        exits[name] = code
    (FIXTURES / "exits.json").write_text(json.dumps(exits, indent=2) + "\n", encoding="utf-8")
    lines = (FIXTURES / "success.jsonl").read_text(encoding="utf-8").splitlines()
    cut = [*lines[:-2], lines[-2][: len(lines[-2]) // 2]]
    (FIXTURES / "truncated.jsonl").write_text("\n".join(cut), encoding="utf-8")


if __name__ == "__main__":
    main()
