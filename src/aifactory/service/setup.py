"""`factory init`: the configuration, the blueprint, and the ledger kept out of git."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aifactory.blueprint.store import install_defaults
from aifactory.service.project import FACTORY_DIR
from aifactory.workspace.git import Git

_IGNORED = ("ledger.db*", "logs/")


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
    config = factory_dir / "config.toml"
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
    ignore = factory_dir / ".gitignore"
    lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    missing = [pattern for pattern in _IGNORED if pattern not in lines]
    if missing:
        ignore.write_text("\n".join([*lines, *missing]) + "\n", encoding="utf-8")
        written.append(ignore)
    return InitReport(root=git.path, written=written, kept=kept)


async def create_repository(path: Path, files: Mapping[str, str], message: str) -> str:
    """A new repository at `path` holding `files`, committed; returns the commit."""
    git = await Git.init(path)
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return await git.commit_all(message, allow_empty=False)


async def commit_all(path: Path, message: str) -> str:
    """Commit everything in the repository at `path`, e.g. the files `factory init` wrote."""
    return await Git(path).commit_all(message, allow_empty=False)
