"""`factory models`: the providers and the external agents, their state (ready, cooling down until when,
no key, not installed) and which roles use them."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from aifactory.cli.common import Options, console, execute
from aifactory.service.models import AgentState, ProviderState, Use, agent_states, provider_states
from aifactory.service.project import open_project


def models(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the providers' and agents' states as JSON.")
    ] = False,
) -> None:
    """The provider pool and the external agents: the state of each and which roles use it, by choice."""

    async def work(opts: Options) -> tuple[list[ProviderState], list[AgentState]]:
        project = await open_project(opts.repo)
        return provider_states(project), await agent_states(project)

    providers, agents = execute(ctx, work)
    if as_json:
        listed = {
            "providers": [_provider_json(state) for state in providers],
            "agents": [_agent_json(state) for state in agents],
        }
        console.print_json(json.dumps(listed))
        return
    table = Table(title="providers", box=box.SIMPLE_HEAD)
    for column in ("provider", "kind", "state", "used by (choice)"):
        table.add_column(column, overflow="fold")
    for state in providers:
        style = "green" if state.state == "ready" else "yellow" if state.key_set else "red"
        table.add_row(state.name, state.kind, Text(state.state, style=style), _uses(state.uses))
    console.print(table)
    if agents:
        console.print(_agent_table(agents))


def _agent_table(agents: list[AgentState]) -> Table:
    table = Table(title="agents (executor only)", box=box.SIMPLE_HEAD)
    for column in ("agent", "kind", "version", "state", "used by (choice)"):
        table.add_column(column, overflow="fold")
    for state in agents:
        style = "green" if state.state == "ready" else "yellow" if state.version else "red"
        table.add_row(
            state.name, state.kind, state.version or "-", Text(state.state, style=style), _uses(state.uses)
        )
    return table


def _uses(uses: list[Use]) -> str:
    listed = "\n".join(
        f"{use.role} #{use.place}{' (complex steps)' if use.complex_steps else ''}: {use.model}"
        for use in uses
    )
    return listed or "-"


def _use_json(use: Use) -> dict[str, object]:
    return {"role": use.role, "model": use.model, "choice": use.place, "complex_steps": use.complex_steps}


def _provider_json(state: ProviderState) -> dict[str, object]:
    return {
        "provider": state.name,
        "kind": state.kind,
        "endpoint": state.endpoint,
        "key_variable": state.key_variable,
        "key_set": state.key_set,
        "state": state.state,
        "cooling_until": None if state.cooling_until is None else state.cooling_until.isoformat(),
        "uses": [_use_json(use) for use in state.uses],
    }


def _agent_json(state: AgentState) -> dict[str, object]:
    return {
        "agent": state.name,
        "kind": state.kind,
        "binary": state.binary,
        "installed": state.version is not None,
        "version": state.version,
        "state": state.state,
        "cooling_until": None if state.cooling_until is None else state.cooling_until.isoformat(),
        "uses": [_use_json(use) for use in state.uses],
    }
