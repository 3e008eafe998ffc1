"""Server behaviour a test suite leans on: concurrency, cache accounting, readable failures, clean stops."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import AsyncIterable
from typing import Any

import httpx
import pytest
from pydantic_ai import Agent, RunContext
from pydantic_ai.exceptions import ModelServerError
from pydantic_ai.messages import AgentStreamEvent

from aifactory.testing import (
    Delay,
    FakeServer,
    Rules,
    Script,
    always,
    call_tool,
    offers_tool,
    reply_text,
)

LONG_INSTRUCTIONS = "Plan in small steps that each leave the tests passing. " * 100


async def test_concurrent_calls_wait_out_latency_together(protocol: str, make_model: Any) -> None:
    with FakeServer(Rules((always, reply_text("ok"))), protocol, latency=0.2) as server:
        agent = Agent(make_model(server))
        # Earlier tests' garbage (SDK clients, boto3's large and cyclic) must not be collected in the window.
        gc.collect()
        started = time.perf_counter()
        results = await asyncio.gather(*(agent.run(f"call {i}") for i in range(12)))
        elapsed = time.perf_counter() - started

    assert [r.output for r in results] == ["ok"] * 12
    assert 0.2 <= elapsed < 0.6


async def _ignore(ctx: RunContext[Any], events: AsyncIterable[AgentStreamEvent]) -> None:
    async for _ in events:
        pass


@pytest.mark.parametrize("handler", [None, _ignore], ids=["json", "sse"])
async def test_anthropic_cache_is_written_then_read(handler: Any, make_model: Any) -> None:
    with FakeServer(Rules((always, reply_text("ok"))), "anthropic") as server:
        agent = Agent(
            make_model(server),
            instructions=LONG_INSTRUCTIONS,
            model_settings={"max_tokens": 1024, "anthropic_cache_instructions": True},
        )
        first = (await agent.run("First question", event_stream_handler=handler)).usage
        second = (await agent.run("Second question", event_stream_handler=handler)).usage

    assert first.cache_write_tokens > len(LONG_INSTRUCTIONS) // 4
    assert first.cache_read_tokens == 0
    assert (second.cache_write_tokens, second.cache_read_tokens) == (0, first.cache_write_tokens)
    assert second.input_tokens > second.cache_read_tokens  # pydantic-ai counts cached input in the total


async def test_anthropic_cache_reads_back_an_earlier_breakpoint_in_a_tool_loop(make_model: Any) -> None:
    scenario = Rules(
        (lambda r: bool(r.results_since_user()), reply_text("done")),
        (offers_tool("lookup"), call_tool("lookup", key="a")),
    )
    with FakeServer(scenario, "anthropic") as server:
        agent = Agent(
            make_model(server), model_settings={"max_tokens": 1024, "anthropic_cache_messages": True}
        )

        @agent.tool_plain
        def lookup(key: str) -> str:
            """Look a key up."""
            return "value " * 50

        result = await agent.run(LONG_INSTRUCTIONS)

    first, second = (r.usage for r in result.all_messages() if r.kind == "response")
    assert first.cache_read_tokens == 0
    assert second.cache_read_tokens == first.cache_write_tokens
    assert second.cache_write_tokens > 0


async def test_openai_caches_long_prompt_prefixes_only(make_model: Any) -> None:
    with FakeServer(Rules((always, reply_text("ok"))), "openai") as server:
        short = Agent(make_model(server), instructions="Be brief.")
        long = Agent(make_model(server), instructions=LONG_INSTRUCTIONS)
        short_runs = [(await short.run(q)).usage for q in ("One", "Two")]
        long_runs = [(await long.run(q)).usage for q in ("One", "Two")]

    assert [u.cache_read_tokens for u in short_runs] == [0, 0]
    assert long_runs[0].cache_read_tokens == 0
    assert long_runs[1].cache_read_tokens >= 1024


async def test_no_rule_matched_names_the_tools_and_the_prompt(protocol: str, make_model: Any) -> None:
    prompt = "Please plan the migration " + "x" * 300
    with FakeServer(Rules((offers_tool("submit_plan"), reply_text("unused"))), protocol) as server:
        agent = Agent(make_model(server))

        @agent.tool_plain
        def read_file(path: str) -> str:
            """Read a file."""
            return path

        with pytest.raises(ModelServerError) as raised:
            await agent.run(prompt)

    message = str(raised.value)
    assert "NoRuleMatched" in message
    assert "[read_file]" in message
    assert repr(prompt[:200]) in message
    assert prompt[:201] not in message


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (Rules((always, lambda request: call_tool("x", n=1 // 0))), "the scenario raised: ZeroDivisionError"),
        (Script(call_tool("x", when=object())), "TypeError: Object of type object is not JSON serializable"),
        (Script(), "the script ran out after 0 answers"),
    ],
    ids=["raises", "unrenderable", "exhausted"],
)
async def test_scenario_mistakes_become_readable_500s(scenario: Any, expected: str, make_model: Any) -> None:
    with FakeServer(scenario, "openai") as server, pytest.raises(ModelServerError) as raised:
        await Agent(make_model(server)).run("Hello")

    assert expected in str(raised.value)


def test_stop_cuts_a_pending_delay_instead_of_waiting() -> None:
    outcome: list[object] = []
    server = FakeServer(Script(Delay(30.0)), "anthropic").start()

    def call() -> None:
        body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
        try:
            outcome.append(
                httpx.post(f"{server.base_url}/v1/messages", json=body, headers={"x-api-key": "k"})
            )
        except httpx.HTTPError as error:
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    while not server.requests:
        time.sleep(0.01)
    started = time.perf_counter()
    server.stop()
    caller.join(timeout=5)

    assert time.perf_counter() - started < 1
    assert not caller.is_alive()
    assert outcome


def test_an_unknown_protocol_is_refused_with_the_choices() -> None:
    unsupported: Any = "mistral"
    choices = (
        "'anthropic', 'azure-openai', 'azure-openai-responses', 'bedrock', 'gemini', 'openai', "
        "'openai-responses'"
    )
    with pytest.raises(ValueError, match=rf"choose one of \[{choices}\]"):
        FakeServer(Script(), unsupported)
