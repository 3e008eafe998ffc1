"""The commit that ends a step, whose message is how a branch tells which steps it holds.

A resumed attempt trusts its branch over the ledger: a factory killed between a commit and the
ledger's record of it leaves the commit. `parse(message(step))` gives the step back, up to the
whitespace git tidies (surrounding blank lines, runs of blank lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SUBJECT = re.compile(r"step (\d+)/(\d+): (.*)")
_RUN = "Factory-Run"
_ATTEMPT = "Factory-Attempt"
_EXECUTOR = "Factory-Executor"


@dataclass(frozen=True)
class StepCommit:
    number: int
    """1-based."""
    total: int
    title: str
    summary: str
    run_id: str
    attempt: str
    executor: str = ""
    """Who carried the step out, `agent-or-provider:model`; unknown for a commit recovered without it."""


def message(step: StepCommit) -> str:
    """`step k/n: title`, the agent's summary, and trailers naming the run, the attempt and the executor."""
    trailers = f"{_RUN}: {step.run_id}\n{_ATTEMPT}: {step.attempt}\n"
    if step.executor:
        trailers += f"{_EXECUTOR}: {step.executor}\n"
    return f"step {step.number}/{step.total}: {step.title}\n\n{step.summary}\n\n{trailers}"


def parse(text: str) -> StepCommit | None:
    """The step a commit message ends, or None when it is not a step commit of the factory's."""
    subject, _, rest = text.strip().partition("\n")
    found = _SUBJECT.fullmatch(subject.strip())
    lines = rest.strip().splitlines()
    trailers: dict[str, str] = {}
    while lines and (trailer := re.fullmatch(rf"({_RUN}|{_ATTEMPT}|{_EXECUTOR}): (\S+)", lines[-1].strip())):
        trailers.setdefault(trailer.group(1), trailer.group(2))
        lines.pop()
    if found is None or _RUN not in trailers or _ATTEMPT not in trailers:
        return None
    return StepCommit(
        number=int(found.group(1)),
        total=int(found.group(2)),
        title=found.group(3).strip(),
        summary="\n".join(lines).strip(),
        run_id=trailers[_RUN],
        attempt=trailers[_ATTEMPT],
        executor=trailers.get(_EXECUTOR, ""),
    )


_AGENT = "Factory-Agent"
_AGENT_SUBJECT = re.compile(r"agent: (\S+)")


@dataclass(frozen=True)
class AgentCommit:
    """The commit a small agent made on an attempt's branch, after its steps (`agent: NAME`)."""

    agent: str
    run_id: str
    attempt: str


def agent_trailers(agent: str, run_id: str, attempt: str | None) -> str:
    """A small agent's commit trailers; without an attempt it ran on files, not on a branch of a run."""
    trailers = f"{_RUN}: {run_id}\n"
    if attempt:
        trailers += f"{_ATTEMPT}: {attempt}\n"
    return trailers + f"{_AGENT}: {agent}\n"


def parse_agent(text: str) -> AgentCommit | None:
    """The small agent's commit a message describes, or None when it is none of an attempt's."""
    subject = _AGENT_SUBJECT.fullmatch(text.strip().partition("\n")[0].strip())
    trailers = dict(re.findall(rf"^({_RUN}|{_ATTEMPT}|{_AGENT}): (\S+)[ \t]*$", text, re.MULTILINE))
    if subject is None or trailers.get(_AGENT) != subject.group(1) or _ATTEMPT not in trailers:
        return None
    return AgentCommit(agent=trailers[_AGENT], run_id=trailers.get(_RUN, ""), attempt=trailers[_ATTEMPT])
