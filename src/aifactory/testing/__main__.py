"""`python -m aifactory.testing`: serve the simulated model on 127.0.0.1 until interrupted.

Useful to try a blueprint offline (point `[providers.NAME] base_url` at the printed URLs) and for
benchmarks, which serve it from another process so the model does not share the factory's CPU.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from aifactory.testing.demo import demo_scenario
from aifactory.testing.scenarios import LimitedFor, Scenario
from aifactory.testing.server import FakeServer
from aifactory.testing.team import scripted_team


def _scenario(name: str, steps: int) -> Scenario:
    if name == "demo":
        return demo_scenario()
    return scripted_team(steps=steps)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m aifactory.testing", description=__doc__)
    parser.add_argument("--scenario", choices=("team", "demo"), default="team", help="team: N scripted steps")
    parser.add_argument("--steps", type=int, default=3, help="steps of the scripted team's plan")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every model call")
    parser.add_argument(
        "--limited",
        type=float,
        default=0.0,
        help="seconds during which the Anthropic server answers 429 (from its first request on)",
    )
    args = parser.parse_args(argv)
    scenario = _scenario(args.scenario, args.steps)
    if args.limited:
        scenario = LimitedFor(scenario, args.limited)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with (
        FakeServer(scenario, "anthropic", latency=args.latency) as claude,
        FakeServer(scenario, "openai", latency=args.latency) as gpt,
    ):
        print(f"anthropic {claude.base_url}", flush=True)
        print(f"openai {gpt.base_url}", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            sys.exit(0)


if __name__ == "__main__":
    main()
