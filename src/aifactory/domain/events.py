"""What happens during a run, as data.

The engine only emits events; the ledger, the live progress display (and later the dashboard and
the MCP server) subscribe. Sinks are called synchronously and in order, so a sink that records the
event (the ledger) has done so before the engine takes its next action.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from aifactory.domain.plan import TaskKind
from aifactory.domain.run import AttemptState, Role, RunState, StepState
from aifactory.domain.usage import Usage
from aifactory.domain.verdict import Verdict
from aifactory.domain.workflow import WorkflowState, WorkflowStepState


def _now() -> datetime:
    return datetime.now(UTC)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime = Field(default_factory=_now)


class RunStarted(_Event):
    kind: Literal["run-started"] = "run-started"
    run_id: str
    title: str
    ask: str
    plan_path: str
    repo: str
    base_commit: str
    attempts: int
    steps: int
    rounds: int = 1
    max_cost: Decimal | None = None
    max_tokens: int | None = None
    """The run's budget (None: no limit), recorded so that a resume keeps it."""
    learning: bool = True
    """Whether rounds teach lessons (a replay's do not)."""


class RunResumed(_Event):
    """A stopped run taken up by this process: round `round` again, its unfinished attempts continued."""

    kind: Literal["run-resumed"] = "run-resumed"
    run_id: str
    round: int
    continued: tuple[str, ...]
    kept: tuple[str, ...] = ()
    """Attempts of the round that already had their verdict, kept as they were."""
    max_cost: Decimal | None = None
    max_tokens: int | None = None
    """The budget from now on, counting what the run spent before."""


class PlanWritten(_Event):
    """A plan file written from a blueprint version, with the lessons it carries."""

    kind: Literal["plan-written"] = "plan-written"
    path: str
    title: str
    ask: str
    blueprint: str
    task_kind: TaskKind | None = None
    lessons: tuple[str, ...] = ()


class RoundStarted(_Event):
    """A round: attempts of one rendering of the plan, from one blueprint version."""

    kind: Literal["round-started"] = "round-started"
    run_id: str
    round: int
    blueprint: str
    plan_path: str
    lessons: tuple[str, ...] = ()


class RoundFinished(_Event):
    kind: Literal["round-finished"] = "round-finished"
    run_id: str
    round: int
    passed: bool
    reason: str = ""


class AttemptPlanned(_Event):
    """Emitted before the worktree and branch exist, so they can always be found and cleaned."""

    kind: Literal["attempt-planned"] = "attempt-planned"
    run_id: str
    attempt: str
    round: int = 1
    blueprint: str = ""
    branch: str
    worktree: str


class AttemptChanged(_Event):
    kind: Literal["attempt-changed"] = "attempt-changed"
    run_id: str
    attempt: str
    state: AttemptState
    reason: str = ""


class StepStarted(_Event):
    kind: Literal["step-started"] = "step-started"
    run_id: str
    attempt: str
    index: int
    total: int
    title: str


class StepFinished(_Event):
    kind: Literal["step-finished"] = "step-finished"
    run_id: str
    attempt: str
    index: int
    state: StepState
    commit: str | None = None
    summary: str = ""
    reason: str = ""
    tool_calls: int = 0
    refusals: int = 0
    """Tool calls the agent made, and how many the factory refused (a path outside the worktree)."""
    executor: str = ""
    """Who carried the step out, as `NAME:MODEL` (an agent's or the first pooled provider's name)."""


class AgentToolCalled(_Event):
    """One tool call an executor's agent made, as it happened (the built-in agent's and a CLI's alike).

    `target` is what the call acted on, kept short and free of secrets: a path, a command's opening.
    """

    kind: Literal["agent-tool-called"] = "agent-tool-called"
    run_id: str | None = None
    attempt: str | None = None
    step: int | None = None
    agent: str
    tool: str
    target: str = ""
    ok: bool = True


class SmallAgentRan(_Event):
    """A small agent (`.factory/blueprint/agents/NAME.md`) ran on an attempt's worktree or on files.

    `commit` is the agent's own commit, None when it changed nothing or its change was `dropped`
    (the reason: a check it must pass failed, so the worktree was reset to before it). `run_id` is the
    attempt's run, or the agent's own id (`agent-NAME-STAMP`) when it ran on files.
    """

    kind: Literal["small-agent-ran"] = "small-agent-ran"
    run_id: str
    attempt: str | None = None
    agent: str
    branch: str = ""
    commit: str | None = None
    dropped: str | None = None
    summary: str = ""
    report: tuple[str, ...] = ()


