"""Proving a lesson's check before the factory accepts it: it must catch the mistake and nothing else.

A check that does not fire on the attempt it was distilled from would never have helped; one that
fires on code known to be good (the base commit, an attempt that passed) would reject good work.
Either way the lesson keeps its rule but not that check, and the reason says which way it failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aifactory.checks.scan import scan
from aifactory.checks.sources import DiffSource, Source
from aifactory.domain.lesson import CheckSpec

_SHOWN = 3
"""Places named in a rejection; the count says how many more there were."""


@dataclass(frozen=True)
class Proof:
    accepted: bool
    reason: str
    bad_hits: int
    good_hits: int


async def prove(
    lesson: str,
    spec: CheckSpec,
    *,
    bad: DiffSource,
    good: Sequence[Source],
    workers: int = 0,
    command_timeout: float,
    env: Mapping[str, str],
) -> Proof:
    """Accept `spec` only if it fires on the rejected attempt's change `bad` and never on any of `good`."""
    checks = [(lesson, spec)]
    caught = await scan(checks, bad, workers=workers, command_timeout=command_timeout, env=env)
    bad_hits = len(caught.hits)
    if not bad_hits:
        return Proof(
            accepted=False,
            reason=f"does not fire on the rejected attempt's change ({bad.description})",
            bad_hits=0,
            good_hits=0,
        )
    good_hits = 0
    wrong: list[str] = []
    for source in good:
        report = await scan(checks, source, workers=workers, command_timeout=command_timeout, env=env)
        good_hits += len(report.hits)
        wrong.extend(f"{_place(hit.location)} in {source.description}" for hit in report.hits)
    if wrong:
        more = f" and {len(wrong) - _SHOWN} more" if len(wrong) > _SHOWN else ""
        return Proof(
            accepted=False,
            reason=f"fires on known-good code: {', '.join(wrong[:_SHOWN])}{more}",
            bad_hits=bad_hits,
            good_hits=good_hits,
        )
    sources = "; ".join(source.description for source in good) or "nothing known to be good"
    return Proof(
        accepted=True,
        reason=f"fires {bad_hits} time(s) on the rejected attempt's change and never on {sources}",
        bad_hits=bad_hits,
        good_hits=0,
    )


def _place(location: str) -> str:
    """`path:line` (the column is noise in a sentence); a command's hit has no place."""
    path, _, rest = location.partition(":")
    line = rest.partition(":")[0]
    return f"{path}:{line}" if line else "the command failed"
