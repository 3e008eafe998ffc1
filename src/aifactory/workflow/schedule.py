"""Deciding what a workflow does next, from what its steps have done so far. Pure: no I/O.

A step instance starts as soon as every step it depends on is done; a step depending on one that
failed (or was skipped) is skipped, so a failure stops its dependents only. A fan-out step's
instances are known once its list is: an input at once, another step's output when that is done.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from aifactory.domain.workflow import WorkflowStepState, instance_key
from aifactory.workflow.model import StepSpec, Workflow
from aifactory.workflow.validate import dependencies

Outputs = dict[str, Any]


@dataclass(frozen=True)
class Record:
    """What the ledger holds of one step instance."""

    step: str
    state: WorkflowStepState
    outputs: Outputs
    reason: str = ""


@dataclass(frozen=True)
class Instance:
    """One run of a step: the step itself, or one item of its fan-out."""

    step: StepSpec
    index: int | None = None
    item: str | None = None

    @property
    def key(self) -> str:
        return instance_key(self.step.id, self.index)


@dataclass(frozen=True)
class Moves:
    start: list[Instance]
    skip: list[tuple[Instance, str]]


def step_state(
    step: StepSpec, items: list[str] | None, records: Mapping[str, Record]
) -> WorkflowStepState | None:
    """A whole step's state: failed if any instance failed or was skipped, done when all are; None
    while it is unfinished (or its fan-out list is not known yet)."""
    mine = [record for record in records.values() if record.step == step.id]
    if any(r.state in (WorkflowStepState.FAILED, WorkflowStepState.SKIPPED) for r in mine):
        return WorkflowStepState.FAILED
    keys = (
        [step.id]
        if step.for_each is None
        else None
        if items is None
        else [instance_key(step.id, i) for i in range(len(items))]
    )
    if keys is not None and all(k in records and records[k].state is WorkflowStepState.DONE for k in keys):
        return WorkflowStepState.DONE
    return None


def step_outputs(step: StepSpec, items: list[str] | None, records: Mapping[str, Record]) -> Outputs:
    """A done step's outputs; a fan-out's are lists, one entry per item, in item order."""
    if step.for_each is None:
        return records[step.id].outputs
    results = [records[instance_key(step.id, i)].outputs for i in range(len(items or []))]
    names = {name for outputs in results for name in outputs}
    return {name: [outputs.get(name) for outputs in results] for name in sorted(names)}


def values(workflow: Workflow, inputs: Mapping[str, Any], records: Mapping[str, Record]) -> dict[str, Any]:
    """What templates see: `inputs`, and `steps.ID.outputs` of every done step."""
    done: dict[str, Any] = {}
    for step in _in_order(workflow):
        items = items_of(step, inputs, done)
        if step_state(step, items, records) is WorkflowStepState.DONE:
            done[step.id] = {"outputs": step_outputs(step, items, records)}
    return {"inputs": dict(inputs), "steps": done}


def items_of(step: StepSpec, inputs: Mapping[str, Any], done: Mapping[str, Any]) -> list[str] | None:
    """The items a fan-out step runs over, once known; None if it has no fan-out or it is not known."""
    if step.for_each is None:
        return None
    parts = step.for_each.split(".")
    if parts[0] == "inputs":
        return [str(item) for item in inputs[parts[1]]]
    source = done.get(parts[1])
    if source is None:
        return None
    found = source["outputs"][parts[3]]
    return [str(item) for item in found]


def next_moves(
    workflow: Workflow, inputs: Mapping[str, Any], records: Mapping[str, Record], running: Set[str]
) -> Moves:
    """Instances to start now (not done, not running, all they depend on done) and to skip."""
    known = values(workflow, inputs, records)["steps"]
    start: list[Instance] = []
    skip: list[tuple[Instance, str]] = []
    states = {
        step.id: step_state(step, items_of(step, inputs, known), records) for step in workflow.spec.steps
    }
    for step in workflow.spec.steps:
        needs = dependencies(step)
        broken = sorted(need for need in needs if states.get(need) is WorkflowStepState.FAILED)
        if broken:
            if step.id not in {r.step for r in records.values()}:
                skip.append((Instance(step), f"it needs {', '.join(broken)}, which did not finish"))
            continue
        if not all(states.get(need) is WorkflowStepState.DONE for need in needs):
            continue
        items = items_of(step, inputs, known)
        pending = (
            [Instance(step)] if items is None else [Instance(step, i, item) for i, item in enumerate(items)]
        )
        for instance in pending:
            record = records.get(instance.key)
            if instance.key not in running and (record is None or record.state is WorkflowStepState.RUNNING):
                start.append(instance)
    return Moves(start=start, skip=skip)


def finished(workflow: Workflow, inputs: Mapping[str, Any], records: Mapping[str, Record]) -> bool:
    """Whether every step is done, failed or skipped: nothing is left to start."""
    known = values(workflow, inputs, records)["steps"]
    return all(
        step_state(step, items_of(step, inputs, known), records) is not None for step in workflow.spec.steps
    )


def _in_order(workflow: Workflow) -> list[StepSpec]:
    """Steps with their dependencies first, so a fan-out's source is known before the fan-out."""
    ordered: list[StepSpec] = []
    placed: set[str] = set()
    remaining = list(workflow.spec.steps)
    while remaining:
        ready = [s for s in remaining if dependencies(s) <= placed] or remaining[:1]
        for step in ready:
            ordered.append(step)
            placed.add(step.id)
            remaining.remove(step)
    return ordered
