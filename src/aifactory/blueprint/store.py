"""Loading and rendering the blueprint: the plan template, one prompt file per role, and the lessons.

Prompts come from here and nowhere else, so changing the factory's behaviour means editing files
under `.factory/blueprint/` that the user reviews like code. A role file holds two Jinja blocks:
`system` (stable across calls, so providers can cache it) and `task` (this call's specifics), and
may hold a third, `stable`: the part of the request every call of the role in one run shares (the
plan), sent before the task behind its own cache breakpoint.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from aifactory.blueprint.lessons import LESSONS_DIR, LessonBook
from aifactory.domain.run import Role
from aifactory.errors import BlueprintError

PLAN_TEMPLATE = "plan-template.md"


@dataclass(frozen=True)
class Prompt:
    """A role's instructions (system) and this call's request: the opening every call shares (stable),
    then the rest (task)."""

    system: str
    task: str
    stable: str = ""


def packaged_defaults() -> Path:
    """The blueprint shipped with aifactory, copied into a repository by `factory init`."""
    return Path(str(resources.files("aifactory.blueprint") / "defaults"))


def role_file(role: Role) -> str:
    return f"roles/{role.value}.md"


def packaged_workflows() -> Path:
    """The example workflows shipped with aifactory, copied into `.factory/workflows/` by `factory init`."""
    return Path(str(resources.files("aifactory.blueprint") / "workflows"))


def install_defaults(target: Path) -> list[Path]:
    """Copy the shipped blueprint into `target`, keeping any file the user already has."""
    return _install(packaged_defaults(), "*.md", target)


def install_workflows(target: Path) -> list[Path]:
    """Copy the shipped workflows into `target`, keeping any file the user already has."""
    return _install(packaged_workflows(), "*.toml", target)


def _install(source: Path, pattern: str, target: Path) -> list[Path]:
    written: list[Path] = []
    for path in sorted(source.rglob(pattern)):
        destination = target / path.relative_to(source)
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        written.append(destination)
    return written


class Blueprint:
    """The templates under one blueprint directory, rendered strictly: an unknown variable is an error."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(root),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )

    @property
    def lessons(self) -> LessonBook:
        """The lesson files of this blueprint, under its `lessons/` folder."""
        return LessonBook(self.root / LESSONS_DIR)

    def plan_template(self, **context: Any) -> str:
        """The skeleton every implementation plan follows, shown to the planner."""
        template = self._template(PLAN_TEMPLATE)
        return self._render(PLAN_TEMPLATE, lambda: template.render(**context))

    def prompt(self, role: Role, **context: Any) -> Prompt:
        return self._prompt(role_file(role), "a role file", context)

    def agent_prompt(self, template: str, **context: Any) -> Prompt:
        """A small agent's prompt: the blocks of its file under `agents/` (the header is not rendered)."""
        return self._prompt(template, "an agent file", context)

    def _prompt(self, name: str, what: str, context: dict[str, Any]) -> Prompt:
        template = self._template(name)
        for required in ("system", "task"):
            if required not in template.blocks:
                raise BlueprintError(
                    f"{self.root / name} has no {{% block {required} %}}: "
                    f"{what} needs a system and a task block"
                )
        render_context = template.new_context(dict(context))

        def block(block_name: str) -> str:
            if block_name not in template.blocks:
                return ""
            render = template.blocks[block_name]
            return self._render(name, lambda: "".join(render(render_context))).strip()

        return Prompt(system=block("system"), task=block("task"), stable=block("stable"))

    def _template(self, name: str) -> jinja2.Template:
        path = self.root / name
        if not path.is_file():
            raise BlueprintError(
                f"blueprint file {path} is missing: restore it from version control, "
                "or run `factory init` to write the shipped default again"
            )
        try:
            return self._env.get_template(name)
        except jinja2.TemplateSyntaxError as error:
            raise BlueprintError(f"{path}:{error.lineno}: template syntax error: {error.message}") from None

    def _render(self, name: str, render: Callable[[], str]) -> str:
        try:
            return render()
        except jinja2.UndefinedError as error:
            raise BlueprintError(
                f"{self.root / name}: {error.message}; the variables this template gets are listed "
                "in the comment at its top (and in the shipped default, `factory init` in a new folder)"
            ) from None
        except jinja2.TemplateError as error:
            raise BlueprintError(f"{self.root / name}: cannot render: {error}") from None
