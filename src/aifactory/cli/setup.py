"""`factory init`."""

from __future__ import annotations

import typer

from aifactory.cli.common import Options, console, execute
from aifactory.service.setup import InitReport, init_project


def init(ctx: typer.Context) -> None:
    """Set up the factory in this repository: .factory/config.toml and the blueprint."""

    async def work(opts: Options) -> InitReport:
        return await init_project(opts.repo)

    report = execute(ctx, work)
    for path in report.written:
        console.print(f"  wrote {path.relative_to(report.root)}")
    for path in report.kept:
        console.print(f"  kept  {path.relative_to(report.root)} (already there)")
    console.print(
        "\nNext: set the models per role in .factory/config.toml, export the API key variables it names, "
        'commit .factory/, then run [bold]factory plan "your ask"[/].'
    )
