"""Gemini CLI's stream-json, as the real CLI printed it (fixtures from `capture_gemini.py`), judged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aifactory.agents.base import Ending, ToolCall
from aifactory.agents.gemini_stream import GeminiStream, conclude

FIXTURES = Path(__file__).parent / "fixtures" / "gemini"
EXITS: dict[str, int] = json.loads((FIXTURES / "exits.json").read_text(encoding="utf-8"))


def _replay(name: str, *extra: str) -> GeminiStream:
    """Feed a recorded stream to the parser line by line, as the agent reads it from the pipe."""
    stream = GeminiStream()
    with (FIXTURES / f"{name}.jsonl").open("rb") as recorded:
        for line in recorded:
            stream.feed(line)
            for added in extra:
                stream.feed(added)
    return stream


def _judge(name: str) -> Ending:
    stderr = FIXTURES / f"{name}.stderr"
    said = stderr.read_text(encoding="utf-8") if stderr.exists() else ""
    return conclude(_replay(name), EXITS.get(name, 1), said)


def test_a_successful_step_reports_answer_tool_calls_usage_and_session() -> None:
    stream = _replay("success")
    assert conclude(stream, EXITS["success"]) == Ending(ok=True, text="Wrote hello.txt.")
    assert stream.tool_calls == 1 and stream.failed_tools == 0
    assert stream.model == "gemini-2.5-flash"
    assert stream.session_id and len(stream.session_id) == 36
    usage = stream.usage
    assert usage.output_tokens > 0 and usage.cache_read_tokens > 0, "the second turn reads the first's prefix"
    assert usage.input_tokens > usage.cache_read_tokens, "input includes the cached tokens"


def test_the_answer_is_the_text_after_the_last_tool_call() -> None:
    stream = _replay("shell-tool")
    assert conclude(stream, 0) == Ending(ok=True, text="Ran the command.")
    assert stream.tool_calls == 1


def test_event_types_it_does_not_know_and_unreadable_lines_are_ignored() -> None:
    """Newer CLIs add event types; a line that is not JSON (a stray log line) does not end the run."""
    stream = _replay("success", '{"type":"compression","tokens":12}', "not json", "")
    assert conclude(stream, 0) == Ending(ok=True, text="Wrote hello.txt.")
    assert stream.unreadable == len(list((FIXTURES / "success.jsonl").open("rb")))


def test_a_rate_limit_is_a_limit_until_the_suggested_retry_time() -> None:
    stream = _replay("rate-limit-429")
    ending = conclude(stream, EXITS["rate-limit-429"])
    assert ending.limited and not ending.ok and not ending.login
    result_time = datetime.fromisoformat(str((stream.result or {})["timestamp"]))
    assert ending.until == result_time + timedelta(seconds=30)
    assert ending.until.tzinfo == UTC
    assert ending.text.startswith("quota or rate limit: [API Error: Resource has been exhausted")


def test_a_daily_quota_is_a_limit_without_a_reset_time() -> None:
    ending = _judge("daily-quota")
    assert ending.limited and ending.until is None
    assert "You have exhausted your daily quota on this model." in ending.text


def test_an_overloaded_model_is_a_limit_too() -> None:
    ending = _judge("overloaded-503")
    assert ending.limited and "The model is overloaded" in ending.text


def test_a_refused_key_or_a_missing_login_is_a_setup_problem_not_a_limit() -> None:
    refused = _judge("invalid-key")
    assert refused.login and not refused.limited
    assert "API key not valid" in refused.text
    missing = _judge("not-logged-in")
    assert missing.login and not missing.limited
    assert missing.text == "When using Gemini API, you must specify the GEMINI_API_KEY environment variable."


def test_the_turn_limit_ends_the_step_as_a_failure() -> None:
    ending = _judge("turn-limit")
    assert not ending.ok and not ending.limited
    assert ending.text.startswith("did not finish within its turn limit (Reached max session turns")


def test_a_connection_dropped_mid_answer_is_a_failure_with_the_clis_reason() -> None:
    ending = _judge("dropped-stream")
    assert ending == Ending(ok=False, text="[API Error: terminated]")


def test_a_stream_cut_before_its_result_is_a_failure_saying_so() -> None:
    stream = _replay("truncated")
    assert stream.tool_calls == 1 and stream.unreadable == 1
    ending = conclude(stream, None, "")
    assert not ending.ok and not ending.limited
    assert ending.text == "the agent's output stopped before its result (it was killed)"
    assert conclude(stream, 1, "Error: boom\n").text.endswith("(it exited with code 1); stderr: Error: boom")


def test_each_tool_call_is_reported_when_its_result_arrives_and_unanswered_ones_on_flush() -> None:
    calls: list[ToolCall] = []
    stream = GeminiStream(on_tool=calls.append)
    with (FIXTURES / "shell-tool.jsonl").open("rb") as recorded:
        for line in recorded:
            stream.feed(line)
    assert ToolCall("run_shell_command", "echo hi > shell.txt") in calls
    assert all(call.ok for call in calls)
    cut: list[ToolCall] = []
    started = GeminiStream(on_tool=cut.append)
    started.feed(
        json.dumps(
            {
                "type": "tool_use",
                "tool_name": "write_file",
                "tool_id": "t1",
                "parameters": {"file_path": "a.txt", "content": "x"},
            }
        )
    )
    assert cut == []
    started.flush()
    assert cut == [ToolCall("write_file", "a.txt", ok=False)], "a call the stream never answered failed"
