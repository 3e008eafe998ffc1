"""`factory mcp` through the official MCP SDK's client, over stdio and streamable HTTP, model simulated.

The server is the real `python -m aifactory mcp` in a subprocess; a run it starts is a detached
`factory run` that goes on after the client that asked for it has gone.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import TextResourceContents

from aifactory.blueprint.lessons import LessonBook
from aifactory.domain.lesson import AstGrepSpec, Lesson, LessonStatus
from aifactory.testing.team import scripted_team
from tests.mcp_client import data, refused, server_env, stdio
from tests.sim import SimProject, sim_project

CODE = "def load(path):\n    with open(path) as handle:\n        return handle.read()\n"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
TOOLS = {"plan", "answer", "run", "status", "show", "check", "lessons", "propose_lesson", "agents", "agent"}


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProject]:
    files = {"README.md": "# sample\n", "src/io.py": CODE}
    with sim_project(tmp_path, scripted_team(steps=2), files=files) as project:
        LessonBook(project.repo / ".factory" / "blueprint" / "lessons").save(
            Lesson(
                id="stream-files",
                rule="Read files as a stream.",
                status=LessonStatus.ACTIVE,
                check=AstGrepSpec(
                    language="python", rule={"pattern": "$F.read()"}, message="reads a whole file"
                ),
                created=NOW,
                activated=NOW,
            )
        )
        (tmp_path / "secret.txt").write_text("not the factory's business\n")
        (project.repo / "escape").symlink_to(tmp_path / "secret.txt")
        yield project


async def plan_and_start(client: Client) -> tuple[str, str]:
    """List the tools, plan an ask and start its run: the plan's path and the run id."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    run_schema = tools["run"].input_schema
    assert run_schema["required"] == ["plan_path"]
    assert "repository root" in run_schema["properties"]["plan_path"]["description"]
    assert tools["status"].annotations is not None and tools["status"].annotations.read_only_hint

    planned = data(await client.call_tool("plan", {"ask": "Write two notes"}))
    assert planned["steps"] == ["Write note 1", "Write note 2"] and planned["open_questions"] == []
    started = data(await client.call_tool("run", {"plan_path": planned["path"], "attempts": 1}))
    assert started["run_id"].startswith("write-the-notes-")
    return planned["path"], started["run_id"]


async def until_finished(client: Client, run_id: str, states: set[str] | None = None) -> dict[str, Any]:
    async with asyncio.timeout(120):
        while True:
            status = data(await client.call_tool("status", {"run_id": run_id}))
            assert status["state"] in (states or {"starting", "running", "passed"}), status
            if status["finished"]:
                return status
            await asyncio.sleep(0.3)


async def inspect_and_refuse(client: Client, sim: SimProject, plan_path: str, run_id: str) -> None:
    """After a run passed: status, show, check, lessons, resources, and every kind of bad input."""
    status = await until_finished(client, run_id)
    assert status["state"] == "passed" and status["passed"] == ["a1"]
    assert status["attempts"][0]["steps_done"] == status["attempts"][0]["steps"] == 2
    shown = data(await client.call_tool("show", {"run_id": run_id[:12]}))
    assert shown["id"] == run_id and shown["attempts"][0]["steps"][1]["title"] == "Write note 2"

    checked = data(await client.call_tool("check", {"paths": ["src"]}))
    assert [(h["path"], h["line"], h["lesson"]) for h in checked["hits"]] == [
        ("src/io.py", 3, "stream-files")
    ]
    assert checked["blocking"]
    held = data(await client.call_tool("lessons", {}))
    assert [lesson["id"] for lesson in held["lessons"]] == ["stream-files"]

    run_text = await resource(client, f"run://{run_id}")
    assert json.loads(run_text)["state"] == "passed"
    assert "Write note 1" in await resource(client, f"plan://{Path(plan_path).name}")
    assert "Read files as a stream." in await resource(client, "lesson://stream-files")

    bad_type = refused(await client.call_tool("run", {"plan_path": plan_path, "attempts": "many"}))
    assert "attempts" in bad_type
    assert "attempts" in refused(await client.call_tool("run", {"plan_path": plan_path, "attempts": 0}))
    assert "ask" in refused(await client.call_tool("plan", {}))
    for tool, arguments in (
        ("check", {"paths": ["../secret.txt"]}),
        ("check", {"paths": ["escape"]}),
        ("check", {"paths": [str(sim.repo.parent / "secret.txt")]}),
        ("plan", {"ask": "Summarize", "context": ["escape"]}),
        ("run", {"plan_path": "../secret.txt"}),
    ):
        assert "outside the repository" in refused(await client.call_tool(tool, arguments)), (tool, arguments)
    assert "no run" in refused(await client.call_tool("status", {"run_id": "nothing-like-it"}))
    assert "open question" not in refused(await client.call_tool("run", {"plan_path": "plans/none-plan.md"}))


