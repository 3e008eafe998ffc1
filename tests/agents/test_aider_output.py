"""Aider's recorded output (captured from the real Aider against the fake server) through the parser."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from aifactory.agents.aider_output import AiderOutput, conclude, tokens
from aifactory.agents.base import ToolCall

FIXTURES = Path(__file__).parent / "fixtures" / "aider"


def _replay(name: str, calls: list[ToolCall] | None = None) -> AiderOutput:
    output = AiderOutput(on_tool=(calls if calls is not None else []).append)
    with (FIXTURES / f"{name}.txt").open("rb") as recorded:
        for line in recorded:
            output.feed(line)
    return output


def test_a_whole_file_edit_succeeds_with_its_summary_edits_and_tokens() -> None:
    calls: list[ToolCall] = []
    output = _replay("success-whole", calls)
    ending = conclude(output, 0)
    assert ending.ok and ending.text == "Wrote hello.txt."
    assert output.applied == ["hello.txt"]
    assert calls == [ToolCall("edit", "hello.txt")], "each applied edit is reported as it is printed"
    assert (output.usage.input_tokens, output.usage.output_tokens) == (855, 15)
    assert output.usage.cost is None, "a model without known prices has no cost, not a zero one"


def test_a_search_replace_edit_succeeds_and_reads_rounded_token_counts() -> None:
    output = _replay("success-diff")
    ending = conclude(output, 0)
    assert ending.ok and ending.text == "Set x to 2 in app.py."
    assert output.applied == ["app.py"]
    assert output.usage.input_tokens == 2200, "Aider prints 2.2k; the ledger gets what was printed"


def test_a_rate_limit_is_a_limit_naming_the_error_and_the_retries() -> None:
    output = _replay("rate-limit")
    assert output.limits == 2 and output.reports == 0
    ending = conclude(output, None)
    assert ending.limited and not ending.ok
    assert ending.text.startswith("RateLimitError: RateLimitError: OpenAIException - Rate limit reached")
    assert ending.text.endswith("after 1 retries of its own")


def test_a_rate_limit_that_passed_before_the_answer_is_a_success() -> None:
    output = _replay("rate-limit-then-success")
    ending = conclude(output, 0)
    assert ending.ok and not ending.limited
    assert output.limits == 1 and output.applied == ["hello.txt"]


def test_an_overload_reported_as_an_api_error_529_is_a_limit() -> None:
    ending = conclude(_replay("overloaded"), None)
    assert ending.limited and "Error 529" in ending.text


def test_a_refused_key_is_a_login_problem_not_a_limit() -> None:
    ending = conclude(_replay("auth-error"), 0)
    assert ending.login and not ending.limited
    assert "Incorrect API key provided" in ending.text


def test_edits_that_never_apply_fail_the_step_after_aiders_reflections() -> None:
    output = _replay("malformed")
    ending = conclude(output, 0)
    assert not ending.ok and not ending.limited
    assert ending.text == "the model's edits did not apply (4 malformed replies)"
    assert output.applied == [] and output.reports == 4


def test_unknown_lines_are_part_of_the_reply_and_cache_and_cost_are_read() -> None:
    output = _replay("odd-lines")
    ending = conclude(output, 0)
    assert ending.ok and ending.text == "Wrote hello.txt."
    usage = output.usage
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (13_500, 1500, 2500)
    assert usage.cost == Decimal("0.07"), "the session's cost, not the last message's"


def test_a_killed_run_without_an_answer_fails_with_the_time_limit() -> None:
    output = AiderOutput()
    output.feed("Aider v0.86.2\n")
    ending = conclude(output, None, "killed after the step's time limit of 3s ([agents.aider] timeout)")
    assert not ending.ok and not ending.limited
    assert ending.text == "killed after the step's time limit of 3s ([agents.aider] timeout)"


def test_a_nonzero_exit_fails_with_the_last_line_of_stderr() -> None:
    ending = conclude(AiderOutput(), 2, "usage: aider [-h]\naider: error: unrecognized arguments: --bogus\n")
    assert ending.text == "Aider exited with code 2: aider: error: unrecognized arguments: --bogus"


def test_tokens_read_back_aiders_rounding() -> None:
    assert [tokens(t) for t in ("703", "2.8k", "12k", "1.2M")] == [703, 2800, 12_000, 1_200_000]
