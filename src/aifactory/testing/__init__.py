"""The simulated model: local servers that speak the providers' real wire protocols.

Shipped with the package because `factory demo` runs on it, and documented so users can test
their own blueprints offline. Our own tests use it through the same client code a user runs.

A `FakeServer` speaks the Anthropic Messages API, OpenAI's Chat Completions and Responses API, Azure
OpenAI's (both, on its paths) or Bedrock's Converse and InvokeModel APIs (JSON and streaming, tool
calls, usage, errors) on 127.0.0.1; a scenario decides each answer from a protocol-neutral
`SimRequest`, so one scenario serves every protocol and a whole multi-turn run:

    scenario = Rules(
        (has_result("read_file"), call_tool("submit_plan", steps=["update the README"])),
        (offers_tool("read_file"), call_tool("read_file", path="README.md")),
    )
    with FakeServer(FaultsFirst(scenario, [HttpError(529)]), "anthropic") as server:
        client = AsyncAnthropic(base_url=server.base_url, api_key="test", max_retries=0)
        model = AnthropicModel("claude-sonnet-4-6", provider=AnthropicProvider(anthropic_client=client))
        ...  # run an agent on `model`: its first call gets a 529, the next ones the scenario's answers
        assert server.requests[-1].sim.find_results("read_file")
"""

from aifactory.testing.endpoint import RecordedRequest
from aifactory.testing.limits import (
    ANTHROPIC_CREDIT_BALANCE,
    OPENAI_INSUFFICIENT_QUOTA,
    anthropic_rate_limit,
    anthropic_usage_limit,
    openai_rate_limit,
)
from aifactory.testing.scenario import (
    Answer,
    Delay,
    DropStream,
    ErrorEvent,
    Fault,
    HttpError,
    SimMessage,
    SimReply,
    SimRequest,
    SimToolCall,
    SimToolResult,
    WireProtocol,
    call_tool,
    call_tool_raw,
    call_tools,
    no_rule_matched,
    reply_text,
)
from aifactory.testing.scenarios import (
    FaultAt,
    FaultsFirst,
    FaultsWhen,
    Predicate,
    Responder,
    Rules,
    Scenario,
    Script,
    all_of,
    always,
    has_result,
    model_is,
    offers_tool,
    prompt_contains,
)
from aifactory.testing.server import FakeServer

__all__ = [
    "ANTHROPIC_CREDIT_BALANCE",
    "OPENAI_INSUFFICIENT_QUOTA",
    "Answer",
    "Delay",
    "DropStream",
    "ErrorEvent",
    "FakeServer",
    "Fault",
    "FaultAt",
    "FaultsFirst",
    "FaultsWhen",
    "HttpError",
    "Predicate",
    "RecordedRequest",
    "Responder",
    "Rules",
    "Scenario",
    "Script",
    "SimMessage",
    "SimReply",
    "SimRequest",
    "SimToolCall",
    "SimToolResult",
    "WireProtocol",
    "all_of",
    "always",
    "anthropic_rate_limit",
    "anthropic_usage_limit",
    "call_tool",
    "call_tool_raw",
    "call_tools",
    "has_result",
    "model_is",
    "no_rule_matched",
    "offers_tool",
    "openai_rate_limit",
    "prompt_contains",
    "reply_text",
]