async def resource(client: Client, uri: str) -> str:
    contents = (await client.read_resource(uri)).contents
    assert isinstance(contents[0], TextResourceContents)
    return contents[0].text


def test_over_stdio_a_run_started_by_one_client_passes_after_it_disconnects(sim: SimProject) -> None:
    async def first() -> tuple[str, str]:
        async with stdio(sim) as client:
            return await plan_and_start(client)

    async def second(plan_path: str, run_id: str) -> None:
        async with stdio(sim) as client:
            await inspect_and_refuse(client, sim, plan_path, run_id)

    plan_path, run_id = asyncio.run(first())
    asyncio.run(second(plan_path, run_id))


def test_a_client_proposes_a_lesson_that_waits_for_the_user(sim: SimProject) -> None:
    async def scenario() -> None:
        async with stdio(sim) as client:
            scope = {"languages": ["python"], "paths": ["src/**"]}
            proposed = data(
                await client.call_tool(
                    "propose_lesson", {"rule": "Close every file you open.", "scope": scope}
                )
            )
            assert proposed["status"] == "proposed" and proposed["path"].startswith(
                ".factory/blueprint/lessons/"
            )
            waiting = data(await client.call_tool("lessons", {"status": "proposed"}))
            assert [lesson["id"] for lesson in waiting["lessons"]] == [proposed["id"]]
            assert waiting["lessons"][0]["scope"]["languages"] == ["python"]
            assert "status" in refused(await client.call_tool("lessons", {"status": "maybe"}))
            assert "rule" in refused(await client.call_tool("propose_lesson", {"rule": ""}))

    asyncio.run(scenario())
    listed = sim.cli("lessons", "--status", "proposed")
    assert "Close every file you open." in listed.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def http_server(sim: SimProject) -> Iterator[str]:
    """`factory mcp --http PORT` until the test ends; its URL once it accepts connections."""
    port = free_port()
    command = [sys.executable, "-m", "aifactory", "--repo", str(sim.repo), "mcp", "--http", str(port)]
    server = subprocess.Popen(command, env=server_env(sim), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except ConnectionRefusedError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.terminate()
        server.communicate(timeout=10)


def test_over_streamable_http_on_loopback_the_same_tools_plan_run_and_refuse(sim: SimProject) -> None:
    async def scenario(url: str) -> None:
        async with Client(url, read_timeout_seconds=60) as client:
            plan_path, run_id = await plan_and_start(client)
            await inspect_and_refuse(client, sim, plan_path, run_id)

    with http_server(sim) as url:
        asyncio.run(scenario(url))
        listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=False).stdout
        port = url.rsplit(":", 1)[1].split("/")[0]
        bound = [line.split()[3] for line in listening.splitlines() if line.split()[3].endswith(f":{port}")]
        assert bound == [f"127.0.0.1:{port}"]


def test_serving_a_repository_without_factory_init_says_what_to_run(git_repo: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aifactory", "--repo", str(git_repo), "mcp"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2 and "run `factory init`" in result.stderr


def test_the_planners_questions_come_back_and_the_answer_tool_completes_the_plan(tmp_path: Path) -> None:
    team = scripted_team(steps=1, questions=["Which format?", "Where do notes go?"])
    with sim_project(tmp_path, team) as sim:

        async def scenario() -> None:
            async with stdio(sim) as client:
                asked = data(await client.call_tool("plan", {"ask": "Write a note"}))
                assert asked["open_questions"] == ["Which format?", "Where do notes go?"]
                assert asked["steps"] == [] and "answer" in asked["next"]
                arguments = {"plan_path": asked["path"], "answers": ["Plain text."]}
                assert "2 open question(s)" in refused(await client.call_tool("answer", arguments))
                unanswered = refused(await client.call_tool("run", {"plan_path": asked["path"]}))
                assert "open question" in unanswered
                arguments["answers"] = ["Plain text.", "Under notes/."]
                done = data(await client.call_tool("answer", arguments))
                assert done["open_questions"] == [] and done["steps"] == ["Write note 1"]

        asyncio.run(scenario())


def test_a_run_that_fails_before_it_is_recorded_reports_why_through_status(sim: SimProject) -> None:
    async def plan() -> str:
        async with stdio(sim) as client:
            return str(data(await client.call_tool("plan", {"ask": "Write two notes"}))["path"])

    async def run_without_the_key(plan_path: str) -> dict[str, Any]:
        async with stdio(sim, key=False) as client:
            started = data(await client.call_tool("run", {"plan_path": plan_path}))
            return await until_finished(client, started["run_id"], {"starting", "failed-to-start"})

    status = asyncio.run(run_without_the_key(asyncio.run(plan())))
    assert status["state"] == "failed-to-start" and status["attempts"] == []
    assert "FACTORY_TEST_KEY" in status["output"], status
