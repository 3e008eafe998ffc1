"""Gemini CLI as an executor: `gemini -p` headless in the attempt's worktree, one run per step.

The prompt goes in on stdin (`-p ""` appends nothing to it; a plan can outgrow one command-line
argument), opening with the role's instructions, since the CLI has no flag that adds to its own system
prompt. `--skip-trust` lets it work in a fresh worktree, `--resume` carries the attempt's session on
between steps, and `--allowed-tools` lets the table's tools run unasked (deprecated for the CLI's
policy files, but still honoured by 0.61). Its stream-json output is read line by line as it arrives
(`gemini_stream.py` judges it); the process group is killed at the step's time limit, on Ctrl-C, and
when the run ends.

How often the CLI retries a 429 and how many turns it may take come only from its settings
(`general.maxAttempts`, `model.maxSessionTurns`): no flag or variable sets them, and it reads a
system settings file only when root owns it and every folder above it. So `[agents.NAME] retries`
and the step's turn limit do not reach it: the CLI may wait out a rate limit itself (up to 10 tries
by default) before it reports it, a daily quota ends its run at once (a limit either way: the step
goes to the next choice), and the step's time limit bounds the rest.
"""

from __future__ import annotations

from collections.abc import Mapping

from aifactory.agents.base import StepJob, StepOutcome
from aifactory.agents.gemini_stream import GeminiStream, conclude
from aifactory.agents.headless import run_headless, settle
from aifactory.agents.release import Release, check_version
from aifactory.agents.state import writable_state
from aifactory.config.agents import AgentConfig

TESTED_VERSION = "0.61.0"
"""The release the factory's tests run (CI installs it)."""
RELEASE = Release(
    product="Gemini CLI", minimum=(0, 61, 0), install=f"npm install -g @google/gemini-cli@{TESTED_VERSION}"
)
"""The release the parser was recorded from; older ones are refused."""


class GeminiAgent:
    """Runs one step with Gemini CLI; see the module docstring."""

    def __init__(self, name: str, config: AgentConfig, model: str, env: Mapping[str, str]) -> None:
        self.name = name
        self._config = config
        self._model = model
        self._env = dict(env)

    async def check(self) -> str:
        """The CLI's version, once per binary per process; refuses a missing or too old one."""
        return await check_version(self.name, self._config.binary, self._env, RELEASE)

    async def run_step(self, job: StepJob) -> StepOutcome:
        await self.check()
        stream = GeminiStream(on_tool=job.on_tool)
        ran = await run_headless(
            job,
            self._argv(job),
            stream,
            prompt=f"{job.instructions}\n\n{job.prompt}",
            env=self._env,
            writable=writable_state(self._config, self._env),
            limit_s=self._config.timeout,
            name=self.name,
        )
        stream.flush()
        ending = conclude(stream, ran.exited, ran.stderr)
        outcome = StepOutcome(
            summary=ending.text,
            tool_calls=stream.tool_calls,
            usage=stream.usage,
            duration_ms=ran.duration_ms,
            session_id=stream.session_id,
        )
        return settle(ending, outcome, who=f"{self.name} ({self._model})", login_fix=self._login_fix)

    def _argv(self, job: StepJob) -> list[str]:
        argv = [self._config.binary, "-p", "", "--output-format", "stream-json", "--skip-trust"]
        argv += ["--model", self._model, "--approval-mode", self._config.permission_mode]
        argv += [f"--allowed-tools={tool}" for tool in self._config.allowed_tools]
        return [*argv, "--resume", job.resume] if job.resume else argv

    def _login_fix(self, said: str) -> str:
        return (
            f"{self.name} could not log in ({said}): run `gemini` once and choose Login with Google "
            f"(its login is kept under ~/.gemini), or export GEMINI_API_KEY and add it to "
            f"[agents.{self.name}] pass_env (Vertex AI: GOOGLE_GENAI_USE_VERTEXAI=true, "
            'GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION, passed with pass_env = ["GOOGLE_*"])'
        )
