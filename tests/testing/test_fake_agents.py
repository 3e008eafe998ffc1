"""pydantic-ai agents run against the simulated model over both wire protocols, streamed and not."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext, ToolOutput
from pydantic_ai.messages import AgentStreamEvent, PartDeltaEvent, TextPartDelta

from aifactory.testing import (
    FakeServer,
    Rules,
    Script,
    SimReply,
    SimRequest,
    call_tool,
    has_result,
    offers_tool,
    reply_text,
)
from tests.testing.conftest import MODEL_NAMES


class Plan(BaseModel):
    title: str
    steps: list[str]


def _submit_plan(request: SimRequest) -> SimReply:
    (result,) = request.results_since_user()
    return call_tool("submit_plan", title="Sum", steps=[f"the sum is {result.content}"])


PLANNER = Rules(
    (has_result("add"), _submit_plan),
    (offers_tool("add"), call_tool("add", x=2, y=3)),
)


def _planner(model: Any) -> Agent[None, Plan]:
    agent = Agent(model, output_type=ToolOutput(Plan, name="submit_plan"), instructions="You plan.")

    @agent.tool_plain
    def add(x: int, y: int) -> int:
        """Add two integers."""
        return x + y

    return agent


class _Collector:
    """An event stream handler: passing one makes pydantic-ai stream the request."""

    def __init__(self) -> None:
        self.events: list[AgentStreamEvent] = []

    async def __call__(self, ctx: RunContext[Any], events: AsyncIterable[AgentStreamEvent]) -> None:
        async for event in events:
            self.events.append(event)


async def _run(agent: Agent[None, Any], prompt: str, streamed: bool) -> Any:
    if streamed:
        return await agent.run(prompt, event_stream_handler=_Collector())
    return await agent.run(prompt)


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "sse"])
async def test_tool_round_trip_ends_in_the_output_tool(
    protocol: str, streamed: bool, make_model: Any
) -> None:
    with FakeServer(PLANNER, protocol) as server:
        result = await _run(_planner(make_model(server)), "Add two and three", streamed)

    assert result.output == Plan(title="Sum", steps=["the sum is 5"])
    first, second = server.requests
    assert [first.sim.stream, second.sim.stream] == [streamed, streamed]
    assert first.sim.system.endswith("You plan.")  # after any framing text pydantic-ai adds
    assert first.sim.last_user_text == "Add two and three"
    assert set(first.sim.tools) == {"add", "submit_plan"}
    assert first.sim.tool_choice == "required"
    assert second.sim.turns_since_user() == 1
    assert [r.content for r in second.sim.find_results("add")] == ["5"]


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "sse"])
async def test_usage_arrives_in_the_run_result(protocol: str, streamed: bool, make_model: Any) -> None:
    scenario = Script(SimReply(text="done", input_tokens=1200, output_tokens=345), reply_text("done again"))
    with FakeServer(scenario, protocol) as server:
        agent = Agent(make_model(server))
        overridden = await _run(agent, "Say done", streamed)
        simulated = await _run(agent, "Say done", streamed)

    assert (overridden.usage.input_tokens, overridden.usage.output_tokens) == (1200, 345)
    assert simulated.usage.output_tokens == 3  # "done again": 10 characters at 4 per token
    assert 0 < simulated.usage.input_tokens < 100
    assert simulated.usage.requests == 1


async def test_streamed_text_arrives_in_several_deltas(protocol: str, make_model: Any) -> None:
    text = "The plan has three steps: read the code, change it, and run the tests again."
    collector = _Collector()
    with FakeServer(Script(reply_text(text)), protocol) as server:
        result = await Agent(make_model(server)).run("Plan", event_stream_handler=collector)

    deltas = [e.delta for e in collector.events if isinstance(e, PartDeltaEvent)]
    assert result.output == text
    assert len([d for d in deltas if isinstance(d, TextPartDelta)]) >= 2


WHERE_THE_KEY_AND_MODEL_GO = {
    "anthropic": ("authorization", "Bearer sk-recorded", "/v1/messages"),
    "openai": ("authorization", "Bearer sk-recorded", "/v1/chat/completions"),
    "openai-responses": ("authorization", "Bearer sk-recorded", "/v1/responses"),
    "azure-openai": ("api-key", "sk-recorded", "/openai/deployments/gpt-4o/chat/completions"),
    "azure-openai-responses": ("api-key", "sk-recorded", "/openai/responses"),
    "bedrock": (
        "authorization",
        "AWS4-HMAC-SHA256 Credential=sk-recorded/",
        "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse",
    ),
}
"""Per protocol: the header carrying the credential, how it starts, and the path (which names the model
where the API puts it there rather than in the body)."""


async def test_recorded_requests_show_the_wire_body_and_headers(protocol: str, make_model: Any) -> None:
    with FakeServer(Script(reply_text("ok")), protocol) as server:
        await Agent(make_model(server, api_key="sk-recorded")).run("Hello")

    (request,) = server.requests
    header, credential, route = WHERE_THE_KEY_AND_MODEL_GO[protocol]
    assert request.headers[header].startswith(credential)
    assert request.path.partition("?")[0] == route
    assert request.sim.model == MODEL_NAMES[protocol]
