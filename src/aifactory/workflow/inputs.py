"""A workflow's input values from `--input KEY=VALUE` arguments, checked against its declared inputs.

`@path` reads a file: a `file` input takes its absolute path (steps work in other worktrees), a
`list` input its non-empty lines; a `list` input given more than once collects every value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aifactory.errors import UserError
from aifactory.workflow.model import Workflow


def read_inputs(workflow: Workflow, given: Sequence[str], root: Path) -> dict[str, str | list[str]]:
    declared = workflow.spec.inputs
    values: dict[str, str | list[str]] = {}
    lists: dict[str, list[str]] = {}
    for argument in given:
        key, sep, raw = argument.partition("=")
        if not sep or key not in declared:
            known = ", ".join(declared) or "none"
            raise UserError(
                f"--input {argument!r}: use KEY=VALUE with KEY one of {workflow.name}'s inputs: {known}"
            )
        spec = declared[key]
        if spec.type == "list":
            lists.setdefault(key, []).extend(_lines(raw[1:], root) if raw.startswith("@") else [raw])
        elif spec.type == "file":
            values[key] = _file(raw.removeprefix("@"), root, key)
        else:
            values[key] = (root / raw[1:]).read_text(encoding="utf-8") if raw.startswith("@") else raw
    values |= lists
    for key, spec in declared.items():
        if key not in values:
            if spec.default is not None:
                values[key] = spec.default
            elif spec.required:
                raise UserError(
                    f"missing input {key!r} of workflow {workflow.name}: pass --input {key}=VALUE"
                    + (" (@path for a file)" if spec.type != "text" else "")
                )
            else:
                values[key] = [] if spec.type == "list" else ""
    return values


def _file(raw: str, root: Path, key: str) -> str:
    """The path made absolute: relative paths are read from the repository's root."""
    path = Path(raw) if Path(raw).is_absolute() else root / raw
    if not path.is_file():
        raise UserError(f"input {key}: {path} is not a file")
    return str(path.resolve())


def _lines(raw: str, root: Path) -> list[str]:
    path = Path(raw) if Path(raw).is_absolute() else root / raw
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot read {path}: {error}") from None
    return [line.strip() for line in text.splitlines() if line.strip()]
