"""OpenAI's Codex CLI as an executor: `codex exec --json` headless in the attempt's worktree, per step.

The prompt goes in on stdin (`-`: a plan can outgrow one command-line argument), the role's
instructions become codex's `developer_instructions`, and `codex exec resume SESSION` carries the
session of the attempt's previous step on. Codex's sandbox (`permission_mode`: `workspace-write`
by default) confines the commands the model runs to the worktree. Its JSONL events are read line by
line as they arrive (`codex_stream.py` judges them); the process group is killed at the step's time
limit, on Ctrl-C, and when the run ends.

Codex finds its login and settings in `$CODEX_HOME` (`~/.codex` by default): `codex login` there
(the ChatGPT plan) or `CODEX_API_KEY` (passed by default) bills the user's own account, and a custom
`model_provider` in its `config.toml` points it at another server. The factory never writes in that
directory (it only creates a missing one, for the sandbox to bind it writable): a table that wants
another one (a second account, an offline server) sets `env.CODEX_HOME`. Codex's own retries are
its provider's `request_max_retries` and `stream_max_retries`, set there too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aifactory.agents.base import StepJob, StepOutcome
from aifactory.agents.codex_stream import CodexStream, conclude
from aifactory.agents.headless import run_headless, settle
from aifactory.agents.release import Release, check_version
from aifactory.agents.state import writable_state
from aifactory.config.agents import AgentConfig

TESTED_VERSION = "0.169.0"
"""The release the factory's tests run (CI installs it)."""
RELEASE = Release(
    product="Codex CLI", minimum=(0, 169, 0), install=f"npm install -g @openai/codex@{TESTED_VERSION}"
)
"""The release the parser was recorded from; older ones are refused."""


class CodexAgent:
    """Runs one step with the Codex CLI; see the module docstring."""

    def __init__(self, name: str, config: AgentConfig, model: str, env: Mapping[str, str]) -> None:
        self.name = name
        self._config = config
        self._model = model
        # Codex prints a usage limit's reset time in local time: in UTC it reads unambiguously.
        self._env = {**env, "TZ": "UTC"}

    async def check(self) -> str:
        """The CLI's version, once per binary per process; refuses a missing or too old one."""
        return await check_version(self.name, self._config.binary, self._env, RELEASE)

    async def run_step(self, job: StepJob) -> StepOutcome:
        await self.check()
        stream = CodexStream(on_tool=job.on_tool, root=str(job.worktree))
        ran = await run_headless(
            job,
            self._argv(job),
            stream,
            prompt=job.prompt,
            env=self._env,
            writable=writable_state(self._config, self._env),
            limit_s=self._config.timeout,
            name=self.name,
        )
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
        """`codex exec [resume SESSION]`; the sandbox as a setting, since `resume` has no `--sandbox`."""
        argv = [self._config.binary, "exec", *(["resume"] if job.resume else [])]
        argv += ["--json", "--skip-git-repo-check", "--model", self._model]
        argv += ["-c", f"sandbox_mode={_toml_string(self._config.permission_mode)}"]
        argv += ["-c", f"developer_instructions={_toml_string(job.instructions)}"]
        argv += ["-c", "check_for_update_on_startup=false"]
        if job.sandbox.name != "none":
            # Codex's own bwrap would make /tmp writable, which the factory's sandbox keeps read-only;
            # its commands keep the worktree and the step's TMPDIR.
            argv += ["-c", "sandbox_workspace_write.exclude_slash_tmp=true"]
        return [*argv, *([job.resume] if job.resume else []), "-"]

    def _login_fix(self, said: str) -> str:
        return (
            f"{self.name} could not log in ({said}): run `codex login` for the ChatGPT plan, or export "
            f"CODEX_API_KEY (passed on by default) to bill an API key; codex keeps its login in "
            f"$CODEX_HOME (~/.codex unless [agents.{self.name}] env.CODEX_HOME says otherwise)"
        )


def _toml_string(text: str) -> str:
    """`text` as a TOML basic string: codex takes a `-c` value that is not valid TOML as raw text."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
