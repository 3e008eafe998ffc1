"""How fast `factory check` lints a large tree, against the `ast-grep scan` CLI with the same rules.

The tree is sympy's source (about 750k lines of Python, fetched once with `pip download` and unpacked
under ~/.cache/aifactory/bench/), committed beside it as a git repository with `factory init` done:
built once, reused while its ready marker (written last, inside `.git`) is there. Three realistic
rules go into that repository as active lessons (through `LessonBook`, as the factory writes them)
and into an sgconfig project for `ast-grep scan`. Three things run on the repository, `--repeat`
times each, interleaved:

- `ast-grep scan` with the rules: the reference;
- `python -m aifactory -C REPO check --json` as a subprocess: the command as a user runs it, with
  its start-up, configuration, ledger, lesson files, `git ls-files`, fork server and JSON output;
- `aifactory.checks.scan` over a `TreeSource` in this process: the scan without the command around it.

All three must find the same matches. Printed: the best times and both ratios against ast-grep
measured in the same run. Target: `factory check` / ast-grep ≤ 2.0 (the script exits non-zero
above it). The lessons' checks are warnings, so the command exits 0; any other exit fails the run.

    python benchmarks/checks.py [--repeat 3] [--workers 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aifactory
from aifactory.blueprint.lessons import LESSONS_DIR, LessonBook
from aifactory.checks.scan import ScanReport, scan
from aifactory.checks.sources import TreeSource
from aifactory.domain.lesson import AstGrepSpec, CheckSpec, Lesson, LessonStatus
from aifactory.domain.verdict import Severity

SYMPY = "sympy==1.14.0"
TARGET = 2.0
GIT = [
    "git",
    "-c",
    "user.name=bench",
    "-c",
    "user.email=bench@localhost",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "commit.gpgSign=false",
]
READY = "aifactory-bench-ready"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
"""A fixed date, so rewriting the lessons on every run leaves their files unchanged."""


@dataclass(frozen=True)
class Rule:
    advice: str
    rule: dict[str, Any]


RULES: dict[str, Rule] = {
    "no-print": Rule("Report through logging instead of print().", {"pattern": "print($$$ARGS)"}),
    "with-open": Rule(
        "Open files in a with statement, so they are closed on every path.",
        {"pattern": "open($$$ARGS)", "not": {"inside": {"kind": "with_statement", "stopBy": "end"}}},
    ),
    "mutable-default": Rule(
        "Give parameters no list, dict or set literal as a default: it is shared between calls.",
        {
            "any": [{"kind": "default_parameter"}, {"kind": "typed_default_parameter"}],
            "has": {"field": "value", "any": [{"kind": "list"}, {"kind": "dictionary"}, {"kind": "set"}]},
        },
    ),
}
Match = tuple[str, str, int, int]


def bench_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aifactory" / "bench"


def sympy_tree() -> Path:
    """sympy's unpacked wheel, downloaded on first use and reused afterwards."""
    cache = bench_cache()
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


def sympy_repo(tree: Path) -> Path:
    """The tree committed as a git repository, `factory init` done and committed; built once."""
    repo = tree.with_name(f"{tree.name}-repo")
    if (repo / ".git" / READY).is_file():
        return repo
    print(f"building {repo} (once)")
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(tree, repo)

    def run(*command: str) -> None:
        subprocess.run(command, cwd=repo, env=factory_env(), check=True, stdout=subprocess.DEVNULL)

    run(*GIT, "init", "--quiet")
    run(*GIT, "add", "--all")
    run(*GIT, "commit", "--quiet", "--message", f"{SYMPY}, as its wheel unpacks")
    run(sys.executable, "-m", "aifactory", "-C", str(repo), "init")
    run(*GIT, "add", "--all")
    run(*GIT, "commit", "--quiet", "--message", "factory init")
    (repo / ".git" / READY).touch()
    return repo


