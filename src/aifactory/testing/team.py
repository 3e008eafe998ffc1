"""A scripted team for tests and benchmarks: a plan of N steps, each writing one file, all verified,
and the shipped small agents answered sensibly (`agent_team.py`).

It keys on the default blueprint's prompts ("# Your step: K of N", "(Attempt aN on branch …)"), so
it works with a repository set up by `factory init`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from aifactory.testing.agent_team import LOOKUP_TERM, answer_small_agent, looked_up, mcp_lookup
from aifactory.testing.scenario import Answer, SimRequest, call_tool, reply_text
from aifactory.testing.scenarios import Rules, offers_tool


def step_of(request: SimRequest) -> int:
    """The step an executor request is about, from the latest executor prompt (a resumed session
    holds the earlier steps' prompts too)."""
    found = re.findall(r"# Your step: (\d+) of \d+", request.prompt)
    return int(found[-1]) if found else 1


def attempt_of(request: SimRequest) -> str:
    """The attempt an executor request belongs to, from the executor prompt."""
    found = re.findall(r"\(Attempt (a\d+) on branch", request.prompt)
    return found[-1] if found else "a1"


def step_file(number: int) -> str:
    return f"notes/step-{number}.txt"


def working_directory(request: SimRequest) -> str:
    """Where Claude Code runs, as its system prompt tells the model (its Write tool wants absolute paths)."""
    found = re.search(r"Primary working directory: (\S+)", request.system)
    return found.group(1) if found else "."


def execute_with_own_tools(request: SimRequest) -> Answer:
    """A step as an external agent (Claude Code) does it: its own `Write` tool, then a summary. Offered
    an MCP `lookup` tool (`mcp__NAME__lookup`), it first looks up `LOOKUP_TERM` and adds the answer."""
    number = step_of(request)
    lookup = mcp_lookup(request)
    turn = request.turns_since_user()
    if lookup and turn == 0:
        return call_tool(lookup, term=LOOKUP_TERM)
    if turn == (1 if lookup else 0):
        content = f"note {number} written by {attempt_of(request)}\n"
        content += "".join(f"{LOOKUP_TERM}: {result.content}\n" for result in request.results_since_user())
        return call_tool(
            "Write", file_path=f"{working_directory(request)}/{step_file(number)}", content=content
        )
    return reply_text(f"Wrote {step_file(number)}.")


def execute_with_shell(request: SimRequest) -> Answer:
    """A step as Codex does it: a command through its `exec_command` tool, then a summary."""
    number = step_of(request)
    if request.turns_since_user() == 0:
        content = shlex.quote(f"note {number} written by {attempt_of(request)}")
        path = step_file(number)
        command = f"mkdir -p {shlex.quote(path.rsplit('/', 1)[0])} && printf '%s\\n' {content} > {path}"
        return call_tool("exec_command", cmd=command)
    return reply_text(f"Wrote {step_file(number)}.")


def execute_as_aider(request: SimRequest) -> Answer:
    """A step as Aider asks for it: no tools, the new file as a SEARCH/REPLACE block or a whole-file
    listing, whichever edit format Aider's system prompt describes, then a summary."""
    number = step_of(request)
    content = f"note {number} written by {attempt_of(request)}\n"
    if "SEARCH/REPLACE" in request.system:
        edit = f"{step_file(number)}\n```\n<<<<<<< SEARCH\n=======\n{content}>>>>>>> REPLACE\n```"
    else:
        edit = f"{step_file(number)}\n```\n{content}```"
    return reply_text(f"I will write the note.\n\n{edit}\n\nWrote {step_file(number)}.")


def asked_by_aider(request: SimRequest) -> bool:
    """An executor's step that offers no tools: Aider's request (it reads edits from the reply's text)."""
    return not request.tools and "# Your step:" in request.prompt


def execute_with_gemini_tools(request: SimRequest) -> Answer:
    """A step as Gemini CLI does it: its `write_file` (a path in the workspace), then a summary."""
    number = step_of(request)
    if request.turns_since_user() == 0:
        content = f"note {number} written by {attempt_of(request)}\n"
        return call_tool("write_file", file_path=step_file(number), content=content)
    return reply_text(f"Wrote {step_file(number)}.")


def scripted_team(*, steps: int = 3, questions: Sequence[str] = ()) -> Rules:
    """Plans `steps` steps; step K writes `notes/step-K.txt` naming its attempt; the verifiers pass.

    The executor's step is served to the built-in agent (`write_file`, `step_done`), to Claude Code
    (`Write`, then a text answer), to Codex (`exec_command`, then a text answer), to Aider (the file
    in its edit format) and to Gemini CLI (its own `write_file`, then a text answer). A built-in agent
    offered an MCP `lookup` tool first looks up `LOOKUP_TERM` and adds the answer to its note, as
    `ledger: ANSWER`. The shipped small agents answer as `agent_team` describes.
    """
    task_list = [
        {"title": f"Write note {k}", "description": f"Write {step_file(k)}.", "files": [step_file(k)]}
        for k in range(1, steps + 1)
    ]

    def execute(request: SimRequest) -> Answer:
        number = step_of(request)
        lookup = mcp_lookup(request)
        if lookup and not request.find_results(lookup):
            return call_tool(lookup, term=LOOKUP_TERM)
        if not request.find_results("write_file"):
            content = f"note {number} written by {attempt_of(request)}\n{looked_up(request)}"
            return call_tool("write_file", path=step_file(number), content=content)
        return call_tool("step_done", summary=f"Wrote {step_file(number)}.")

    return Rules(
        (offers_tool("submit_questions"), call_tool("submit_questions", questions=list(questions))),
        (
            offers_tool("submit_plan"),
            call_tool("submit_plan", title="Write the notes", body="### Goal\nNotes."),
        ),
        (
            offers_tool("submit_task_list"),
            call_tool("submit_task_list", review="No concerns.", steps=task_list),
        ),
        (offers_tool("agent_done"), answer_small_agent),
        (offers_tool("step_done"), execute),
        (offers_tool("Write"), execute_with_own_tools),
        (offers_tool("exec_command"), execute_with_shell),
        (asked_by_aider, execute_as_aider),
        (offers_tool("write_file"), execute_with_gemini_tools),
        (
            offers_tool("submit_plan_verdict"),
            call_tool("submit_plan_verdict", verdict="pass", summary="As planned."),
        ),
        (
            offers_tool("submit_ask_verdict"),
            call_tool("submit_ask_verdict", verdict="pass", summary="As asked."),
        ),
    )
