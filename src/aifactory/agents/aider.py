"""Aider as an executor: `aider --message-file` headless in the attempt's worktree, one run per step.

The role's instructions and the step's prompt go in one message file outside the worktree (a plan
can outgrow one command-line argument); Aider's chat and input history go there too, and the tags
cache it leaves in the worktree is removed, so the factory's commit holds only the step's edits.
Auto-commits are off: the factory commits. Aider prints text, not events: `aider_output.py` reads
it line by line as it arrives. Aider retries a rate limit or an overload itself for about a minute
and has no switch to bound that, so the factory counts the errors it prints and stops the process
group after `retries` of them: the pool then cools the agent and gives the step to the next choice.
Models and endpoints are Aider's own: `--model` takes litellm names (`openai/gpt-5`,
`anthropic/claude-sonnet-4-5`), and settings such as `OPENAI_API_BASE` or `AIDER_EDIT_FORMAT`
come from the agent table's `env`.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from aifactory.agents.aider_output import AiderOutput, conclude
from aifactory.agents.base import StepJob, StepOutcome
from aifactory.agents.headless import settle
from aifactory.agents.release import Release, check_version
from aifactory.agents.state import writable_state
from aifactory.config.agents import AgentConfig
from aifactory.workspace.sandbox import open_confined

TESTED_VERSION = "0.86.2"
"""The release the factory's tests run (`.ci/run` installs it into `.ci/aider-venv`)."""
RELEASE = Release(
    product="Aider",
    minimum=(0, 86, 0),
    install=f"pipx install aider-chat=={TESTED_VERSION}",
)
"""The release the parser was recorded from; older ones are refused."""

_FIXED_FLAGS = (
    "--yes-always",
    "--no-auto-commits",
    "--no-dirty-commits",
    "--no-gitignore",
    "--no-show-model-warnings",
    "--no-check-update",
    "--no-analytics",
    "--no-pretty",
    "--no-stream",
    "--no-restore-chat-history",
    "--no-detect-urls",
)
"""Headless, no commits, no prompts, no colours or streaming markup, nothing written to the user's home."""
_PERMISSION_FLAGS = {"edits": ("--no-suggest-shell-commands",), "yes-always": ()}
_QUIET = {"COLUMNS": "4096", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
"""Wide lines (Aider wraps at the terminal width), and litellm's bundled price table."""
_DROPPINGS = (".aider.tags.cache.v4",)
_IDENTITY = {
    "GIT_CONFIG_COUNT": "2",
    "GIT_CONFIG_KEY_0": "user.name",
    "GIT_CONFIG_VALUE_0": "aider (aifactory)",
    "GIT_CONFIG_KEY_1": "user.email",
    "GIT_CONFIG_VALUE_1": "aider@aifactory.invalid",
}
"""A git identity from the environment: without one Aider writes a placeholder into the repository's
`.git/config` (read-only under the sandbox, and not its to change). It never commits with it."""


class AiderAgent:
    """Runs one step with Aider; see the module docstring."""

    def __init__(self, name: str, config: AgentConfig, model: str, env: Mapping[str, str]) -> None:
        self.name = name
        self._config = config
        self._model = model
        self._env = {**_QUIET, **_IDENTITY, **env}

    async def check(self) -> str:
        """Aider's version, once per binary per process; refuses a missing or too old one."""
        return await check_version(self.name, self._config.binary, self._env, RELEASE)

    async def run_step(self, job: StepJob) -> StepOutcome:
        await self.check()
        output = AiderOutput(on_tool=job.on_tool)
        started = time.monotonic()
        exit_code: int | None = None
        stderr = ""
        kept = {name for name in _DROPPINGS if (job.worktree / name).exists()}
        with tempfile.TemporaryDirectory(prefix="aifactory-aider-") as scratch:
            message = Path(scratch) / "message.md"
            message.write_text(f"{job.instructions}\n\n{job.prompt}", encoding="utf-8")
            try:
                async with asyncio.timeout(self._config.timeout):
                    async with open_confined(
                        job.sandbox,
                        self._argv(Path(scratch)),
                        worktree=job.worktree,
                        writable=[Path(scratch), *writable_state(self._config, self._env)],
                        env=self._env,
                    ) as child:
                        async for line in _lines(child.stdout):
                            output.feed(line)
                            if output.limits > self._config.retries:
                                break
                        else:
                            exit_code, stderr = await child.finish()
            except TimeoutError:
                limit = f"{self._config.timeout:.0f}s ([agents.{self.name}] timeout)"
                stderr = f"killed after the step's time limit of {limit}"
        _tidy(job.worktree, kept)
        ending = conclude(output, exit_code, stderr)
        outcome = StepOutcome(
            summary=ending.text,
            tool_calls=len(output.applied),
            usage=output.usage,
            duration_ms=round((time.monotonic() - started) * 1000),
        )
        return settle(ending, outcome, who=f"{self.name} ({self._model})", login_fix=self._login_fix)

    def _argv(self, scratch: Path) -> list[str]:
        argv = [self._config.binary, "--message-file", str(scratch / "message.md"), *_FIXED_FLAGS]
        argv += _PERMISSION_FLAGS[self._config.permission_mode]
        argv += ["--chat-history-file", str(scratch / "chat.md")]
        argv += ["--input-history-file", str(scratch / "input.txt")]
        return [*argv, "--model", self._model]

    def _login_fix(self, said: str) -> str:
        return (
            f"{self.name} was refused by its model's provider ({said}): export the provider's key "
            f"(OPENAI_API_KEY, ANTHROPIC_API_KEY, ...) and list it in [agents.{self.name}] pass_env"
        )


async def _lines(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """Lines as they arrive; one longer than the reader's buffer (64 KiB) is dropped, not fatal."""
    while True:
        try:
            line = await reader.readline()
        except ValueError:
            continue
        if not line:
            return
        yield line


def _tidy(worktree: Path, kept: set[str]) -> None:
    """Remove the caches Aider left in the worktree that were not there before the step."""
    for name in _DROPPINGS:
        if name not in kept:
            shutil.rmtree(worktree / name, ignore_errors=True)
