"""Record the real Aider's output against the fake OpenAI server, as test fixtures.

    PYTHONPATH=src python -m tests.agents.capture_aider

writes `tests/agents/fixtures/aider/*.txt`, one file per situation the parser must judge. Aider
retries a rate limit for a minute; like the agent, the capture stops it after two limit errors.
`odd-lines.txt` is the only one made by hand: a run whose output holds lines Aider never printed.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from aifactory.testing import FakeServer, FaultsFirst, HttpError, Responder, Rules, always, reply_text
from aifactory.testing.scenarios import Scenario
from tests.agents.aider_cli import aider_binary

FIXTURES = Path(__file__).parent / "fixtures" / "aider"
WHOLE = "I will create it.\n\nhello.txt\n```\nhello\n```\n\nWrote hello.txt."
DIFF = (
    "Changing x.\n\napp.py\n```python\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n\n"
    "Set x to 2 in app.py."
)
BAD = "app.py\n```python\n<<<<<<< SEARCH\nnot in the file\n=======\nx = 2\n>>>>>>> REPLACE\n```\n"


def _answer(responder: Responder) -> Scenario:
    return Rules((always, responder))


SITUATIONS: dict[str, tuple[Scenario, str]] = {
    "success-whole": (_answer(reply_text(WHOLE)), "whole"),
    "success-diff": (_answer(reply_text(DIFF)), "diff"),
    "rate-limit": (_answer(HttpError(429)), "whole"),
    "rate-limit-then-success": (FaultsFirst(_answer(reply_text(WHOLE)), [HttpError(429)] * 3), "whole"),
    "overloaded": (_answer(HttpError(529)), "whole"),
    "auth-error": (_answer(HttpError(401)), "whole"),
    "malformed": (_answer(reply_text(BAD)), "diff"),
}
"""Name → (the fake's answers, Aider's edit format)."""


def capture(name: str) -> str:
    scenario, edit_format = SITUATIONS[name]
    with FakeServer(scenario, "openai") as server, tempfile.TemporaryDirectory() as home:
        work = Path(home) / "work"
        work.mkdir()
        (work / "app.py").write_text("x = 1\n")
        subprocess.run(["git", "init", "-q"], cwd=work, check=True)
        subprocess.run(["git", "add", "app.py"], cwd=work, check=True)
        message = Path(home) / "message.md"
        message.write_text("Write hello.txt saying hello, and set x to 2 in app.py.")
        env = {
            "PATH": os.environ["PATH"],
            "HOME": home,
            "OPENAI_API_KEY": "sk-fixture",
            "OPENAI_API_BASE": server.base_url,
            "AIDER_EDIT_FORMAT": edit_format,
            "COLUMNS": "4096",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        argv = [str(aider_binary()), "--message-file", str(message), "--yes-always", "--no-auto-commits"]
        argv += ["--no-dirty-commits", "--no-gitignore", "--no-show-model-warnings", "--no-check-update"]
        argv += ["--no-analytics", "--no-pretty", "--no-stream", "--no-suggest-shell-commands"]
        argv += ["--chat-history-file", f"{home}/chat.md", "--input-history-file", f"{home}/input.txt"]
        argv += ["--model", "openai/gpt-6.1-sol"]
        return _read(argv, work, env)


def _read(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Aider's stdout, stopped after its second rate-limit or overload (529) error."""
    lines: list[str] = []
    errors = 0
    with subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            lines.append(line)
            errors += line.startswith(("litellm.RateLimitError", "litellm.APIError"))
            if errors >= 2:
                child.kill()
                break
    return "".join(lines)


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name in SITUATIONS:
        (FIXTURES / f"{name}.txt").write_text(capture(name), encoding="utf-8")
        print(f"captured {name}")


if __name__ == "__main__":
    main()
