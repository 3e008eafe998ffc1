"""What a provider's rate limit costs a run when the pool fails over to a second provider.

The simulated model is served from another process, twice: once as is, once with its Anthropic side
answering 429 (with `retry-after`) for a window from its first request on. Every role has two model
choices, the Anthropic server first and the OpenAI one second, so during the window the pool cools
the first provider down and the run goes on with the second. Printed: the run's wall time with
the limit divided by the same run without it (measured in this run; target ≤ 1.2), how many requests
each provider served, and the share of input tokens read from the providers' prompt caches.

    python benchmarks/failover.py [--steps 5] [--latency 0.3] [--attempts 4] [--window 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aifactory.service.planning import no_answers, plan_ask
from aifactory.service.project import open_project, session
from aifactory.service.running import RunStart, run
from aifactory.service.setup import create_sample
from aifactory.testing.config import sim_config

KEY_VARIABLE = "FACTORY_BENCH_KEY"
ENV = {KEY_VARIABLE: "simulated"}
TARGET = 1.2
ROLES = ("planner", "plan-reviewer", "executor", "plan-verifier", "distiller")
BOTH = '["sim:claude-sonnet-5-5", "sim-openai:gpt-6.1-sol"]'


def serve(steps: int, latency: float, limited: float) -> tuple[subprocess.Popen[str], str, str]:
    command = [sys.executable, "-m", "aifactory.testing", "--steps", str(steps), "--latency", str(latency)]
    server = subprocess.Popen([*command, "--limited", str(limited)], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    urls = dict(server.stdout.readline().split() for _ in range(2))
    return server, urls["anthropic"], urls["openai"]


async def timed(
    root: Path, steps: int, latency: float, attempts: int, limited: float
) -> tuple[float, dict[str, float]]:
    server, anthropic, openai = serve(steps, latency, limited)
    try:
        repo = root / f"repo-{limited:g}"
        config = sim_config(
            anthropic, openai, key_variable=KEY_VARIABLE, worktrees=root / "worktrees", run={}
        )
        for role in ROLES:
            config = config.replace(
                f'[roles.{role}]\nmodel = "sim:claude-sonnet-5-5"', f"[roles.{role}]\nmodel = {BOTH}"
            )
        await create_sample(repo, {"README.md": "# bench\n"}, config)
        project = await open_project(repo, overrides={"run": {"max_parallel": attempts}})
        with session(project, env=ENV) as current:
            planned = await plan_ask(current, "Write the notes", [], no_answers)
            started = time.perf_counter()
            outcome = await run(
                current, RunStart(plan_path=planned.path), attempts=attempts, answer=no_answers, notice=print
            )
            elapsed = time.perf_counter() - started
        if len(outcome.ranking) != attempts:
            raise SystemExit(f"{len(outcome.ranking)} of {attempts} attempts passed; measured runs must pass")
        with sqlite3.connect(repo / ".factory" / "ledger.db") as db:
            query = (
                "select provider, count(*) from model_calls"
                " where run_id = ? and error is null group by provider"
            )
            served = dict(db.execute(query, (outcome.run_id,)).fetchall())
            read, total = db.execute(
                "select sum(cache_read_tokens), sum(input_tokens) from model_calls where run_id = ?",
                (outcome.run_id,),
            ).fetchone()
        served["cache-read share of input tokens"] = round(read / total, 3) if total else 0
        return elapsed, served
    finally:
        server.terminate()
        server.wait()


async def measure(steps: int, latency: float, attempts: int, window: float) -> float:
    with tempfile.TemporaryDirectory(prefix="factory-bench-") as folder:
        calm, calm_served = await timed(Path(folder), steps, latency, attempts, 0.0)
        limited, limited_served = await timed(Path(folder), steps, latency, attempts, window)
    ratio = limited / calm
    print(f"steps {steps}, latency {latency}s, {attempts} attempts, limit window {window:g}s")
    print(f"no limit:   {calm:6.2f}s  requests served {calm_served}")
    print(f"with limit: {limited:6.2f}s  requests served {limited_served}")
    print(f"wall time with the limit / without: {ratio:.3f} (target <= {TARGET})")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--attempts", type=int, default=4)
    parser.add_argument("--window", type=float, default=30.0)
    args = parser.parse_args()
    print(f"cpus {os.cpu_count()}")
    ratio = asyncio.run(measure(args.steps, args.latency, args.attempts, args.window))
    if ratio > TARGET:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
