"""Checking a workflow as a whole before anything runs: every problem with its file and line.

Pure: it reads the parsed file and the names of the small agents, and returns problems; nothing
is run. `factory workflow validate` prints them all; `factory workflow run` refuses on the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Set
from dataclasses import dataclass
from functools import partial

from aifactory.domain.run import Role
from aifactory.workflow.lines import step_line, table_line
from aifactory.workflow.load import WorkflowError
from aifactory.workflow.model import LIST_OUTPUTS, OUTPUTS, STEP_ID, StepSpec, Workflow

_EXPRESSION = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.DOTALL)
_INPUT = re.compile(r"\binputs\.([A-Za-z_]\w*)")
_STEP = re.compile(r"\bsteps\.([A-Za-z_]\w*)(?:\.outputs\.([A-Za-z_]\w*))?")
_ITEM = re.compile(r"(?<![.\w])item\b")
_At = Callable[[str | None], int | None]
"""The line of a key (None: the table) in one step's `[[steps]]` table."""

_REQUIRED = {"shell": "command", "agent": "agent", "role": "prompt", "run": "ask"}


@dataclass(frozen=True)
class Reference:
    """What a step's templates and `for_each` read: inputs, other steps' outputs, the item."""

    inputs: frozenset[tuple[str, str]]
    outputs: frozenset[tuple[str, str | None, str]]
    item: bool


def references(step: StepSpec) -> Reference:
    """(name, field) of inputs, (step, output, field) of outputs, and whether `{{ item }}` is used."""
    inputs: set[tuple[str, str]] = set()
    outputs: set[tuple[str, str | None, str]] = set()
    item = False
    for field, text in step.templates().items():
        for match in _EXPRESSION.finditer(text):
            expression = match.group(1) or match.group(2) or ""
            inputs |= {(name, field) for name in _INPUT.findall(expression)}
            outputs |= {(sid, out or None, field) for sid, out in _STEP.findall(expression)}
            item = item or bool(_ITEM.search(expression))
    return Reference(frozenset(inputs), frozenset(outputs), item)


def dependencies(step: StepSpec) -> set[str]:
    """The steps this one waits for: its `needs`, the steps its templates read, its fan-out source."""
    found = set(step.needs) | {sid for sid, _, _ in references(step).outputs}
    source = (step.for_each or "").split(".")
    if len(source) > 1 and source[0] == "steps":
        found.add(source[1])
    return found


def validate(workflow: Workflow, agents: Set[str] | None) -> list[WorkflowError]:
    """Every problem of `workflow`; `agents` are the small agents' names (None: no agents folder)."""
    return [*_inputs(workflow), *_steps(workflow, agents), *_cycles(workflow)]


def _error(workflow: Workflow, message: str, line: int | None) -> WorkflowError:
    return WorkflowError(message, path=workflow.path, line=line)


def _inputs(workflow: Workflow) -> Iterator[WorkflowError]:
    for name, spec in workflow.spec.inputs.items():
        default = spec.default
        if default is not None and isinstance(default, list) != (spec.type == "list"):
            line = table_line(workflow.text, "inputs", name, "default")
            wanted = "a list of strings" if spec.type == "list" else "a string"
            yield _error(
                workflow,
                f"type mismatch: input {name} is of type {spec.type}, its default must be {wanted}",
                line,
            )


def _steps(workflow: Workflow, agents: Set[str] | None) -> Iterator[WorkflowError]:
    seen: set[str] = set()
    ids = {step.id for step in workflow.spec.steps}
    for index, step in enumerate(workflow.spec.steps):
        at: _At = partial(step_line, workflow.text, index)
        if not STEP_ID.fullmatch(step.id):
            yield _error(workflow, f"step id {step.id!r}: use lower-case letters, digits and _", at("id"))
        if step.id in seen:
            yield _error(workflow, f"step id {step.id!r} is used twice; give each step its own id", at("id"))
        seen.add(step.id)
        for need in step.needs:
            if need not in ids:
                yield _error(
                    workflow, f"step {step.id} needs {need!r}, which is no step of this workflow", at("needs")
                )
        required = _REQUIRED[step.kind]
        if not getattr(step, required):
            yield _error(workflow, f"step {step.id}: a {step.kind} step needs `{required}`", at(None))
        yield from _kind(workflow, step, agents, at)
        yield from _references(workflow, step, at)
        yield from _fan_out(workflow, step, at)


