"""A workflow file as typed data: its inputs, its steps and their edges, its outputs.

Only the shape is checked here (pydantic, while reading the file); what needs the whole graph
(cycles, references, kinds' required fields) is `validate.py`'s, so every problem gets a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

InputType = Literal["file", "text", "list"]
StepKindName = Literal["agent", "role", "run", "shell"]
Workspace = Literal["shared", "own"]

STEP_ID = re.compile(r"[a-z_][a-z0-9_]*")
"""Step ids are Jinja attribute names (`steps.split.outputs.lines`), so no hyphens."""

OUTPUTS: dict[str, frozenset[str]] = {
    "shell": frozenset({"stdout", "lines", "commit"}),
    "role": frozenset({"text", "lines"}),
    "run": frozenset({"commit", "branch", "run_id"}),
    "agent": frozenset({"commit", "report"}),
}
"""What each kind of step produces; a fan-out step produces the same names, as lists."""

LIST_OUTPUTS = frozenset({"lines"})
"""Outputs that are lists, so a later step may fan out over them."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(_Strict):
    type: InputType = "text"
    required: bool = True
    default: str | list[str] | None = None
    description: str = ""

    @property
    def optional(self) -> bool:
        return not self.required or self.default is not None


class StepSpec(_Strict):
    id: str
    kind: StepKindName
    needs: tuple[str, ...] = ()
    for_each: str | None = None
    """`inputs.NAME` (a list input) or `steps.ID.outputs.lines`: one instance of the step per item."""
    workspace: Workspace = "shared"
    description: str = ""
    command: str = ""
    """shell: run with /bin/sh in the step's worktree."""
    timeout: float = Field(default=600.0, gt=0)
    agent: str = ""
    """agent: a small agent's name, `.factory/blueprint/agents/NAME.md`."""
    files: tuple[str, ...] = ()
    inputs: dict[str, str] = Field(default_factory=dict)
    role: str = ""
    """role: whose model answers (`planner`, ...)."""
    prompt: str = ""
    ask: str = ""
    """run: the ask a `factory run` plans and runs, rendered with the workflow's values."""
    context: tuple[str, ...] = ()
    attempts: int = Field(default=1, ge=1, le=16)

    def templates(self) -> dict[str, str]:
        """Every field rendered with Jinja, by name, for validation to read their references."""
        fields = {"command": self.command, "prompt": self.prompt, "ask": self.ask}
        fields |= {f"files[{i}]": text for i, text in enumerate(self.files)}
        fields |= {f"context[{i}]": text for i, text in enumerate(self.context)}
        fields |= {f"inputs.{name}": text for name, text in self.inputs.items()}
        return {name: text for name, text in fields.items() if text}


class OutputSpec(_Strict):
    files: tuple[str, ...] = ()
    """Glob patterns that must match files on the workflow's branch when it ends."""


class WorkflowSpec(_Strict):
    description: str = ""
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    steps: tuple[StepSpec, ...] = ()
    outputs: OutputSpec = OutputSpec()


@dataclass(frozen=True)
class Workflow:
    """A workflow read from its file, with the text kept so problems can name their line."""

    name: str
    path: Path
    text: str
    spec: WorkflowSpec

    def step(self, step_id: str) -> StepSpec:
        return next(step for step in self.spec.steps if step.id == step_id)
