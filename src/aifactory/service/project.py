"""An opened repository: where the factory's files live, its configuration, its ledger and roles."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aifactory.blueprint.store import Blueprint
from aifactory.config import FactoryConfig, load_config
from aifactory.domain.budget import Budget, Spending
from aifactory.domain.events import EventBus, EventSink
from aifactory.domain.lesson import LessonTrial
from aifactory.errors import BudgetExceeded, UserError
from aifactory.ledger.cooldowns import cooling
from aifactory.ledger.store import Ledger
from aifactory.roles.kit import ModelCatalog, RoleKit
from aifactory.workspace.git import Git
from aifactory.workspace.process import scrubbed_env
from aifactory.workspace.worktree import worktree_root

if TYPE_CHECKING:
    from aifactory.providers.calls import CallScope

FACTORY_DIR = ".factory"
PLANS_DIR = "plans"


def config_file(root: Path) -> Path:
    """Where a repository's factory configuration lives; its presence means `factory init` was run."""
    return root / FACTORY_DIR / "config.toml"


@dataclass(frozen=True)
class Project:
    """A repository with `factory init` done, and its loaded configuration."""

    root: Path
    git: Git
    config: FactoryConfig

    @property
    def factory_dir(self) -> Path:
        return self.root / FACTORY_DIR

    @property
    def blueprint_dir(self) -> Path:
        return self.factory_dir / "blueprint"

    @property
    def ledger_path(self) -> Path:
        return self.factory_dir / "ledger.db"

    @property
    def logs_dir(self) -> Path:
        return self.factory_dir / "logs"

    @property
    def plans_dir(self) -> Path:
        return self.root / PLANS_DIR

    def worktree_root(self) -> Path:
        """Where this repository's attempts check out: `[run] worktrees`, or a cache folder."""
        configured = self.config.run.worktrees.strip()
        return worktree_root(self.root, Path(configured) if configured else None)

    def command_env(self) -> dict[str, str]:
        """The environment for commands run in worktrees: no provider keys, ever."""
        secrets = [p.api_key_env for p in self.config.providers.values() if p.api_key_env is not None]
        return scrubbed_env(os.environ, secret_names=secrets)


async def open_project(path: Path, *, overrides: Mapping[str, Any] | None = None) -> Project:
    """Find the repository around `path` and load its configuration; refuse if `factory init` is missing."""
    git = await Git.discover(path)
    root = git.path
    path = config_file(root)
    if not path.is_file():
        raise UserError(
            f"{root} has no {FACTORY_DIR}/config.toml: run `factory init` in the repository first"
        )
    return Project(root=root, git=git, config=load_config(path, overrides=overrides))


def budget_of(config: FactoryConfig) -> Budget:
    """The budget the configuration sets; 0 means no limit."""
    run = config.run
    return Budget(
        run_cost=Decimal(str(run.max_cost)) if run.max_cost else None,
        run_tokens=run.max_tokens or None,
        attempt_cost=Decimal(str(run.attempt_max_cost)) if run.attempt_max_cost else None,
        attempt_tokens=run.attempt_max_tokens or None,
    )


def _guard(spending: Spending) -> Callable[[CallScope], None]:
    def guard(scope: CallScope) -> None:
        reason = spending.exceeded(scope.run_id, scope.attempt)
        if reason is not None:
            raise BudgetExceeded(reason)

    return guard


def _to_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


@dataclass(frozen=True)
class Session:
    """A project with its ledger open and every event going to the ledger and the caller's sink."""

    project: Project
    events: EventBus
    kit: RoleKit
    spending: Spending
    """What each run and attempt has spent, against the budget the configuration sets."""
    trial: LessonTrial = field(default_factory=LessonTrial)
    """Lessons adopted or dropped for this command only (`factory replay --with/--without`)."""
    notice: Callable[[str], None] = _to_stderr
    """Where warnings go that do not stop the command (a lesson file skipped as malformed)."""
    warned: set[str] = field(default_factory=set)

    def warn_once(self, message: str) -> None:
        if message not in self.warned:
            self.warned.add(message)
            self.notice(message)


@contextmanager
def session(
    project: Project,
    sink: EventSink | None = None,
    env: Mapping[str, str] | None = None,
    trial: LessonTrial | None = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[Session]:
    """Open the ledger for one command; every model call and run event is recorded in it."""
    ledger = Ledger.open(project.ledger_path)
    events = EventBus(ledger.record)
    spending = Spending(budget_of(project.config))
    events.subscribe(spending)
    if sink is not None:
        events.subscribe(sink)
    kit = RoleKit(
        config=project.config,
        blueprint=Blueprint(project.blueprint_dir),
        catalog=ModelCatalog(
            project.config,
            os.environ if env is None else env,
            events,
            cooling=lambda: {name: rest.until for name, rest in cooling(ledger).items()},
            guard=_guard(spending),
        ),
        repo=project.root,
    )
    try:
        yield Session(
            project=project,
            events=events,
            kit=kit,
            spending=spending,
            trial=trial or LessonTrial(),
            notice=notice or _to_stderr,
        )
    finally:
        ledger.close()
