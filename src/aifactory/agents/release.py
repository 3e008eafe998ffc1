"""Which release of an agent CLI the factory drives, and the check that the installed one is it.

An agent's output format is the contract, so each agent module pins the release its parser was
recorded from; an older CLI is refused before any work, naming the command that installs the pin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aifactory.errors import ConfigError
from aifactory.workspace.process import run_process

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_checked: dict[str, str] = {}
"""Versions already read, by binary: a run checks each agent once, not once per step."""


@dataclass(frozen=True)
class Release:
    product: str
    """How the user knows the CLI, e.g. "Claude Code"."""
    minimum: tuple[int, int, int]
    install: str
    """The command that installs the tested release."""


async def check_version(name: str, binary: str, env: Mapping[str, str], release: Release) -> str:
    """`BINARY --version`, refusing a missing binary or a release older than `release.minimum`."""
    if binary in _checked:
        return _checked[binary]
    fix = (
        f"install it with `{release.install}`, or remove {name} from [roles.executor] in .factory/config.toml"
    )
    try:
        ran = await run_process([binary, "--version"], cwd=Path.cwd(), env=env, timeout_s=60, output_cap=4000)
    except FileNotFoundError:
        raise ConfigError(f"{name}: `{binary}` was not found ([agents.{name}] binary): {fix}") from None
    except PermissionError:
        raise ConfigError(f"{name}: `{binary}` is not executable ([agents.{name}] binary): {fix}") from None
    found = _VERSION.search(ran.output)
    if ran.exit_code != 0 or found is None:
        raise ConfigError(f"{name}: `{binary} --version` failed ({ran.output.strip()[:200]}): {fix}")
    if tuple(int(part) for part in found.groups()) < release.minimum:
        raise ConfigError(f"{name}: {release.product} {found.group(0)} is too old: {fix}")
    _checked[binary] = found.group(0)
    return found.group(0)
