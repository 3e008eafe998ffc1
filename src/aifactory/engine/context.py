"""What the engine works with during a run, assembled once by the service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aifactory.domain.events import EventSink
from aifactory.roles.kit import RoleKit
from aifactory.workspace.git import Git


@dataclass(frozen=True)
class Factory:
    """The repository, its roles, where events go, and the environment given to commands."""

    kit: RoleKit
    git: Git
    sink: EventSink
    logs: Path
    command_env: Mapping[str, str]
