"""A small agent's definition: `.factory/blueprint/agents/NAME.md`, a TOML header between `+++` lines,
then its prompt (Jinja `system` and `task` blocks, rendered strictly by `store.Blueprint`).

The header says what the agent is for, the inputs its prompt takes, what it produces, the tools it may
use, the models it prefers and the project commands its change must still pass. The file is the
user's to edit like any prompt, so it is read strictly: a malformed header is an `AgentFileError`
naming the file, the line, the field and the fix, never an agent quietly run wrong.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aifactory.config import ModelRef
from aifactory.config.load import locate
from aifactory.config.mcp import GRANT_PREFIX, parse_grants
from aifactory.errors import AgentFileError, NotFoundError

AGENTS_DIR = "agents"
DELIMITER = "+++"
_OPENING = re.compile(r"\A\+\+\+[ \t]*\r?\n")
_CLOSING = re.compile(r"^\+\+\+[ \t]*\r?$", re.MULTILINE)
_FORMAT = "agents/README.md describes every field"

Tool = Literal["list", "read", "search", "write", "replace", "run_command"]
BUILTIN_TOOLS: tuple[Tool, ...] = get_args(Tool)
ProjectCommand = Literal["test", "lint"]
FACTORY_INPUTS = ("files", "diff", "style", "replacements")
"""Inputs the factory fills itself: the files to work on, the change's diff, `style.md`, and the
librarian's candidates; any other input an agent names comes from its caller (`--input KEY=VALUE`)."""


class AgentOutput(StrEnum):
    """What running the agent leaves: a commit of its changes, or only its report."""

    COMMIT = "commit"
    REPORT = "report"


class AgentSpec(BaseModel):
    """The header of an agent file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    inputs: tuple[str, ...]
    output: AgentOutput
    tools: tuple[str, ...]
    """Built-in tools by name, and MCP tools granted as `mcp:NAME` (a server's every tool) or
    `mcp:NAME.TOOL` (one), from the servers `[mcp_servers.NAME]` configures."""
    models: tuple[str, ...] = ()
    """`provider:model` choices, first available first; none means the executor's provider choices."""
    checks: tuple[ProjectCommand, ...] = ()
    """Project commands (`[commands]`) that must still pass after the agent's change, or it is dropped."""

    @field_validator("models")
    @classmethod
    def _models(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(ModelRef.parse(item)) for item in value)

    @field_validator("tools")
    @classmethod
    def _tools(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if item.startswith(GRANT_PREFIX):
                parse_grants([item])
            elif item not in BUILTIN_TOOLS:
                raise ValueError(
                    f"unknown tool {item!r}: use {', '.join(BUILTIN_TOOLS)}, or mcp:NAME / mcp:NAME.TOOL "
                    "for the tools of the MCP server [mcp_servers.NAME]"
                )
        return value

    @property
    def builtin_tools(self) -> tuple[Tool, ...]:
        return tuple(item for item in self.tools if item in BUILTIN_TOOLS)

    @property
    def mcp_grants(self) -> tuple[str, ...]:
        """The MCP allow-list (`NAME` or `NAME.TOOL`) its `mcp:` entries make."""
        return parse_grants(item for item in self.tools if item.startswith(GRANT_PREFIX))

    @model_validator(mode="after")
    def _commit_needs_an_editing_tool(self) -> AgentSpec:
        if self.output is AgentOutput.COMMIT and not {"write", "replace"} & set(self.tools):
            raise ValueError('an agent whose output is "commit" needs "write" or "replace" among its tools')
        return self


@dataclass(frozen=True)
class AgentDefinition:
    """An agent's name (its file's stem), where it is defined, and its header."""

    name: str
    path: Path
    spec: AgentSpec

    @property
    def template(self) -> str:
        """The file's name inside the blueprint, as `Blueprint.agent_prompt` renders it."""
        return f"{AGENTS_DIR}/{self.name}.md"


def parse(text: str, path: Path) -> AgentDefinition:
    """Read an agent file's text; `path` names it in errors and its stem is the agent's name."""
    opening = _OPENING.match(text)
    if opening is None:
        raise AgentFileError(
            f"the file does not start with a `{DELIMITER}` line: an agent is a TOML header between "
            f"`{DELIMITER}` lines, then its prompt; {_FORMAT}",
            path=path,
            field="header",
            line=1,
        )
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        raise AgentFileError(
            f"the header has no closing `{DELIMITER}` line: add one after the header, then the prompt",
            path=path,
            field="header",
        )
    header_text = text[opening.end() : closing.start()]
    header = _toml(header_text, path)
    if "{% block task %}" not in text[closing.end() :].replace("{%- block task", "{% block task"):
        raise AgentFileError(
            "the prompt has no {% block task %}: write the agent's request in one below the header "
            "(and its standing instructions in a {% block system %})",
            path=path,
            field="prompt",
            line=text.count("\n", 0, closing.start()) + 2,
        )
    try:
        spec = AgentSpec.model_validate(header)
    except ValidationError as error:
        raise _explain(error, header_text, path) from None
    return AgentDefinition(name=path.stem, path=path, spec=spec)


def read(path: Path) -> AgentDefinition:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise AgentFileError(
            f"cannot be read ({error}); an agent file is UTF-8 text", path=path, field="file"
        ) from None
    return parse(text, path)


class AgentShelf:
    """The agent files under one blueprint's `agents/` folder."""

    def __init__(self, blueprint_root: Path) -> None:
        self.root = blueprint_root / AGENTS_DIR

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(path.stem for path in self.root.glob("*.md") if path.stem != "README")

    def load(self, name: str) -> AgentDefinition:
        """The agent called `name`; an unknown name is a `NotFoundError` listing the known ones."""
        path = self.root / f"{name}.md"
        if name == "README" or not path.is_file():
            known = ", ".join(self.names()) or "none (run `factory init` to install the shipped agents)"
            raise NotFoundError(
                f"no agent named {name!r} (known: {known}); an agent is a file {self.root}/NAME.md"
            )
        return read(path)


def _toml(header_text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(header_text)
    except tomllib.TOMLDecodeError as error:
        where = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = str(error).split(" (at ")[0]
        raise AgentFileError(
            f"not valid TOML: {message}; {_FORMAT}",
            path=path,
            field="header",
            line=int(where.group(1)) + 1 if where else None,
        ) from None


def _explain(error: ValidationError, header_text: str, path: Path) -> AgentFileError:
    """Pydantic's first complaint as `field: problem and fix`, at the header line that sets the field."""
    first = error.errors()[0]
    loc = [part for part in first["loc"] if isinstance(part, str)]
    kind = first["type"]
    if kind == "missing":
        problem = f"missing: add it to the header ({_FORMAT})"
    elif kind == "extra_forbidden":
        problem = f"unknown field; check its spelling ({_FORMAT})"
    elif kind == "value_error":
        problem = first["msg"].removeprefix("Value error, ")
    else:
        problem = f"{first['msg']} (got {first['input']!r})"
    line = locate(header_text, tuple(loc)) if loc else None
    field = ".".join(loc) or ("tools" if "editing tool" in problem else "header")
    if field == "tools" and line is None:
        line = locate(header_text, ("tools",))
    return AgentFileError(problem, path=path, field=field, line=None if line is None else line + 1)
