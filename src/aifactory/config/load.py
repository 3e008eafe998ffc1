"""Reading configuration files in layers, and pointing at the exact line when a value is wrong."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aifactory.config.model import FactoryConfig
from aifactory.errors import ConfigError

_PART = r"""(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)"""
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]\s*(#.*)?$")
_KEY = re.compile(rf"^\s*({_PART})\s*=")
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def user_config_path() -> Path:
    """Settings shared by all of a user's repositories, e.g. providers and their key variables."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "aifactory" / "config.toml"


def load_config(project_file: Path, *, overrides: Mapping[str, Any] | None = None) -> FactoryConfig:
    """Defaults, then the user's file, then the project's file, then flags; each later layer wins."""
    merged: dict[str, Any] = FactoryConfig().model_dump(mode="json")
    sources: list[tuple[Path, str]] = []
    for path in (user_config_path(), project_file):
        if path.is_file():
            text = _read(path)
            layer = _parse(path, text)
            _forget_providers_changing_kind(merged, layer)
            _deep_merge(merged, layer)
            sources.append((path, text))
    if overrides:
        _deep_merge(merged, dict(overrides))
    try:
        return FactoryConfig.model_validate(merged)
    except ValidationError as error:
        raise _explain(error, sources, project_file) from None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the configuration: {error}", path=path) from None


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        where = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = str(error).split(" (at ")[0]
        line = int(where.group(1)) if where else None
        raise ConfigError(f"not valid TOML: {message}", path=path, line=line) from None


def _forget_providers_changing_kind(merged: dict[str, Any], layer: Mapping[str, Any]) -> None:
    """A provider table that changes `kind` describes another API, so it starts afresh instead of
    inheriting the lower layer's settings (the default OpenAI key variable under a Bedrock provider)."""
    below, above = merged.get("providers"), layer.get("providers")
    if not isinstance(below, dict) or not isinstance(above, Mapping):
        return
    changed = [
        name
        for name, table in above.items()
        if isinstance(table, Mapping)
        and isinstance(below.get(name), dict)
        and below[name].get("kind") != table.get("kind", below[name].get("kind"))
    ]
    for name in changed:
        del below[name]


def _deep_merge(into: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def _explain(error: ValidationError, sources: list[tuple[Path, str]], fallback: Path) -> ConfigError:
    """Turn pydantic's first complaint into `file:line: [table] key: problem`."""
    first = error.errors()[0]
    context = first.get("ctx") or {}
    loc = tuple(str(part) for part in context.get("loc", first["loc"]) if part != "[key]")
    if "setting" in context:
        loc = (*loc, str(context["setting"]))
    problem = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        problem = (
            f"unknown key {loc[-1]!r}; check its spelling against the commented defaults from `factory init`"
        )
    elif (
        first["type"] not in {"missing", "value_error", "unknown_provider", "provider_setting", "mcp_setting"}
        and "loc" not in context
    ):
        problem = f"{problem} (got {first['input']!r})"
    for path, text in reversed(sources):
        line = locate(text, loc)
        if line is not None:
            return ConfigError(f"{_name(loc)}: {problem}", path=path, line=line)
    path = sources[-1][0] if sources else fallback
    return ConfigError(f"{_name(loc)}: {problem}", path=path)


def _name(loc: tuple[str, ...]) -> str:
    """`[table] key` as TOML spells it: a name that is not a bare key, like `sim:model`, in quotes."""
    keys = [part if _BARE.fullmatch(part) else f'"{part}"' for part in loc]
    if len(keys) <= 1:
        return keys[0] if keys else "configuration"
    return f"[{'.'.join(keys[:-1])}] {keys[-1]}"


def locate(text: str, loc: tuple[str, ...]) -> int | None:
    """The 1-based line of TOML `text` that sets `loc` (a key in a table, or a table header), if any;
    else the line of its nearest enclosing table that is there."""
    table: tuple[str, ...] = ()
    header_line: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = tuple(part.strip("\"'") for part in re.findall(_PART, header.group(1)))
            if table == loc and header_line is None:
                header_line = number
            continue
        key = _KEY.match(line)
        if key and (*table, key.group(1).strip("\"'")) == loc:
            return number
    if header_line is not None:
        return header_line
    return locate(text, loc[:-1]) if len(loc) > 1 else None
