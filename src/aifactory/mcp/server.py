"""`factory mcp`: the factory's service layer as MCP tools and resources, for Claude Code and others.

A front end as thin as the CLI: each tool opens the project, calls the service function the CLI's
command calls, and answers typed data. What a client sends is untrusted: every path is resolved
(symlinks followed) and refused outside the repository, and a `FactoryError` becomes a `ToolError`,
the error result a model reads and can act on, never a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from inspect import cleandoc
from pathlib import Path
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from aifactory import __version__
from aifactory.domain.lesson import LessonStatus, Scope
from aifactory.errors import FactoryError, NotFoundError
from aifactory.ledger.queries import RunDetail
from aifactory.mcp.results import (
    AgentInfo,
    AgentList,
    AgentOutcome,
    CheckOutcome,
    LessonList,
    PlanOutcome,
    ProposedLesson,
    RunStarted,
    RunStatus,
)
from aifactory.service import checking, inspect, launching, lessons, planning, small_agents
from aifactory.service.project import Project, Session, open_project, session

INSTRUCTIONS = (
    "aifactory turns an ask into verified code. Call plan with the ask; answer any open questions "
    "with answer; call run with the plan's path, which returns a run id at once; poll status until "
    "finished is true. check runs the lessons the factory learned as a linter; lessons lists them, "
    "and propose_lesson suggests one for the user to accept. agents lists the small agents; agent "
    "runs one on files, or on an attempt, its change one commit on a branch for the user to merge."
)
ANYWHERE = Scope()
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

RunId = Annotated[
    str, Field(min_length=1, description="A run id, or a unique prefix of it, as `run` returned.")
]
RepoPath = Annotated[str, Field(min_length=1, description="A path relative to the repository root.")]
AttemptRef = Annotated[
    str, Field(pattern=r"^[^/\s]+/[^/\s]+$", description="RUN/ATTEMPT, e.g. add-report-3f2a/a1.")
]


class Factory:
    """The tools and resources over one repository; the root is resolved once, symlinks included."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def inside(self, given: str) -> Path:
        """`given` (relative to the root, or absolute) resolved; refused if it leads out of the repository."""
        path = (self.root / given).resolve()
        if not path.is_relative_to(self.root):
            raise ToolError(f"{given}: outside the repository {self.root}; give a path inside it")
        return path

    @asynccontextmanager
    async def project(self, failure: type[Exception] = ToolError) -> AsyncIterator[Project]:
        """The project, with every factory error turned into `failure`: a tool's error result, or a
        resource's error."""
        try:
            yield await open_project(self.root)
        except FactoryError as error:
            raise failure(str(error)) from error

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        async with self.project() as project:
            with session(project) as current:
                yield current

    async def plan(
        self,
        ask: Annotated[str, Field(min_length=1, description="What to build, in the user's words.")],
        context: Annotated[
            tuple[RepoPath, ...], Field(description="Documents in the repository the planner should read.")
        ] = (),
    ) -> PlanOutcome:
        """Plan an ask: clarifying questions, then a plan and a reviewed task list in plans/.

        Questions the planner asks stay open in the plan and come back in `open_questions`;
        answer them with the `answer` tool (a client cannot be prompted mid-call)."""
        documents = [self.inside(path) for path in context]
        async with self.session() as current:
            result = await planning.plan_ask(current, ask, documents, planning.no_answers)
        return PlanOutcome.of(result.path, self.root, result.plan)

    async def answer(
        self,
        plan_path: RepoPath,
        answers: Annotated[
            list[str],
            Field(
                min_length=1,
                description="One answer per open question, in order; an empty string leaves it open.",
            ),
        ],
    ) -> PlanOutcome:
        """Answer a plan's open questions, then plan and review what it still lacks."""
        path = self.inside(plan_path)
        async with self.session() as current:
            open_questions = planning.read_plan(path).open_questions
            if len(answers) != len(open_questions):
                raise ToolError(
                    f"{plan_path} has {len(open_questions)} open question(s) and {len(answers)} answer(s) "
                    "were given: give one answer per open question, in order"
                )
            given = [text.strip() or None for text in answers]
            result = await planning.answer_plan(current, path, lambda _questions: list(given))
        return PlanOutcome.of(result.path, self.root, result.plan)

    async def run(
        self,
        plan_path: RepoPath,
        attempts: Annotated[
            int | None, Field(ge=1, le=64, description="Attempts to start; the configured number if omitted.")
        ] = None,
        rounds: Annotated[
            int | None, Field(ge=1, le=20, description="Rounds at most; the configured number if omitted.")
        ] = None,
    ) -> RunStarted:
        """Start running a plan in the background and answer its run id at once; poll `status` with it.

        The run is a detached `factory run` of its own, so it goes on if this client disconnects."""
        path = self.inside(plan_path)
        async with self.project() as project:
            launched = launching.launch(project, path, attempts=attempts, rounds=rounds)
        return RunStarted(
            run_id=launched.run_id,
            log=launched.log.relative_to(self.root).as_posix(),
            next=f"poll status with run_id={launched.run_id!r} until finished is true",
        )

    async def status(self, run_id: RunId) -> RunStatus:
        """A run's state, its attempts' progress (steps committed of planned) and which passed."""
        async with self.project() as project:
            try:
                return RunStatus.of(inspect.show(project, run_id))
            except NotFoundError:
                return RunStatus.launched(launching.starting(project, run_id))

    async def show(self, run_id: RunId) -> RunDetail:
        """Everything recorded about a run: rounds, attempts, steps with commits, verdicts, usage."""
        async with self.project() as project:
            return inspect.show(project, run_id)

    async def check(
        self,
        paths: Annotated[
            tuple[RepoPath, ...],
            Field(description="Files or folders to check; the whole repository if none."),
        ] = (),
        diff: Annotated[
            str | None,
            Field(pattern=r"^[^-]", description="A ref (main, HEAD~1): check only what changed since it."),
        ] = None,
        commands: Annotated[
            bool, Field(description="Also run the project's configured test and lint commands.")
        ] = False,
    ) -> CheckOutcome:
        """Run the lessons' checks as a linter, like `factory check`: the places each check fired."""
        targets = [self.inside(path) for path in paths]
        request = checking.CheckRequest(diff=diff, paths=targets, commands=commands)
        async with self.session() as current:
            return CheckOutcome.of(await checking.check(current, request))

    async def lessons(
        self,
        status: Annotated[
            LessonStatus | None, Field(description="Only lessons of this status; all if omitted.")
        ] = None,
    ) -> LessonList:
        """The lessons the factory holds: rule, status, scope, check and counters."""
        async with self.project() as project:
            shelf = lessons.list_lessons(project, status)
        return LessonList(lessons=list(shelf.lessons), problems=[str(problem) for problem in shelf.problems])

    async def propose_lesson(
        self,
        rule: Annotated[
            str, Field(min_length=1, description="One or two imperative sentences for a planner.")
        ],
        scope: Annotated[
            Scope,
            Field(description="Where it applies: path globs, languages, task kinds; anywhere if empty."),
        ] = ANYWHERE,
    ) -> ProposedLesson:
        """Propose a lesson; it waits as `proposed` until the user runs `factory lessons accept ID`."""
        async with self.session() as current:
            held = await lessons.propose(current, rule, scope)
        return ProposedLesson(
            id=held.lesson.id,
            path=held.path.relative_to(self.root).as_posix(),
            status=held.lesson.status.value,
            next=f"the user accepts it with `factory lessons accept {held.lesson.id}`",
        )

    async def agents(self) -> AgentList:
        """The small agents of .factory/blueprint/agents/: what each does, takes and produces."""
        async with self.project() as project:
            return AgentList(agents=[AgentInfo.of(entry) for entry in small_agents.list_agents(project)])

    async def agent(
        self,
        name: Annotated[str, Field(min_length=1, description="The agent's name, as `agents` lists it.")],
        files: Annotated[
            tuple[RepoPath, ...],
            Field(description="Files to work on, as committed at HEAD; the agent works on a new branch."),
        ] = (),
        on: Annotated[
            AttemptRef | None,
            Field(description="Instead of files: an attempt, worked on in its worktree and branch."),
        ] = None,
        inputs: Annotated[
            dict[str, str] | None,
            Field(description="Values for the inputs the agent takes beyond files, diff, style."),
        ] = None,
    ) -> AgentOutcome:
        """Run a small agent on files or on an attempt: its change becomes one commit, or is dropped
        with the reason (a check it must pass failed). Your working tree is never touched."""
        if (on is None) == (not files):
            raise ToolError("give either files (paths in the repository) or on (RUN/ATTEMPT), not both")
        target: small_agents.AgentTarget = (
            small_agents.OnAttempt(on)
            if on is not None
            else small_agents.OnFiles(tuple(map(self.inside, files)))
        )
        async with self.session() as current:
            return AgentOutcome.of(await small_agents.run_agent(current, name, target, inputs))

    async def plan_text(self, name: str) -> str:
        """A plan file under plans/, as written."""
        async with self.project(ResourceError) as project:
            path = (project.plans_dir / name).resolve()
            if path.parent != project.plans_dir.resolve() or not path.is_file():
                raise NotFoundError(f"no plan {name!r} in plans/")
            return path.read_text(encoding="utf-8")

    async def lesson_text(self, lesson_id: str) -> str:
        """A lesson's file: its TOML header and its rule."""
        async with self.project(ResourceError) as project:
            return lessons.book(project).existing(lesson_id).read_text(encoding="utf-8")

    async def run_summary(self, run_id: str) -> str:
        """A run's status as JSON, as the `status` tool answers it."""
        async with self.project(ResourceError) as project:
            return RunStatus.of(inspect.show(project, run_id)).model_dump_json(indent=2)


def build(root: Path) -> MCPServer:
    """The server for the repository at `root`: its tools and its plan, lesson and run resources."""
    factory = Factory(root)
    server = MCPServer("aifactory", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    for tool, read_only in (
        (factory.plan, False),
        (factory.answer, False),
        (factory.run, False),
        (factory.status, True),
        (factory.show, True),
        (factory.check, True),
        (factory.lessons, True),
        (factory.propose_lesson, False),
        (factory.agents, True),
        (factory.agent, False),
    ):
        description = cleandoc(tool.__doc__ or "")
        server.add_tool(tool, description=description, annotations=READ_ONLY if read_only else None)
    server.resource("plan://{name}", name="plan", mime_type="text/markdown")(factory.plan_text)
    server.resource("lesson://{lesson_id}", name="lesson", mime_type="text/markdown")(factory.lesson_text)
    server.resource("run://{run_id}", name="run", mime_type="application/json")(factory.run_summary)
    return server
