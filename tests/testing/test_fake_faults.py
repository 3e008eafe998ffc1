"""Each simulated fault reaches pydantic-ai as the categorized error a real provider's would."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any

import pytest
from pydantic_ai import Agent, RunContext
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelServerError,
    ModelTimeoutError,
)
from pydantic_ai.messages import AgentStreamEvent

from aifactory.testing import (
    Delay,
    DropStream,
    ErrorEvent,
    FakeServer,
    Fault,
    FaultsFirst,
    HttpError,
    Script,
    call_tool,
    call_tool_raw,
    reply_text,
)
from tests.testing.conftest import MODEL_NAMES


async def _ignore(ctx: RunContext[Any], events: AsyncIterable[AgentStreamEvent]) -> None:
    async for _ in events:
        pass


async def _run(model: Any, streamed: bool) -> Any:
    agent = Agent(model)
    if streamed:
        return await agent.run("Hello", event_stream_handler=_ignore)
    return await agent.run("Hello")


@pytest.fixture(params=[False, True], ids=["json", "sse"])
def streamed(request: pytest.FixtureRequest) -> bool:
    """Run a test with a non-streamed and with a streamed request."""
    return bool(request.param)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (HttpError(529), ModelOverloadedError),
        (HttpError(500), ModelServerError),
        (HttpError(401), ModelAuthenticationError),
        (DropStream(after_events=3), ModelConnectionError),
    ],
    ids=["529", "500", "401", "dropped"],
)
async def test_fault_raises_its_category(
    protocol: str, streamed: bool, fault: Fault, error: type[ModelAPIError], make_model: Any
) -> None:
    if protocol == "bedrock" and isinstance(fault, DropStream) and not streamed:
        # botocore reads a cut JSON body as an empty response, which pydantic-ai reports as such.
        error = ModelAPIError
    with FakeServer(Script(fault), protocol) as server, pytest.raises(error):
        await _run(make_model(server), streamed)


async def test_rate_limit_tells_how_long_to_wait(protocol: str, streamed: bool, make_model: Any) -> None:
    limited = HttpError(429, headers={"retry-after": "7"})
    with FakeServer(Script(limited), protocol) as server, pytest.raises(ModelRateLimitError) as raised:
        await _run(make_model(server), streamed)

    assert raised.value.retry_after == 7


async def test_a_key_outside_the_servers_keys_is_refused_as_the_provider_refuses_it(
    protocol: str, make_model: Any
) -> None:
    with FakeServer(Script(reply_text("welcome")), protocol, keys={"right-key"}) as server:
        with pytest.raises(ModelAuthenticationError):
            await _run(make_model(server, api_key="wrong-key"), streamed=False)
        result = await _run(make_model(server, api_key="right-key"), streamed=False)

    assert result.output == "welcome"


async def test_unknown_model_is_not_found(protocol: str, streamed: bool, make_model: Any) -> None:
    known = set(MODEL_NAMES.values())
    with FakeServer(Script(reply_text("unused")), protocol, known_models=known) as server:
        with pytest.raises(ModelNotFoundError):
            await _run(make_model(server, model="no-such-model"), streamed)
        await _run(make_model(server), streamed)


@pytest.mark.parametrize(
    ("protocol", "event", "error"),
    [
        ("anthropic", ErrorEvent(after_events=4), ModelOverloadedError),
        (
            "openai",
            ErrorEvent(4, "requests", "Rate limit reached", code="rate_limit_exceeded"),
            ModelRateLimitError,
        ),
        (
            "bedrock",
            ErrorEvent(4, "throttlingException", "Too many tokens, please wait."),
            ModelRateLimitError,
        ),
        ("bedrock", ErrorEvent(2), ModelOverloadedError),
        (
            "openai-responses",
            ErrorEvent(4, "tokens", "Rate limit reached", code="rate_limit_exceeded"),
            ModelRateLimitError,
        ),
        (
            "azure-openai-responses",
            ErrorEvent(2, "server_error", "The server had an error", code="server_error", event="error"),
            ModelServerError,
        ),
    ],
)
async def test_error_event_mid_stream_raises_its_category(
    protocol: str, event: ErrorEvent, error: type[ModelAPIError], make_model: Any
) -> None:
    with FakeServer(Script(event), protocol) as server, pytest.raises(error) as raised:
        await _run(make_model(server), streamed=True)

    assert raised.value.in_stream


async def test_error_event_without_streaming_is_the_same_error_over_http(make_model: Any) -> None:
    with (
        FakeServer(Script(ErrorEvent()), "anthropic") as server,
        pytest.raises(ModelOverloadedError) as raised,
    ):
        await _run(make_model(server), streamed=False)

    assert not raised.value.in_stream


async def test_delay_beyond_the_client_timeout_times_out(protocol: str, make_model: Any) -> None:
    with FakeServer(Script(Delay(5.0)), protocol) as server, pytest.raises(ModelTimeoutError):
        await _run(make_model(server, timeout=0.3), streamed=False)


async def test_delay_then_reply_arrives_late(protocol: str, streamed: bool, make_model: Any) -> None:
    with FakeServer(Script(Delay(0.05, then=reply_text("late"))), protocol) as server:
        result = await _run(make_model(server), streamed)

    assert result.output == "late"


async def test_faults_first_then_the_scenario_answers(protocol: str, make_model: Any) -> None:
    scenario = FaultsFirst(Script(reply_text("recovered")), [HttpError(529), HttpError(429)])
    with FakeServer(scenario, protocol) as server:
        model = make_model(server)
        for error in (ModelOverloadedError, ModelRateLimitError):
            with pytest.raises(error):
                await _run(model, streamed=False)
        result = await _run(model, streamed=False)

    assert result.output == "recovered"
    assert len(server.requests) == 3


async def test_malformed_tool_arguments_are_streamed_verbatim_and_the_model_is_asked_to_fix_them(
    protocol: str, make_model: Any
) -> None:
    noted: list[str] = []

    def note(text: str) -> str:
        """Note `text`."""
        noted.append(text)
        return "noted"

    scenario = Script(
        call_tool_raw("note", '{"text": "unterminated'), call_tool("note", text="fixed"), reply_text("done")
    )
    with FakeServer(scenario, protocol) as server:
        result = await Agent(make_model(server), tools=[note]).run("Note it", event_stream_handler=_ignore)

    assert result.output == "done"
    assert noted == ["fixed"], "the malformed call never ran"
    [retry] = server.requests[1].sim.results_since_user()
    assert "json_invalid" in retry.content and "unterminated" in retry.content


@pytest.mark.parametrize("protocol", ["anthropic", "bedrock"])
async def test_a_json_answer_cannot_carry_malformed_tool_arguments(protocol: str, make_model: Any) -> None:
    with (
        FakeServer(Script(call_tool_raw("note", "{")), protocol) as server,
        pytest.raises(ModelServerError) as raised,
    ):
        await _run(make_model(server), streamed=False)

    assert "a tool input given as text can only be streamed" in str(raised.value)
