"""How fast lesson checks scan a large tree, against the `ast-grep scan` CLI on the same tree and rules.

The tree is sympy's source (about 750k lines of Python, fetched once with `pip download` and unpacked
under ~/.cache/aifactory/bench/). Three realistic rules run both as our `AstGrepSpec`s (a tree scan
through `aifactory.checks.scan`) and as an sgconfig project for `ast-grep scan`. Each side runs
`--repeat` times; the best times are compared. Both must find the same matches. Printed: both
times and the ratio ours / ast-grep. Target: ≤ 2.0 (the script exits non-zero above it).

    python benchmarks/checks.py [--repeat 3] [--workers 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from aifactory.checks.scan import ScanReport, scan
from aifactory.checks.sources import TreeSource
from aifactory.domain.lesson import AstGrepSpec, CheckSpec

SYMPY = "sympy==1.14.0"
TARGET = 2.0
RULES: dict[str, dict[str, Any]] = {
    "no-print": {"pattern": "print($$$ARGS)"},
    "with-open": {"pattern": "open($$$ARGS)", "not": {"inside": {"kind": "with_statement", "stopBy": "end"}}},
    "mutable-default": {
        "any": [{"kind": "default_parameter"}, {"kind": "typed_default_parameter"}],
        "has": {"field": "value", "any": [{"kind": "list"}, {"kind": "dictionary"}, {"kind": "set"}]},
    },
}
Match = tuple[str, str, int, int]


def sympy_tree() -> Path:
    """sympy's unpacked wheel, downloaded on first use and reused afterwards."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aifactory" / "bench"
    tree = cache / SYMPY.replace("==", "-")
    if (tree / "sympy").is_dir():
        return tree
    wheels = cache / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", SYMPY, "--no-deps", "--quiet", "-d", str(wheels)],
        check=True,
    )
    wheel = next(wheels.glob("sympy-*.whl"))
    unpacking = Path(tempfile.mkdtemp(dir=cache, prefix="unpacking-"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacking)
    unpacking.rename(tree)
    return tree


def ast_grep_cli() -> str:
    beside = Path(sys.executable).parent / "ast-grep"
    found = str(beside) if beside.exists() else shutil.which("ast-grep")
    if not found:
        raise SystemExit("ast-grep CLI not found: pip install ast-grep-cli")
    return found


def sgconfig(folder: Path) -> Path:
    """The rules as an ast-grep project (JSON is YAML, so json.dumps writes the rule files)."""
    (folder / "rules").mkdir()
    for rule_id, rule in RULES.items():
        document = {
            "id": rule_id,
            "language": "python",
            "severity": "warning",
            "message": rule_id,
            "rule": rule,
        }
        (folder / "rules" / f"{rule_id}.yml").write_text(json.dumps(document))
    config = folder / "sgconfig.yml"
    config.write_text("ruleDirs: [rules]\n")
    return config


def run_cli(cli: str, config: Path, tree: Path) -> tuple[float, set[Match]]:
    started = time.perf_counter()
    result = subprocess.run(
        [cli, "scan", "-c", str(config), "--json=stream", str(tree)],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    matches = set()
    for line in result.stdout.splitlines():
        found = json.loads(line)
        start = found["range"]["start"]
        path = Path(found["file"]).relative_to(tree).as_posix()
        matches.add((found["ruleId"], path, start["line"] + 1, start["column"] + 1))
    return elapsed, matches


def run_ours(tree: Path, workers: int) -> tuple[float, ScanReport]:
    checks: list[tuple[str, CheckSpec]] = [
        (rule_id, AstGrepSpec(language="python", rule=rule, message=rule_id))
        for rule_id, rule in RULES.items()
    ]
    started = time.perf_counter()
    report = asyncio.run(scan(checks, TreeSource(tree), workers=workers, command_timeout=60, env={}))
    return time.perf_counter() - started, report


def count_lines(tree: Path) -> tuple[int, int]:
    files = list(tree.rglob("*.py"))
    return len(files), sum(path.read_bytes().count(b"\n") for path in files)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="scan processes; 0: one per core")
    args = parser.parse_args()
    tree = sympy_tree()
    files, lines = count_lines(tree)
    print(f"cpus {os.cpu_count()}; {tree}: {files} Python files, {lines} lines; {len(RULES)} rules")
    cli = ast_grep_cli()
    with tempfile.TemporaryDirectory(prefix="factory-bench-") as folder:
        config = sgconfig(Path(folder))
        cli_times, ours_times = [], []
        cli_matches: set[Match] = set()
        report: ScanReport | None = None
        for _ in range(args.repeat):
            elapsed, cli_matches = run_cli(cli, config, tree)
            cli_times.append(elapsed)
            elapsed, report = run_ours(tree, args.workers)
            ours_times.append(elapsed)
    assert report is not None
    ours_matches = {(hit.lesson, hit.path, hit.line, hit.column) for hit in report.hits}
    print(f"ast-grep scan: {' '.join(f'{t:.2f}s' for t in cli_times)}; {len(cli_matches)} matches")
    read = f"{report.files} files read"
    print(f"aifactory:     {' '.join(f'{t:.2f}s' for t in ours_times)}; {len(ours_matches)} matches, {read}")
    ratio = min(ours_times) / min(cli_times)
    print(f"ours / ast-grep (best of {args.repeat}): {ratio:.2f} (target <= {TARGET})")
    if ours_matches != cli_matches:
        only_ours, only_cli = sorted(ours_matches - cli_matches), sorted(cli_matches - ours_matches)
        print(f"MISMATCH: only ours find {only_ours[:5]}, only ast-grep finds {only_cli[:5]}")
        raise SystemExit(1)
    if ratio > TARGET:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