class ModelCalled(_Event):
    """One request on the wire; failed requests are recorded too, with their error."""

    kind: Literal["model-called"] = "model-called"
    run_id: str | None = None
    attempt: str | None = None
    step: int | None = None
    role: Role
    provider: str
    model: str
    usage: Usage = Usage()
    latency_ms: int
    error: str | None = None


class ProviderCooled(_Event):
    """A provider hit a limit: no role uses it before `until` (kept in the ledger for every run)."""

    kind: Literal["provider-cooled"] = "provider-cooled"
    provider: str
    until: datetime
    reason: str
    role: Role
    run_id: str | None = None
    attempt: str | None = None
    step: int | None = None


class ProviderSwitched(_Event):
    """A role's request went to its next model choice because the one before could not serve it."""

    kind: Literal["provider-switched"] = "provider-switched"
    role: Role
    from_provider: str
    to_provider: str
    to_model: str
    reason: str
    run_id: str | None = None
    attempt: str | None = None
    step: int | None = None


class PoolWaiting(_Event):
    """Every choice of a role is cooling down: the request waits until the earliest is back."""

    kind: Literal["pool-waiting"] = "pool-waiting"
    role: Role
    until: datetime
    run_id: str | None = None
    attempt: str | None = None
    step: int | None = None


class VerdictReached(_Event):
    kind: Literal["verdict-reached"] = "verdict-reached"
    run_id: str
    attempt: str
    verdict: Verdict


class LessonActivity(StrEnum):
    """What happened to a lesson; the ledger keeps every occurrence for `factory stats`."""

    PROPOSED = "proposed"
    ACTIVATED = "activated"
    STRENGTHENED = "strengthened"
    MERGED = "merged"
    CHECK_PROVEN = "check-proven"
    CHECK_REJECTED = "check-rejected"
    INJECTED = "injected"
    FIRED = "fired"
    REJECTED = "rejected"
    RETIRED = "retired"
    RETIREMENT_PROPOSED = "retirement-proposed"
    EDITED = "edited"


class LessonNoted(_Event):
    kind: Literal["lesson-noted"] = "lesson-noted"
    lesson: str
    activity: LessonActivity
    run_id: str | None = None
    round: int | None = None
    attempt: str | None = None
    blueprint: str | None = None
    detail: str = ""
    """Free text, except for `fired`, where it is the number of hits (`factory stats` sums them)."""


class RunFinished(_Event):
    kind: Literal["run-finished"] = "run-finished"
    run_id: str
    state: RunState
    reason: str = ""


class WorkflowStarted(_Event):
    """A workflow run began (or a resume took it up: same id, `resumed` true)."""

    kind: Literal["workflow-started"] = "workflow-started"
    run_id: str
    workflow: str
    file: str
    inputs: dict[str, str | list[str]]
    branch: str
    worktree: str
    base_commit: str
    resumed: bool = False


class WorkflowStepChanged(_Event):
    """One step instance started, finished, failed or was skipped; outputs are set when it is done."""

    kind: Literal["workflow-step-changed"] = "workflow-step-changed"
    run_id: str
    key: str
    step: str
    step_kind: str
    item: str | None = None
    state: WorkflowStepState
    outputs: dict[str, str | list[str]] = Field(default_factory=dict)
    reason: str = ""
    commit: str | None = None


class WorkflowFinished(_Event):
    kind: Literal["workflow-finished"] = "workflow-finished"
    run_id: str
    state: WorkflowState
    reason: str = ""


Event = Annotated[
    RunStarted
    | RunResumed
    | PlanWritten
    | RoundStarted
    | RoundFinished
    | AttemptPlanned
    | AttemptChanged
    | StepStarted
    | StepFinished
    | AgentToolCalled
    | SmallAgentRan
    | ModelCalled
    | ProviderCooled
    | ProviderSwitched
    | PoolWaiting
    | VerdictReached
    | LessonNoted
    | RunFinished
    | WorkflowStarted
    | WorkflowStepChanged
    | WorkflowFinished,
    Field(discriminator="kind"),
]

EventSink = Callable[[Event], None]
"""Anything that takes events: the ledger recorder, a progress display, a test's list.append."""


class EventBus:
    """Fans each event out to every subscriber, in subscription order."""

    def __init__(self, *sinks: EventSink) -> None:
        self._sinks: list[EventSink] = list(sinks)

    def subscribe(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def __call__(self, event: Event) -> None:
        for sink in self._sinks:
            sink(event)
