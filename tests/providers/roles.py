"""A role's model call on one configured provider, made through `ModelCatalog` as every role makes it.

The configuration is read from a real file (defaults merged, validated), every role names the provider
under test, and the call is the one model loop roles use (`agents.loop.run_model`) with the read tools,
so a tool call, its result and the typed answer all cross the provider's wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel
from pydantic_ai import ToolOutput

from aifactory.agents.loop import run_model
from aifactory.agents.tools import READ_TOOLS, Workspace
from aifactory.config import load_config
from aifactory.domain.events import Event, ModelCalled
from aifactory.domain.run import Role
from aifactory.providers.calls import CallScope
from aifactory.roles.kit import ModelCatalog
from aifactory.testing import Rules, call_tool, has_result, offers_tool

README = "# sample\nA project that greets.\n"

READER = Rules(
    (has_result("read_file"), call_tool("submit_summary", summary="A project that greets.")),
    (offers_tool("read_file"), call_tool("read_file", path="README.md")),
)
"""A planner-like role: it reads the README, then answers with its typed summary."""


class Summary(BaseModel):
    summary: str


@dataclass
class Factory:
    """A configuration whose every role plays on one provider, and the events its calls emitted."""

    root: Path
    catalog: ModelCatalog
    events: list[Event] = field(default_factory=list)

    def calls(self) -> list[ModelCalled]:
        return [event for event in self.events if isinstance(event, ModelCalled)]


def factory(
    root: Path, provider: str, model: str, table: str, env: Mapping[str, str], *, max_wait: float = 60
) -> Factory:
    """Every role on `provider:model`, with `[providers.PROVIDER]` set to `table` (TOML lines).

    A limit without a retry-after rests the provider for a tenth of a second, so the pool's waits
    stay short; `max_wait` bounds them as `[run] max_wait` does.
    """
    roles = "".join(f'[roles.{role.value}]\nmodel = "{provider}:{model}"\n' for role in Role)
    path = root / "config.toml"
    run = f"[run]\nmodel_retries = 2\nretry_backoff = 0.01\ncooldown = 0.1\nmax_wait = {max_wait}\n"
    path.write_text(f"{run}{roles}[providers.{provider}]\n{table}\n")
    (root / "README.md").write_text(README)
    events: list[Event] = []
    # No ledger here: nothing else is cooling down and no budget applies; the pool keeps its own rests.
    catalog = ModelCatalog(load_config(path), env, events.append, cooling=dict, guard=lambda scope: None)
    return Factory(root=root, catalog=catalog, events=events)


async def summarize(
    project: Factory, role: Role = Role.PLANNER, *, instructions: str = "You summarize repositories."
) -> Summary:
    """One role call: read the README with a tool, then answer in the typed shape."""
    return await run_model(
        project.catalog.model(role, CallScope(role=role)),
        who=f"the {role.value}",
        instructions=instructions,
        task="Read README.md and summarize it.",
        output=ToolOutput(Summary, name="submit_summary"),
        tools=READ_TOOLS,
        workspace=Workspace(root=project.root),
        settings=project.catalog.settings(role),
        max_turns=5,
        output_retries=1,
    )
