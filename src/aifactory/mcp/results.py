"""What the MCP tools answer: typed results, so each tool publishes an output schema a client can rely on.

Each model is built from the service layer's own results; nothing here decides anything.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from aifactory.checks.hits import Hit
from aifactory.domain.lesson import Lesson
from aifactory.domain.plan import Plan
from aifactory.domain.run import AttemptState
from aifactory.engine.small_agents import AgentResult
from aifactory.ledger.queries import RunDetail
from aifactory.service.checking import CheckResult
from aifactory.service.launching import Starting
from aifactory.service.small_agents import AgentEntry

STARTING = "starting"
FAILED_TO_START = "failed-to-start"


class PlanOutcome(BaseModel):
    path: str = Field(description="The plan file, relative to the repository: give it to `run`.")
    title: str
    steps: list[str] = Field(description="The reviewed task list; empty while questions are open.")
    open_questions: list[str] = Field(description="Questions to answer with `answer` before running.")
    next: str

    @classmethod
    def of(cls, path: Path, root: Path, plan: Plan) -> PlanOutcome:
        shown = path.resolve().relative_to(root.resolve()).as_posix()
        questions = [q.text for q in plan.open_questions]
        next_step = (
            f"call answer with plan_path={shown!r} and one answer per open question"
            if questions
            else f"call run with plan_path={shown!r}"
        )
        return cls(
            path=shown,
            title=plan.title,
            steps=[step.title for step in plan.steps],
            open_questions=questions,
            next=next_step,
        )


class RunStarted(BaseModel):
    run_id: str
    log: str = Field(description="Where the background `factory run` writes its output.")
    next: str


class AttemptProgress(BaseModel):
    name: str
    round: int
    state: str
    steps_done: int
    steps: int
    reason: str


class RunStatus(BaseModel):
    run_id: str
    state: str = Field(
        description="running, passed, failed or interrupted; starting or failed-to-start before the "
        "run is recorded."
    )
    finished: bool
    reason: str
    attempts: list[AttemptProgress]
    passed: list[str] = Field(description="Attempts that passed: merge one with `factory merge RUN ATTEMPT`.")
    output: str = Field(
        default="", description="The launched run's last output lines, before it is recorded."
    )

    @classmethod
    def of(cls, run: RunDetail) -> RunStatus:
        attempts = [
            AttemptProgress(
                name=a.name,
                round=a.round,
                state=a.state.value,
                steps_done=sum(1 for s in a.steps if s.commit is not None),
                steps=run.planned_steps,
                reason=a.reason,
            )
            for a in run.attempts
        ]
        return cls(
            run_id=run.id,
            state=run.state.value,
            finished=run.state.finished,
            reason=run.reason,
            attempts=attempts,
            passed=[a.name for a in run.attempts if a.state is AttemptState.PASSED],
        )

    @classmethod
    def launched(cls, starting: Starting) -> RunStatus:
        return cls(
            run_id=starting.run_id,
            state=STARTING if starting.alive else FAILED_TO_START,
            finished=not starting.alive,
            reason="" if starting.alive else "the run ended before it was recorded; see output",
            attempts=[],
            passed=[],
            output=starting.output,
        )


class CheckHit(BaseModel):
    path: str
    line: int
    column: int
    lesson: str
    message: str
    severity: str

    @classmethod
    def of(cls, hit: Hit) -> CheckHit:
        return cls(
            path=hit.path,
            line=hit.line,
            column=hit.column,
            lesson=hit.lesson,
            message=hit.message,
            severity=hit.severity.value,
        )


class CommandOutcome(BaseModel):
    command: str
    passed: bool
    summary: str


class CheckOutcome(BaseModel):
    lessons: int = Field(description="Lesson checks run.")
    files: int
    hits: list[CheckHit]
    commands: list[CommandOutcome]
    blocking: bool = Field(
        description="True when a hit or a command blocks (what exits 1 in `factory check`)."
    )

    @classmethod
    def of(cls, result: CheckResult) -> CheckOutcome:
        return cls(
            lessons=result.lessons,
            files=result.report.files,
            hits=[CheckHit.of(hit) for hit in result.report.hits],
            commands=[
                CommandOutcome(command=command, passed=verdict.passed, summary=verdict.summary)
                for command, verdict in result.commands
            ],
            blocking=result.blocking,
        )


class LessonList(BaseModel):
    lessons: list[Lesson]
    problems: list[str] = Field(description="Lesson files skipped as malformed, with the fix.")


class ProposedLesson(BaseModel):
    id: str
    path: str
    status: str
    next: str


class AgentOutcome(BaseModel):
    agent: str
    branch: str = Field(description="The branch the agent worked on; merge it to keep its commit.")
    commit: str | None = Field(description="Its commit; null when it changed nothing or was dropped.")
    dropped: str | None = Field(description="Why its change was discarded (a check failed, ...).")
    summary: str
    report: list[str] = Field(description="What the agent reports it did, one line each.")

    @classmethod
    def of(cls, result: AgentResult) -> AgentOutcome:
        return cls(
            agent=result.agent,
            branch=result.branch,
            commit=result.commit,
            dropped=result.dropped,
            summary=result.summary,
            report=list(result.report),
        )


class AgentInfo(BaseModel):
    name: str
    description: str = ""
    inputs: list[str] = Field(default=[], description="Inputs its prompt takes; give the others in `inputs`.")
    output: str = Field(default="", description="commit (it changes files) or report (it only reports).")
    problem: str = Field(default="", description="What is wrong with its file; it cannot run until fixed.")

    @classmethod
    def of(cls, entry: AgentEntry) -> AgentInfo:
        if entry.definition is None:
            return cls(name=entry.name, problem=entry.problem)
        spec = entry.definition.spec
        return cls(
            name=entry.name, description=spec.description, inputs=list(spec.inputs), output=spec.output.value
        )


class AgentList(BaseModel):
    agents: list[AgentInfo]
