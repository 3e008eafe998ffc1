"""Codex's `exec --json` events, as the real CLI printed them (fixtures from `capture_codex.py`), judged."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aifactory.agents.base import Ending, ToolCall
from aifactory.agents.codex_stream import CodexStream, conclude, reset_time

FIXTURES = Path(__file__).parent / "fixtures" / "codex"
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def _replay(name: str, calls: list[ToolCall] | None = None, root: str = "") -> CodexStream:
    """Feed a recorded stream to the parser line by line, as the agent reads it from the pipe."""
    stream = CodexStream(on_tool=(calls if calls is not None else []).append, root=root)
    with (FIXTURES / f"{name}.jsonl").open("rb") as recorded:
        for line in recorded:
            stream.feed(line)
    return stream


def _judge(name: str, exit_code: int | None = 1) -> Ending:
    return conclude(_replay(name), exit_code, now=NOW)


def test_a_shell_command_step_reports_answer_tool_calls_usage_and_session() -> None:
    calls: list[ToolCall] = []
    stream = _replay("shell", calls)
    assert conclude(stream, 0) == Ending(ok=True, text="Wrote hello.txt.")
    assert stream.tool_calls == 1
    assert calls == [ToolCall("command_execution", "/bin/bash -lc \"printf 'hello\\\\n' > hello.txt\"")]
    assert stream.session_id and len(stream.session_id) == 36
    assert stream.warnings == 1, "the unknown-model notice is an item, not a failure"
    usage = stream.usage
    assert usage.input_tokens > usage.cache_read_tokens > 0, "input includes the cached tokens"
    assert usage.output_tokens > 0


def test_a_patch_is_a_file_change_and_counts_as_a_tool_call() -> None:
    calls: list[ToolCall] = []
    stream = _replay("file-change", calls, root="/tmp/tmp8rq9zhj4/work")
    assert conclude(stream, 0) == Ending(ok=True, text="Added hello.txt.")
    assert stream.tool_calls == 1
    assert calls == [ToolCall("file_change", "hello.txt")], "paths as the worktree names them"


def test_event_and_item_types_it_does_not_know_are_ignored() -> None:
    stream = _replay("unknown-events")
    assert conclude(stream, 0) == Ending(ok=True, text="Wrote hello.txt.")
    assert (stream.tool_calls, stream.unreadable) == (1, 0)


def test_a_plans_usage_limit_is_a_limit_until_the_minute_after_its_reset() -> None:
    ending = _judge("usage-limit")
    assert ending.limited and not ending.ok
    assert ending.until == datetime(2030, 3, 17, 17, 47, tzinfo=UTC)
    assert ending.text.startswith("usage limit: You\N{RIGHT SINGLE QUOTATION MARK}ve hit your usage limit.")


def test_a_429_and_an_exhausted_quota_are_limits_without_a_reset_time() -> None:
    for name in ("rate-limit-429", "rate-limit-mid-stream", "quota"):
        ending = _judge(name)
        assert (ending.ok, ending.limited, ending.until, ending.login) == (False, True, None, False), name
    assert "429 Too Many Requests" in _judge("rate-limit-429").text
    assert _judge("quota").text == "Quota exceeded. Check your plan and billing details."


def test_a_refused_key_is_a_login_problem_not_a_limit() -> None:
    ending = _judge("unauthorized")
    assert ending.login and not ending.limited
    assert "401 Unauthorized" in ending.text


def test_a_stream_cut_before_its_turn_ended_is_a_failure_saying_how() -> None:
    stream = _replay("truncated")
    assert stream.unreadable == 1 and stream.session_id
    ending = conclude(stream, None, "")
    assert not ending.ok and not ending.limited
    assert ending.text == "the agent's output stopped before its turn ended (it was killed)"
    said = conclude(stream, 1, "WARNING: a\nError: the sandbox could not start\n")
    assert said.text.endswith("(it exited with code 1); it said: Error: the sandbox could not start")


def test_a_cut_stream_whose_last_error_was_a_usage_limit_is_still_a_limit() -> None:
    stream = CodexStream()
    stream.feed('{"type":"thread.started","thread_id":"t"}')
    stream.feed('{"type":"error","message":"You\'ve hit your usage limit. Try again at 3:04 PM."}')
    ending = conclude(stream, None, now=NOW)
    assert ending.limited and ending.until == datetime(2026, 11, 24, 15, 5, tzinfo=UTC)


def test_a_reset_time_without_a_date_is_today_and_twelve_oclock_reads_right() -> None:
    assert reset_time("try again at 12:30 AM.", NOW) == datetime(2026, 11, 24, 0, 31, tzinfo=UTC)
    assert reset_time("try again at 12:30 PM.", NOW) == datetime(2026, 11, 24, 12, 31, tzinfo=UTC)
    assert reset_time("Try again at Dec 1st, 2026 9:00 AM.", NOW) == datetime(2026, 12, 1, 9, 1, tzinfo=UTC)
    assert reset_time("Try again later.", NOW) is None
