"""How the simulated team answers the shipped small agents' prompts, each through `agent_done`.

It keys on the default blueprint's agent prompts ("You are the style sweeper of a software factory",
"# The files to sweep", "Use instead: …", a diff's `+++ b/PATH` lines), so tests, workflows and the
MCP server's tests share one set of sensible answers:

- style-sweeper: applies "no commented-out code" (a `#` line that is a statement) to its files;
- librarian: rewrites each candidate ast-grep found into the first `code` the entry's `use` quotes;
- test-writer: writes `tests/test_STEM.py` for each changed file, checking it is in place;
- doc-writer: writes `docs/changes.md`, one line per changed file (and what an MCP `lookup` said).

The conversation is read statelessly: which files were read or written so far comes from the tool
calls the request already holds.
"""

from __future__ import annotations

import re
from typing import Any

from aifactory.testing.scenario import Answer, SimRequest, call_tool

DOC_FILE = "docs/changes.md"
LOOKUP_TERM = "ledger"
"""What an executor or a small agent looks up when it is offered an MCP glossary tool (the test MCP
server's `lookup`); the note or document it writes then holds `ledger: ANSWER`."""
_ROLES = {
    "style sweeper": "style-sweeper",
    "librarian": "librarian",
    "test writer": "test-writer",
    "documentation writer": "doc-writer",
}
_COMMENTED_CODE = re.compile(r"^\s*#\s*(?:[A-Za-z_][\w.]*\s*\(.*\)|[A-Za-z_][\w.]*\s*=[^=].*|return\b.*)$")
"""A comment line that is a call, an assignment or a return: code someone commented out."""


def mcp_lookup(request: SimRequest) -> str | None:
    """The MCP `lookup` tool the request offers under its prefixed name (`NAME__lookup`, or
    `mcp__NAME__lookup` in Claude Code), if any."""
    return next((name for name in request.tools if name.endswith("__lookup")), None)


def looked_up(request: SimRequest) -> str:
    """`ledger: ANSWER` lines for the lookups made so far (the latest), or ""."""
    lookup = mcp_lookup(request)
    found = request.find_results(lookup) if lookup else ()
    return "".join(f"{LOOKUP_TERM}: {result.content}\n" for result in found[-1:])


def small_agent_of(request: SimRequest) -> str | None:
    """The shipped agent a request comes from, by the opening of its system prompt."""
    found = re.search(r"You are the ([a-z ]+?) of a software factory", request.system)
    return _ROLES.get(found.group(1)) if found else None


def tool_calls(request: SimRequest, name: str) -> list[tuple[dict[str, Any], str]]:
    """Each call to `name` in the conversation so far with its result's text, oldest first."""
    results = {r.call_id: r.content for m in request.messages for r in m.tool_results}
    return [
        (call.args, results.get(call.id, ""))
        for m in request.messages
        for call in m.tool_calls
        if call.name == name
    ]


def sweep(text: str) -> str:
    """The style rule the simulated sweeper applies: commented-out code lines are removed."""
    return "".join(line for line in text.splitlines(keepends=True) if not _COMMENTED_CODE.match(line))


def changed_files(request: SimRequest) -> list[str]:
    """The files an agent is asked about: the diff's new paths, else the listed files."""
    in_diff = re.findall(r"^\+\+\+ b/(\S+)$", request.prompt, re.MULTILINE)
    return list(dict.fromkeys(in_diff)) or re.findall(r"^- (\S+)$", request.prompt, re.MULTILINE)


def _listed_after(request: SimRequest, heading: str) -> list[str]:
    section = request.prompt.partition(heading)[2].partition("\n# ")[0]
    return re.findall(r"^- (\S+)$", section, re.MULTILINE)


def _done(summary: str, notes: list[str], **extra: object) -> Answer:
    return call_tool("agent_done", summary=summary, notes=notes, **extra)


