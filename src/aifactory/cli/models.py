"""`factory models`: the providers, their state (ready, cooling down until when, no key), their users."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from aifactory.cli.common import Options, console, execute
from aifactory.service.models import ProviderState, provider_states
from aifactory.service.project import open_project


def models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the providers' states as JSON.")] = False,
) -> None:
    """The provider pool: each provider's state and which roles use its models, first choice first."""

    async def work(opts: Options) -> list[ProviderState]:
        return provider_states(await open_project(opts.repo))

    states = execute(ctx, work)
    if as_json:
        console.print_json(json.dumps([_as_json(state) for state in states]))
        return
    table = Table(title="providers", box=box.SIMPLE_HEAD)
    for column in ("provider", "kind", "state", "used by (choice)"):
        table.add_column(column, overflow="fold")
    for state in states:
        style = "green" if state.state == "ready" else "yellow" if state.key_set else "red"
        uses = "\n".join(
            f"{use.role} #{use.place}{' (complex steps)' if use.complex_steps else ''}: {use.model}"
            for use in state.uses
        )
        table.add_row(state.name, state.kind, Text(state.state, style=style), uses or "-")
    console.print(table)


def _as_json(state: ProviderState) -> dict[str, object]:
    return {
        "provider": state.name,
        "kind": state.kind,
        "endpoint": state.endpoint,
        "key_variable": state.key_variable,
        "key_set": state.key_set,
        "state": state.state,
        "cooling_until": None if state.cooling_until is None else state.cooling_until.isoformat(),
        "uses": [
            {"role": use.role, "model": use.model, "choice": use.place, "complex_steps": use.complex_steps}
            for use in state.uses
        ],
    }