def factory_env() -> dict[str, str]:
    """This environment, with the aifactory this script imported first on the path: a relative
    PYTHONPATH would name another folder (or none) in the repository the command runs in."""
    package = str(Path(aifactory.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [package, os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def spec(rule_id: str, rule: Rule) -> AstGrepSpec:
    """Warnings: `factory check` reports them and still exits 0, so a non-zero exit is a failure."""
    return AstGrepSpec(language="python", rule=rule.rule, message=rule_id, severity=Severity.WARNING)


def write_lessons(repo: Path) -> None:
    """Make the rules the repository's only lessons, active, as the factory writes lesson files."""
    book = LessonBook(repo / ".factory" / "blueprint" / LESSONS_DIR)
    for path in book.files():
        if path.stem not in RULES:
            path.unlink()
    for rule_id, rule in RULES.items():
        lesson = Lesson(
            id=rule_id,
            rule=rule.advice,
            status=LessonStatus.ACTIVE,
            check=spec(rule_id, rule),
            created=CREATED,
        )
        book.save(lesson)


def configure_workers(repo: Path, workers: int) -> None:
    """Set `[checks] workers`, so the command scans with as many processes as the in-process scan."""
    config = repo / ".factory" / "config.toml"
    text = config.read_text()
    section = text.index("\n[checks]\n")
    rest = re.sub(r"(?m)^workers = \d+$", f"workers = {workers}", text[section:], count=1)
    config.write_text(text[:section] + rest)


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
            "rule": rule.rule,
        }
        (folder / "rules" / f"{rule_id}.yml").write_text(json.dumps(document))
    config = folder / "sgconfig.yml"
    config.write_text("ruleDirs: [rules]\n")
    return config


def run_cli(cli: str, config: Path, repo: Path) -> tuple[float, set[Match]]:
    started = time.perf_counter()
    result = subprocess.run(
        [cli, "scan", "-c", str(config), "--json=stream", str(repo)],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    matches = set()
    for line in result.stdout.splitlines():
        found = json.loads(line)
        start = found["range"]["start"]
        path = Path(found["file"]).relative_to(repo).as_posix()
        matches.add((found["ruleId"], path, start["line"] + 1, start["column"] + 1))
    return elapsed, matches


def run_command(repo: Path) -> tuple[float, set[Match]]:
    """`factory check --json` in a new process; its paths are relative to the repository already."""
    command = [sys.executable, "-m", "aifactory", "-C", str(repo), "check", "--json"]
    started = time.perf_counter()
    result = subprocess.run(command, env=factory_env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or "Traceback" in result.stderr:
        raise SystemExit(f"`{shlex.join(command)}` exited {result.returncode}:\n{result.stderr}")
    findings = json.loads(result.stdout)["findings"]
    return elapsed, {(hit["lesson"], hit["path"], hit["line"], hit["column"]) for hit in findings}


def run_ours(repo: Path, workers: int) -> tuple[float, ScanReport]:
    checks: list[tuple[str, CheckSpec]] = [(rule_id, spec(rule_id, rule)) for rule_id, rule in RULES.items()]
    started = time.perf_counter()
    report = asyncio.run(scan(checks, TreeSource(repo), workers=workers, command_timeout=60, env={}))
    return time.perf_counter() - started, report


def count_lines(tree: Path) -> tuple[int, int]:
    files = list(tree.rglob("*.py"))
    return len(files), sum(path.read_bytes().count(b"\n") for path in files)


def same(name: str, matches: set[Match], reference: set[Match]) -> bool:
    if matches == reference:
        return True
    only_ours, only_cli = sorted(matches - reference), sorted(reference - matches)
    print(f"MISMATCH: only {name} finds {only_ours[:5]}, only ast-grep finds {only_cli[:5]}")
    return False


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="scan processes, in process and in the command; 0: one per core",
    )
    args = parser.parse_args()
    tree = sympy_tree()
    repo = sympy_repo(tree)
    write_lessons(repo)
    configure_workers(repo, args.workers)
    files, lines = count_lines(tree)
    print(f"cpus {os.cpu_count()}; {repo}: {files} Python files, {lines} lines; {len(RULES)} lessons")
    cli = ast_grep_cli()
    with tempfile.TemporaryDirectory(prefix="factory-bench-") as folder:
        config = sgconfig(Path(folder))
        cli_times, command_times, ours_times = [], [], []
        cli_matches: set[Match] = set()
        command_matches: set[Match] = set()
        report: ScanReport | None = None
        for _ in range(args.repeat):
            elapsed, cli_matches = run_cli(cli, config, repo)
            cli_times.append(elapsed)
            elapsed, command_matches = run_command(repo)
            command_times.append(elapsed)
            elapsed, report = run_ours(repo, args.workers)
            ours_times.append(elapsed)
    assert report is not None
    ours_matches = {(hit.lesson, hit.path, hit.line, hit.column) for hit in report.hits}

    def times(measured: list[float]) -> str:
        return " ".join(f"{t:.2f}s" for t in measured)

    print(f"ast-grep scan:     {times(cli_times)}; {len(cli_matches)} matches")
    print(f"factory check:     {times(command_times)}; {len(command_matches)} matches")
    read = f"{report.files} files read"
    print(f"scan (in process): {times(ours_times)}; {len(ours_matches)} matches, {read}")
    best = min(cli_times)
    ratio = min(command_times) / best
    print(f"factory check / ast-grep (best of {args.repeat}): {ratio:.2f} (target <= {TARGET})")
    print(f"scan / ast-grep (best of {args.repeat}):          {min(ours_times) / best:.2f}")
    matching = [
        same("factory check", command_matches, cli_matches),
        same("the scan", ours_matches, cli_matches),
    ]
    if not all(matching) or ratio > TARGET:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
