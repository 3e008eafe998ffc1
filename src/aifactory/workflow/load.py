"""Reading `.factory/workflows/NAME.toml` into a `Workflow`, with file and line on every complaint."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from aifactory.errors import LocatedError, NotFoundError
from aifactory.workflow.lines import step_line, table_line
from aifactory.workflow.model import Workflow, WorkflowSpec

WORKFLOWS_DIR = Path(".factory") / "workflows"


class WorkflowError(LocatedError):
    """A workflow file is unreadable, malformed or inconsistent: `path:line: problem`."""


def workflows_dir(root: Path) -> Path:
    return root / WORKFLOWS_DIR


def workflow_names(root: Path) -> list[str]:
    folder = workflows_dir(root)
    return sorted(path.stem for path in folder.glob("*.toml")) if folder.is_dir() else []


def workflow_path(root: Path, name: str) -> Path:
    """The file of workflow `name`; a path to a `.toml` file is taken as it is."""
    given = Path(name)
    path = given if given.suffix == ".toml" else workflows_dir(root) / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(workflow_names(root)) or "none yet"
        raise NotFoundError(f"no workflow {name!r} ({path} does not exist); workflows here: {known}")
    return path


def load_workflow(path: Path) -> Workflow:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise WorkflowError(f"cannot read the workflow: {error}", path=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        where = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = str(error).split(" (at ")[0]
        raise WorkflowError(
            f"not valid TOML: {message}", path=path, line=int(where.group(1)) if where else None
        ) from None
    try:
        spec = WorkflowSpec.model_validate(data)
    except ValidationError as error:
        raise _explain(error, path, text) from None
    return Workflow(name=path.stem, path=path, text=text, spec=spec)


def _explain(error: ValidationError, path: Path, text: str) -> WorkflowError:
    first = error.errors()[0]
    loc = tuple(str(part) for part in first["loc"])
    problem = first["msg"]
    if first["type"] == "extra_forbidden":
        problem = f"unknown key {loc[-1]!r}; check its spelling against the README's workflow section"
    elif first["type"] != "missing":
        problem = f"{problem} (got {first['input']!r})"
    if loc[:1] == ("steps",) and len(loc) > 1 and loc[1].isdigit():
        key = loc[2] if len(loc) > 2 else None
        line = step_line(text, int(loc[1]), key)
        return WorkflowError(
            f"step {int(loc[1]) + 1}: {'.'.join(loc[2:3]) or 'table'}: {problem}", path=path, line=line
        )
    return WorkflowError(f"{'.'.join(loc)}: {problem}", path=path, line=table_line(text, *loc))