def answer_sweeper(request: SimRequest) -> Answer:
    """Read each file, write back the swept ones, then report one note per file changed."""
    files = _listed_after(request, "# The files to sweep")
    read = {args["path"]: result.partition("\n")[2] for args, result in tool_calls(request, "read_file")}
    if unread := [path for path in files if path not in read]:
        return call_tool("read_file", path=unread[0])
    written = {args["path"] for args, _ in tool_calls(request, "write_file")}
    swept = [path for path in files if sweep(read[path]) != read[path]]
    if pending := [path for path in swept if path not in written]:
        return call_tool("write_file", path=pending[0], content=sweep(read[pending[0]]))
    notes = [f"{path}: removed commented-out code (no commented-out code)" for path in swept]
    return _done(f"Swept {len(swept)} file(s)." if swept else "The files already follow the rules.", notes)


def answer_librarian(request: SimRequest) -> Answer:
    """Replace each candidate's text with the code its entry's `use` quotes, then report each."""
    wanted = []
    for entry in request.prompt.split("\n## ")[1:]:
        use = re.search(r"^Use instead: (.+)$", entry, re.MULTILINE)
        if use is None:
            continue
        quoted = re.search(r"`([^`]+)`", use.group(1))
        after = quoted.group(1) if quoted else use.group(1).strip()
        for path, line, before in re.findall(r"^- (\S+?):(\d+): `(.*)`$", entry, re.MULTILINE):
            wanted.append({"file": path, "line": int(line), "before": before, "after": after})
    made = len(tool_calls(request, "replace_in_file"))
    if made < len(wanted):
        item = wanted[made]
        return call_tool("replace_in_file", path=item["file"], old=item["before"], new=item["after"])
    return _done(f"Made {len(wanted)} replacement(s).", [], replacements=wanted)


def written_test_of(path: str) -> str:
    """Where the simulated test-writer puts the test of `path`."""
    stem = re.sub(r"\W", "_", path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    return f"tests/test_{stem}.py"


def answer_test_writer(request: SimRequest) -> Answer:
    """Write a test per changed file that checks the file is in place, then report each."""
    files = [path for path in changed_files(request) if not path.startswith("tests/")]
    written = {args["path"] for args, _ in tool_calls(request, "write_file")}
    for path in files:
        if written_test_of(path) not in written:
            name = re.sub(r"\W", "_", path)
            content = (
                f'"""Tests for {path}, written by the test-writer."""\n\n'
                "from pathlib import Path\n\n\n"
                f"def test_{name}_is_in_place() -> None:\n"
                f'    assert (Path(__file__).resolve().parents[1] / "{path}").is_file()\n'
            )
            return call_tool("write_file", path=written_test_of(path), content=content)
    notes = [f"{written_test_of(path)}: tests {path}" for path in files]
    return _done(f"Wrote {len(files)} test file(s).", notes)


def answer_doc_writer(request: SimRequest) -> Answer:
    """Write `docs/changes.md` listing the changed files, then report it."""
    files = changed_files(request)
    if not tool_calls(request, "write_file"):
        lines = "".join(f"- `{path}` changed; see its history for why.\n" for path in files)
        glossary = looked_up(request)
        content = f"# What changed\n\n{lines}" + (f"\n## Glossary\n\n{glossary}" if glossary else "")
        return call_tool("write_file", path=DOC_FILE, content=content)
    return _done("Documented the change.", [f"{DOC_FILE}: lists {len(files)} changed file(s)"])


ANSWERS = {
    "style-sweeper": answer_sweeper,
    "librarian": answer_librarian,
    "test-writer": answer_test_writer,
    "doc-writer": answer_doc_writer,
}


def answer_small_agent(request: SimRequest) -> Answer:
    """The answer of the shipped agent the request comes from; another agent is told nothing needs doing.

    An agent offered an MCP `lookup` tool first looks `LOOKUP_TERM` up (the doc-writer documents it).
    """
    lookup = mcp_lookup(request)
    if lookup and not request.find_results(lookup):
        return call_tool(lookup, term=LOOKUP_TERM)
    answer = ANSWERS.get(small_agent_of(request) or "")
    return answer(request) if answer else _done("Nothing needed doing.", [])
