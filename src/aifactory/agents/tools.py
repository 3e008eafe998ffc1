"""The tools a model gets inside a worktree: read, search, edit, run a command.

Every path goes through `confine` (its refusal is answered by the `Confined` toolset), every output
is capped, and files are read as streams, so a model cannot leave its worktree, flood its context,
or make the factory load a huge file whole. Verifiers and planners get the read-only subset.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.toolsets import WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from aifactory.agents.base import ToolCall, ToolSink, ignore_tool
from aifactory.agents.confine import Refused, confine, relative
from aifactory.workspace.process import run_process
from aifactory.workspace.sandbox import NoSandbox, Sandbox, confined

_LIST_LIMIT = 400
_GIT_TIMEOUT = 60.0
_TARGETS = ("command", "path", "pattern")
"""The argument that says what a tool acted on, as the ledger lists the call."""


@dataclass
class Workspace:
    """The dependencies of every tool call: where, how long, how much, and a tally for the ledger."""

    root: Path
    command_timeout: float = 120.0
    output_cap: int = 12_000
    env: Mapping[str, str] = field(default_factory=dict)
    sandbox: Sandbox = field(default_factory=NoSandbox)
    """What keeps `run_command`'s writes in the worktree; the file tools are confined by `confine`."""
    calls: int = 0
    refusals: int = 0
    on_tool: ToolSink = ignore_tool
    """Where each call is reported as it ends (the executor's step records them in the ledger)."""


class Confined(WrapperToolset[Workspace]):
    """Counts and reports every tool call and turns a `Refused` into the model's answer, in one place."""

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Workspace], tool: ToolsetTool[Workspace]
    ) -> Any:
        ws = ctx.deps
        ws.calls += 1
        target = next((tool_args[key] for key in _TARGETS if tool_args.get(key)), "")
        ok = False
        try:
            answer = await self.wrapped.call_tool(name, tool_args, ctx, tool)
        except Refused as refusal:
            ws.refusals += 1
            answer = str(refusal)
        else:
            ok = True
        finally:
            ws.on_tool(ToolCall.of(name, target, ok=ok))
        return answer


async def list_files(ctx: RunContext[Workspace], path: str = ".", pattern: str = "") -> str:
    """List files under a directory of the repository (git-ignored files are left out).

    Args:
        path: directory relative to the repository root.
        pattern: optional glob on the relative path, e.g. "*.py" or "src/**/test_*".
    """
    ws = ctx.deps
    folder = confine(ws.root, path)
    result = await run_process(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", relative(ws.root, folder)],
        cwd=ws.root,
        env=ws.env,
        timeout_s=_GIT_TIMEOUT,
        output_cap=ws.output_cap * 4,
    )
    names = [n for n in result.output.splitlines() if n and (ws.root / n).exists()]
    if pattern:
        names = [n for n in names if fnmatch.fnmatch(n, pattern)]
    if not names:
        return f"no files under {path!r}" + (f" matching {pattern!r}" if pattern else "")
    shown = "\n".join(names[:_LIST_LIMIT])
    more = len(names) - _LIST_LIMIT
    return shown + (f"\n… {more} more; narrow the path or pattern" if more > 0 else "")


async def read_file(ctx: RunContext[Workspace], path: str, start_line: int = 1, max_lines: int = 400) -> str:
    """Read lines of a text file.

    Args:
        path: file relative to the repository root.
        start_line: first line to return, 1-based.
        max_lines: how many lines to return at most.
    """
    ws = ctx.deps
    file = confine(ws.root, path)
    if not file.is_file():
        return f"no such file: {path!r}; list_files shows what exists"
    with file.open("rb") as handle:
        if b"\0" in handle.read(8192):
            return f"{path} is a binary file of {file.stat().st_size} bytes"
    first = max(1, start_line)
    with file.open(encoding="utf-8", errors="replace") as handle:
        chosen = list(islice(handle, first - 1, first - 1 + max(1, max_lines)))
        total = first - 1 + len(chosen) + sum(1 for _ in handle)
    text = "".join(chosen)
    if len(text) > ws.output_cap:
        text = text[: ws.output_cap] + "\n… cut; read fewer lines"
    last = first + len(chosen) - 1
    return f"{path} (lines {first}-{last} of {total})\n{text}"


async def search(ctx: RunContext[Workspace], pattern: str, path: str = ".") -> str:
    """Search file contents with an extended regular expression; returns path:line:text matches.

    Args:
        pattern: extended regular expression (as for grep -E).
        path: directory or file to search, relative to the repository root.
    """
    ws = ctx.deps
    target = confine(ws.root, path)
    result = await run_process(
        ["git", "grep", "-n", "-I", "-E", "--untracked", "-e", pattern, "--", relative(ws.root, target)],
        cwd=ws.root,
        env=ws.env,
        timeout_s=_GIT_TIMEOUT,
        output_cap=ws.output_cap,
    )
    if result.exit_code == 1 and not result.output.strip():
        return f"no match for {pattern!r} under {path!r}"
    if result.exit_code not in (0, 1):
        return f"search failed: {result.output.strip()}"
    return result.output


async def write_file(ctx: RunContext[Workspace], path: str, content: str) -> str:
    """Create or overwrite a file with the given content (parent directories are created).

    Args:
        path: file relative to the repository root.
        content: the complete new content of the file.
    """
    ws = ctx.deps
    file = confine(ws.root, path)
    if file.is_dir():
        return f"{path!r} is a directory"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(content, encoding="utf-8")
    return f"wrote {relative(ws.root, file)} ({content.count(chr(10)) + 1} lines)"


async def replace_in_file(
    ctx: RunContext[Workspace], path: str, old: str, new: str, replace_all: bool = False
) -> str:
    """Replace an exact piece of text in a file.

    Args:
        path: file relative to the repository root.
        old: the exact text to replace, including indentation; must occur exactly once unless replace_all.
        new: the replacement text.
        replace_all: replace every occurrence instead of requiring exactly one.
    """
    ws = ctx.deps
    file = confine(ws.root, path)
    if not file.is_file():
        return f"no such file: {path!r}"
    text = file.read_text(encoding="utf-8")
    found = text.count(old) if old else 0
    if found == 0:
        return f"the text to replace was not found in {path}; read the file and copy it exactly"
    if found > 1 and not replace_all:
        return f"the text occurs {found} times in {path}; include more context or set replace_all"
    file.write_text(text.replace(old, new), encoding="utf-8")
    return f"replaced {found if replace_all else 1} occurrence(s) in {relative(ws.root, file)}"


async def run_command(ctx: RunContext[Workspace], command: str, timeout_seconds: float = 0) -> str:
    """Run a shell command in the repository root and return its exit code and output.

    Args:
        command: the shell command, e.g. "python -m pytest -q tests/test_report.py".
        timeout_seconds: seconds before the command is killed; 0 means the configured default.
    """
    ws = ctx.deps
    limit = ws.command_timeout if timeout_seconds <= 0 else min(timeout_seconds, ws.command_timeout)
    with confined(ws.sandbox, ["/bin/sh", "-c", command], worktree=ws.root) as argv:
        result = await run_process(argv, cwd=ws.root, env=ws.env, timeout_s=limit, output_cap=ws.output_cap)
    status = f"killed after {limit:.0f}s (timeout)" if result.timed_out else f"exit code {result.exit_code}"
    return f"{status}\n{result.output}"


READ_TOOLS = (list_files, read_file, search)
EDIT_TOOLS = (*READ_TOOLS, write_file, replace_in_file, run_command)