def _kind(workflow: Workflow, step: StepSpec, agents: Set[str] | None, at: _At) -> Iterator[WorkflowError]:
    if step.kind == "agent" and step.agent and (agents is None or step.agent not in agents):
        known = ", ".join(sorted(agents)) if agents else "none: .factory/blueprint/agents/ holds no NAME.md"
        yield _error(
            workflow, f"step {step.id}: unknown agent {step.agent!r}; agents defined: {known}", at("agent")
        )
    if step.kind == "role" and step.role not in {role.value for role in Role}:
        known = ", ".join(role.value for role in Role)
        yield _error(workflow, f"step {step.id}: unknown role {step.role!r}; roles: {known}", at("role"))


def _references(workflow: Workflow, step: StepSpec, at: _At) -> Iterator[WorkflowError]:
    found = references(step)
    for name, field in sorted(found.inputs):
        if name not in workflow.spec.inputs:
            yield _error(
                workflow,
                f"step {step.id}: {field} uses missing input {name!r}; declare [inputs.{name}]",
                at(field.split("[")[0].split(".")[0]),
            )
    kinds = {other.id: other.kind for other in workflow.spec.steps}
    for sid, output, field in sorted(found.outputs, key=str):
        line = at(field.split("[")[0].split(".")[0])
        if sid not in kinds:
            yield _error(
                workflow,
                f"step {step.id}: {field} reads step {sid!r}, which is no step of this workflow",
                line,
            )
        elif output is None:
            yield _error(
                workflow,
                f"step {step.id}: {field} reads steps.{sid}; name an output: steps.{sid}.outputs.NAME",
                line,
            )
        elif output not in OUTPUTS[kinds[sid]]:
            made = ", ".join(sorted(OUTPUTS[kinds[sid]]))
            yield _error(
                workflow,
                f"step {step.id}: {field} needs output {output!r} of step {sid}, which nobody produces "
                f"(a {kinds[sid]} step produces {made})",
                line,
            )
    if found.item and step.for_each is None:
        yield _error(
            workflow, f"step {step.id}: uses {{{{ item }}}} but has no for_each to take items from", at(None)
        )


def _fan_out(workflow: Workflow, step: StepSpec, at: _At) -> Iterator[WorkflowError]:
    if step.for_each is None:
        return
    parts = step.for_each.split(".")
    line = at("for_each")
    if parts[0] == "inputs" and len(parts) == 2:
        spec = workflow.spec.inputs.get(parts[1])
        if spec is None:
            yield _error(
                workflow,
                f"step {step.id}: for_each uses missing input {parts[1]!r}; declare [inputs.{parts[1]}]",
                line,
            )
        elif spec.type != "list":
            yield _error(
                workflow,
                f"type mismatch: step {step.id} fans out over inputs.{parts[1]}, a {spec.type} input; "
                'for_each needs a list (declare it with type = "list")',
                line,
            )
        return
    if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
        source = next((other for other in workflow.spec.steps if other.id == parts[1]), None)
        if source is None:
            yield _error(
                workflow,
                f"step {step.id}: for_each reads step {parts[1]!r}, which is no step of this workflow",
                line,
            )
        elif parts[3] not in OUTPUTS[source.kind]:
            yield _error(
                workflow,
                f"step {step.id}: for_each needs output {parts[3]!r} of step {parts[1]}, "
                "which nobody produces",
                line,
            )
        elif parts[3] not in LIST_OUTPUTS and source.for_each is None:
            yield _error(
                workflow,
                f"type mismatch: step {step.id} fans out over {step.for_each}, which is not a list; "
                f"use steps.{parts[1]}.outputs.lines",
                line,
            )
        return
    yield _error(
        workflow,
        f"step {step.id}: for_each must be inputs.NAME or steps.ID.outputs.NAME, got {step.for_each!r}",
        line,
    )


def _cycles(workflow: Workflow) -> Iterator[WorkflowError]:
    """Each cycle once, named in order (`a → b → a`), at the `needs` line of its first step."""
    graph = {step.id: sorted(dependencies(step)) for step in workflow.spec.steps}
    index = {step.id: number for number, step in enumerate(workflow.spec.steps)}
    done: set[str] = set()
    reported: set[frozenset[str]] = set()

    def visit(node: str, path: list[str]) -> Iterator[list[str]]:
        if node in path:
            yield [*path[path.index(node) :], node]
            return
        if node in done or node not in graph:
            return
        for need in graph[node]:
            yield from visit(need, [*path, node])
        done.add(node)

    for start in graph:
        for cycle in visit(start, []):
            members = frozenset(cycle)
            if members not in reported:
                reported.add(members)
                order = list(reversed(cycle))
                line = step_line(workflow.text, index[order[0]], "needs")
                yield _error(workflow, f"cycle: {' → '.join(order)}; a step cannot wait for itself", line)
