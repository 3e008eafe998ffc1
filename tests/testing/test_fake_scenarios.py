"""Scenarios, the normalized request view and token accounting, tested without a server."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aifactory.testing import (
    DropStream,
    FaultAt,
    FaultsWhen,
    HttpError,
    Rules,
    Script,
    SimMessage,
    SimRequest,
    SimToolCall,
    SimToolResult,
    call_tool,
    model_is,
    prompt_contains,
    reply_text,
)
from aifactory.testing.tokens import LOOKBACK, PromptCache, Segment, count_tokens
from aifactory.testing.wire_anthropic import AnthropicWire
from aifactory.testing.wire_openai import OpenAIWire

TOOL_LOOP = SimRequest(
    protocol="anthropic",
    model="claude-sonnet-4-6",
    messages=(
        SimMessage("user", "Read the README"),
        SimMessage("assistant", tool_calls=(SimToolCall("t1", "read_file", {"path": "README.md"}),)),
        SimMessage("user", tool_results=(SimToolResult("t1", "# sample"),)),
        SimMessage("user", "Now the changelog"),
        SimMessage(
            "assistant", "Reading.", tool_calls=(SimToolCall("t2", "read_file", {"path": "CHANGES"}),)
        ),
        SimMessage("user", tool_results=(SimToolResult("t2", "no such file", is_error=True),)),
    ),
    tools={"read_file": {"type": "object"}},
)


def test_request_view_scripts_a_tool_loop_from_the_conversation() -> None:
    assert TOOL_LOOP.prompt == "Read the README\nNow the changelog"
    assert TOOL_LOOP.last_user_text == "Now the changelog"
    assert TOOL_LOOP.turns_since_user() == 1
    assert TOOL_LOOP.results_since_user() == (SimToolResult("t2", "no such file", is_error=True),)
    assert [r.content for r in TOOL_LOOP.find_results("read_file")] == ["# sample", "no such file"]
    assert TOOL_LOOP.offers("read_file")
    assert not TOOL_LOOP.offers("write_file")


def test_anthropic_request_normalizes_blocks_results_and_choices() -> None:
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 100,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": "Look"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "ls", "input": {}}]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "is_error": True,
                        "content": [{"type": "text", "text": "denied"}],
                    },
                    {"type": "text", "text": "Try again"},
                ],
            },
            {"role": "system", "content": "Mid-run note."},
        ],
        "tools": [{"name": "ls", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "tool", "name": "ls"},
    }

    request = AnthropicWire().parse(body, {"x-api-key": "k"}, "/v1/messages")

    assert request.system == "Be brief.\n\nMid-run note."
    assert request.messages[2] == SimMessage(
        "user", "Try again", tool_results=(SimToolResult("t1", "denied", True),)
    )
    assert (request.tool_choice, request.forced_tool, request.max_tokens) == ("required", "ls", 100)


def test_openai_request_gathers_tool_messages_into_one_user_turn() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Look"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "ls", "arguments": '{"dir": "."}'}},
                    {
                        "id": "c2",
                        "type": "function",
                        "function": {"name": "ls", "arguments": '{"dir": "src"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "a.py"},
            {"role": "tool", "tool_call_id": "c2", "content": "b.py"},
        ],
        "tool_choice": {"type": "function", "function": {"name": "ls"}},
        "max_completion_tokens": 50,
    }

    request = OpenAIWire().parse(body, {}, "/v1/chat/completions")

    assert request.system == "Be brief."
    assert request.messages[1].tool_calls[1] == SimToolCall("c2", "ls", {"dir": "src"})
    assert request.messages[2].tool_results == (SimToolResult("c1", "a.py"), SimToolResult("c2", "b.py"))
    assert request.turns_since_user() == 1
    assert (request.tool_choice, request.forced_tool, request.max_tokens) == ("required", "ls", 50)


def test_rules_answer_with_the_first_match_and_name_what_matched_nothing() -> None:
    rules = Rules((prompt_contains("README"), lambda r: reply_text(f"{len(r.messages)} messages")))
    rules.when(model_is("claude-sonnet-4-6"), reply_text("fallback"))

    assert rules.respond(TOOL_LOOP) == reply_text("6 messages")
    unmatched = rules.respond(SimRequest(protocol="openai", model="gpt-4o"))
    assert isinstance(unmatched, HttpError)
    assert unmatched.status == 500
    assert unmatched.message is not None
    assert "NoRuleMatched" in unmatched.message
    assert "'gpt-4o'" in unmatched.message


def test_script_answers_in_order_then_says_it_ran_out() -> None:
    script = Script(reply_text("one"), call_tool("two", n=2))

    answers = [script.respond(TOOL_LOOP) for _ in range(3)]

    assert answers[:2] == [reply_text("one"), call_tool("two", n=2)]
    assert isinstance(answers[2], HttpError)
    assert "ran out after 2 answers" in str(answers[2].message)
    assert script.remaining == 0


def test_fault_injectors_pick_calls_by_number_or_by_content() -> None:
    always_ok = Rules((lambda r: True, reply_text("ok")))
    at_second = FaultAt(always_ok, {2: HttpError(529)})
    once_for_readme = FaultsWhen(always_ok, prompt_contains("README"), DropStream(), times=1)

    assert [at_second.respond(TOOL_LOOP) for _ in range(3)] == [
        reply_text("ok"),
        HttpError(529),
        reply_text("ok"),
    ]
    assert [once_for_readme.respond(TOOL_LOOP) for _ in range(2)] == [DropStream(), reply_text("ok")]


segments = st.lists(st.builds(Segment, st.text(max_size=40), st.booleans()), min_size=1, max_size=12)


@given(segments)
def test_cache_accounting_splits_the_prompt_and_reads_it_back(prompt: list[Segment]) -> None:
    cache = PromptCache()
    total = count_tokens(sum(len(s.text) for s in prompt))

    first = cache.account(prompt, output_tokens=1)
    again = cache.account(prompt, output_tokens=1)

    assert first.prompt_tokens == again.prompt_tokens == total
    assert first.cache_read_input_tokens == 0
    assert again.cache_creation_input_tokens == 0
    assert again.cache_read_input_tokens == first.cache_creation_input_tokens


def test_a_prefix_shorter_than_the_minimum_is_neither_written_nor_read() -> None:
    cache = PromptCache()
    short = [Segment("x" * 400, breakpoint=True), Segment("question")]
    usages = [cache.account(short, output_tokens=1, min_tokens=1024) for _ in range(2)]
    assert [(u.cache_creation_input_tokens, u.cache_read_input_tokens) for u in usages] == [(0, 0), (0, 0)]


def test_an_entry_more_than_the_lookback_before_every_breakpoint_is_not_found() -> None:
    """Anthropic checks a breakpoint and the 19 block boundaries before it, 20 in all, for an entry."""
    cache = PromptCache()
    opening = "system prompt " * 10
    cache.account([Segment(opening, breakpoint=True)], output_tokens=1)
    turns = [Segment(f"turn {i}") for i in range(LOOKBACK - 1)]
    near = cache.account([Segment(opening), *turns[:-1], Segment("last", breakpoint=True)], output_tokens=1)
    far = cache.account([Segment(opening), *turns, Segment("later", breakpoint=True)], output_tokens=1)
    assert near.cache_read_input_tokens == count_tokens(len(opening))
    assert far.cache_read_input_tokens == 0
