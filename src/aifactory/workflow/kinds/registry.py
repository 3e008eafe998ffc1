"""Step kind name → its implementation: the one line a new kind adds."""

from __future__ import annotations

from aifactory.workflow.kinds.agent import AgentKind
from aifactory.workflow.kinds.base import StepKind
from aifactory.workflow.kinds.role import RoleKind
from aifactory.workflow.kinds.run import RunKind
from aifactory.workflow.kinds.shell import ShellKind

KINDS: dict[str, StepKind] = {
    "shell": ShellKind(),
    "role": RoleKind(),
    "run": RunKind(),
    "agent": AgentKind(),
}
