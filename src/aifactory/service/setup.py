"""`factory init`: the configuration, the blueprint, the example workflows, and the ledger kept out of
git."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aifactory.blueprint.store import install_defaults, install_workflows
from aifactory.service.project import FACTORY_DIR, config_file
from aifactory.workspace.git import Git

# The lessons folder's lock file, and temporary files a crash may leave beside a lesson being written.
_IGNORED = ("ledger.db*", "logs/", "blueprint/lessons/.lock", "blueprint/lessons/.*.tmp")


@dataclass(frozen=True)
class InitReport:
    root: Path
    written: list[Path]
    kept: list[Path]


async def init_project(path: Path) -> InitReport:
    """Write what is missing under `.factory/`; never overwrite what the user already has."""
    git = await Git.discover(path)
    factory_dir = git.path / FACTORY_DIR
    factory_dir.mkdir(exist_ok=True)
    written: list[Path] = []
    kept: list[Path] = []
    config = config_file(git.path)
    if config.exists():
        kept.append(config)
    else:
        shutil.copyfile(Path(str(resources.files("aifactory.config") / "default.toml")), config)
        written.append(config)
    blueprint = factory_dir / "blueprint"
    installed = install_defaults(blueprint)
    written.extend(installed)
    if not installed and blueprint.exists():
        kept.append(blueprint)
    written.extend(install_workflows(factory_dir / "workflows"))
    ignore = factory_dir / ".gitignore"
    lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    missing = [pattern for pattern in _IGNORED if pattern not in lines]
    if missing:
        ignore.write_text("\n".join([*lines, *missing]) + "\n", encoding="utf-8")
        written.append(ignore)
    return InitReport(root=git.path, written=written, kept=kept)


async def create_sample(repo: Path, files: Mapping[str, str], config: str) -> None:
    """A new repository holding `files`, set up by `factory init` with `config` as its configuration,
    everything committed: the demo's sample, and the tests' and benchmarks' projects."""
    git = await Git.init(repo)
    for name, text in files.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    await git.commit_all("Initial commit", allow_empty=False)
    await init_project(repo)
    config_file(repo).write_text(config, encoding="utf-8")
    await git.commit_all("Set up aifactory", allow_empty=False)
