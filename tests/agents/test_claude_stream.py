"""Claude Code's stream-json, as the real CLI printed it (fixtures from `capture_claude_code.py`), judged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from aifactory.agents.base import Ending, ToolCall
from aifactory.agents.claude_code import TESTED_VERSION
from aifactory.agents.claude_stream import ClaudeStream, conclude
from tests.agents.claude import RESET, ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "claude-code"


def _replay(name: str) -> ClaudeStream:
    """Feed a recorded stream to the parser line by line, as the agent reads it from the pipe."""
    stream = ClaudeStream()
    with (FIXTURES / f"{name}.jsonl").open("rb") as recorded:
        for line in recorded:
            stream.feed(line)
    return stream


def _judge(name: str, exit_code: int | None = 1) -> Ending:
    return conclude(_replay(name), exit_code)


def test_a_successful_step_reports_answer_tool_calls_usage_cost_and_session() -> None:
    stream = _replay("success")
    ending = conclude(stream, 0)
    assert ending == Ending(ok=True, text="Wrote hello.txt.")
    assert stream.tool_calls == 1
    assert stream.version == TESTED_VERSION
    assert stream.session_id and len(stream.session_id) == 36
    usage = stream.usage
    assert usage.output_tokens > 0 and usage.cache_write_tokens > 0
    assert usage.input_tokens >= usage.cache_read_tokens + usage.cache_write_tokens, (
        "input includes the cache"
    )
    assert usage.cost is not None and usage.cost > Decimal(0)


def test_each_tool_call_is_reported_when_its_result_arrives_with_its_path_in_the_worktree() -> None:
    calls: list[ToolCall] = []
    stream = ClaudeStream(on_tool=calls.append, root="/tmp/tmp1btcmft5/work/")
    with (FIXTURES / "success.jsonl").open("rb") as recorded:
        for line in recorded:
            stream.feed(line)
            if b'"tool_result"' in line:
                assert calls == [ToolCall("Write", "hello.txt")], "reported as the stream is read"
    stream.flush()
    assert calls == [ToolCall("Write", "hello.txt")]


def test_a_failed_tool_call_and_one_cut_off_before_its_result_are_reported_as_failed() -> None:
    calls: list[ToolCall] = []
    stream = ClaudeStream(on_tool=calls.append)
    uses = [
        {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "pytest -q\nmore"}},
        {"type": "tool_use", "id": "t2", "name": "Grep", "input": {"pattern": "TODO"}},
    ]
    stream.feed(json.dumps({"type": "assistant", "message": {"id": "m1", "content": uses}}))
    result = {"type": "tool_result", "tool_use_id": "t1", "is_error": True, "content": "exit 1"}
    stream.feed(json.dumps({"type": "user", "message": {"content": [result]}}))
    assert calls == [ToolCall("Bash", "pytest -q…", ok=False)]
    stream.flush()
    assert calls[1:] == [ToolCall("Grep", "TODO", ok=False)]
    assert stream.tool_calls == 2


def test_event_types_it_does_not_know_are_ignored() -> None:
    """`--include-partial-messages` adds `stream_event` and `system/status` lines: same judgement."""
    stream = _replay("partial-messages")
    assert conclude(stream, 0) == Ending(ok=True, text="Wrote hello.txt.")
    assert stream.tool_calls == 1
    assert stream.unreadable == 0


def test_the_subscription_usage_limit_is_a_limit_with_its_reset_time() -> None:
    ending = _judge("usage-limit")
    assert ending.limited and not ending.ok
    assert ending.until == datetime.fromtimestamp(RESET, UTC)
    assert ending.text.startswith("usage limit (five_hour): You've hit your 5-hour limit")


def test_a_429_after_the_clis_own_retries_is_a_limit_without_a_reset_time() -> None:
    stream = _replay("api-retry-429")
    ending = conclude(stream, 1)
    assert stream.retries == 1
    assert stream.retry_delay_s == 0.603, "the delay of its retry, a floor for the cooldown"
    assert ending.limited and ending.until is None
    assert ending.text.startswith(
        "API error 429 after 1 retries of its own: API Error: Request rejected (429)"
    )


def test_an_overloaded_api_is_a_limit_too() -> None:
    ending = _judge("overloaded-529")
    assert ending.limited and ending.text.startswith("API error 529")


def test_a_step_on_bedrock_reports_usage_and_cost_as_on_the_subscription() -> None:
    stream = _replay("bedrock-success")
    assert conclude(stream, 0) == Ending(ok=True, text="Wrote hello.txt.")
    assert stream.tool_calls == 1 and stream.usage.output_tokens > 0
    assert stream.usage.cost is not None and stream.usage.cost > Decimal(0)


@pytest.mark.parametrize(
    ("name", "retries", "said"),
    [
        ("bedrock-throttled", 1, "Too many requests, please wait before trying again."),
        ("bedrock-throttled-in-stream", 0, "Too many tokens, please wait before trying again."),
    ],
)
def test_bedrocks_throttling_before_or_inside_the_stream_is_a_limit(
    name: str, retries: int, said: str
) -> None:
    """Claude Code reports Bedrock's ThrottlingException (a 429, or `throttlingException` mid-stream)
    as a 429 `api_error_status`, after its own retries: the agent cools down and the step moves on."""
    stream = _replay(name)
    ending = conclude(stream, 1)
    assert stream.retries == retries
    assert ending.limited and ending.until is None and not ending.login
    assert ending.text.startswith("API error 429") and ending.text.endswith(
        f"Request rejected (429) · {said}"
    )


def test_aws_refusing_the_credentials_is_a_setup_problem_not_a_limit() -> None:
    ending = _judge("bedrock-unknown-key")
    assert ending.login and not ending.limited
    assert ending.text.startswith("AWS authentication failed")


def test_a_cli_without_a_login_is_a_setup_problem_not_a_limit() -> None:
    ending = _judge("not-logged-in")
    assert ending.login and not ending.limited and not ending.ok
    assert "Not logged in" in ending.text


def test_a_truncated_stream_fails_with_how_the_cli_ended() -> None:
    stream = _replay("truncated")
    assert stream.unreadable == 1, "the cut line is counted, not fatal"
    assert stream.tool_calls == 1
    assert stream.usage.cost is None and stream.usage.output_tokens > 0, "what the turns reported, unpriced"
    ending = conclude(stream, None, "Killed\n")
    assert not ending.ok and not ending.limited
    assert ending.text == "the agent's output stopped before its result (it was killed); stderr: Killed"


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"subtype": "success", "is_error": True, "result": "Claude AI usage limit reached|1900000000"},
            RESET,
        ),
        (
            {"subtype": "success", "is_error": True, "result": "You've hit your weekly limit · resets Mon"},
            None,
        ),
    ],
)
def test_older_and_weekly_limit_texts_are_limits(result: dict[str, object], expected: int | None) -> None:
    stream = ClaudeStream()
    stream.feed(json.dumps({"type": "result", **result}))
    ending = conclude(stream, 1)
    assert ending.limited
    assert ending.until == (datetime.fromtimestamp(expected, UTC) if expected else None)


def test_hitting_the_turn_limit_is_a_failure_naming_it() -> None:
    stream = ClaudeStream()
    stream.feed('{"type": "result", "subtype": "error_max_turns", "is_error": true, "num_turns": 40}')
    assert conclude(stream, 1) == Ending(ok=False, text="did not finish within its turn limit (40 turns)")


def test_ci_installs_the_release_the_agent_is_tested_with() -> None:
    assert f"@anthropic-ai/claude-code@{TESTED_VERSION}" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"@anthropic-ai/claude-code@{TESTED_VERSION}" in (ROOT / "README.md").read_text(encoding="utf-8")
