"""Reading a provider's own word on when it takes requests again: pure functions, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from pydantic_ai.exceptions import ModelHTTPError, ModelQuotaExceededError, ModelRateLimitError

from aifactory.providers.limits import SPEND_REST, header_reset, parse_duration, rest_until, spent
from aifactory.testing.limits import rfc3339

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
COOLDOWN = timedelta(seconds=30)

_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}


@given(st.lists(st.tuples(st.integers(0, 500), st.sampled_from(list(_UNIT_SECONDS))), min_size=1, max_size=4))
def test_a_duration_is_the_sum_of_its_parts(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{number}{unit}" for number, unit in parts)
    expected = sum(number * _UNIT_SECONDS[unit] for number, unit in parts)
    parsed = parse_duration(text)
    assert parsed is not None
    assert abs(parsed.total_seconds() - expected) < 1e-6


@given(st.text())
def test_anything_else_is_no_duration_and_never_an_error(text: str) -> None:
    parsed = parse_duration(text)
    assert parsed is None or parsed >= timedelta(0)


def test_durations_as_openai_writes_them() -> None:
    assert parse_duration("6m0s") == timedelta(minutes=6)
    assert parse_duration("1s") == timedelta(seconds=1)
    assert parse_duration("20ms") == timedelta(milliseconds=20)
    assert parse_duration("1h2m3.5s") == timedelta(hours=1, minutes=2, seconds=3.5)
    assert parse_duration("0") == timedelta(0)
    assert [parse_duration(text) for text in ("", "6", "m", "1x", "1s 2s", "-1s")] == [None] * 6


def _anthropic(**limits: tuple[int, int]) -> dict[str, str]:
    """Headers for limits given as name=(remaining, seconds to reset)."""
    headers = {}
    for name, (remaining, seconds) in limits.items():
        key = name.replace("_", "-")
        headers[f"anthropic-ratelimit-{key}-remaining"] = str(remaining)
        headers[f"anthropic-ratelimit-{key}-reset"] = rfc3339(NOW + timedelta(seconds=seconds))
    return headers


def test_the_rest_lasts_until_the_latest_exhausted_limit_resets() -> None:
    headers = _anthropic(requests=(0, 40), tokens=(0, 20), input_tokens=(900, 5))
    assert header_reset(headers, NOW) == NOW + timedelta(seconds=40)


def test_when_no_limit_is_exhausted_the_earliest_reset_is_when_the_request_may_fit() -> None:
    headers = _anthropic(requests=(3, 40), output_tokens=(100, 7))
    assert header_reset(headers, NOW) == NOW + timedelta(seconds=7)


def test_openai_resets_count_from_the_answer_and_resets_already_past_are_ignored() -> None:
    headers = {
        "x-ratelimit-remaining-requests": "499",
        "x-ratelimit-reset-requests": "120ms",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "6m0s",
    }
    assert header_reset(headers, NOW) == NOW + timedelta(minutes=6)
    assert header_reset(_anthropic(tokens=(0, -5)), NOW) is None
    assert header_reset({"anthropic-ratelimit-tokens-reset": "soon"}, NOW) is None


def _error(
    status: int, message: str, error_type: str, headers: dict[str, str] | None = None
) -> ModelHTTPError:
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    category = ModelRateLimitError if status == 429 else None
    return ModelHTTPError.for_category(
        category, status_code=status, model_name="m", body=body, headers=headers or {}
    )


def test_retry_after_comes_first_then_reset_headers_then_the_configured_cooldown() -> None:
    limited = {"retry-after": "12", **_anthropic(tokens=(0, 40))}
    assert rest_until(
        _error(429, "slow down", "rate_limit_error", limited), NOW, COOLDOWN
    ) == NOW + timedelta(seconds=12)
    reset_only = _error(429, "slow down", "rate_limit_error", _anthropic(tokens=(0, 40)))
    assert rest_until(reset_only, NOW, COOLDOWN) == NOW + timedelta(seconds=40)
    assert rest_until(_error(429, "slow down", "rate_limit_error"), NOW, COOLDOWN) == NOW + COOLDOWN


def test_a_spend_limit_rests_until_the_date_it_names_else_an_hour_whatever_the_headers_say() -> None:
    regain = _error(
        400,
        "You have reached your specified workspace API usage limits. "
        "You will regain access on 2026-12-01 at 00:00 UTC.",
        "invalid_request_error",
        {"retry-after": "5"},
    )
    credit = _error(429, "Your credit balance is too low to access the Anthropic API.", "rate_limit_error")
    quota = ModelQuotaExceededError(model_name="m", message="insufficient_quota")
    assert all(spent(error) for error in (regain, credit, quota))
    assert not spent(_error(400, "prompt is too long", "invalid_request_error"))
    assert rest_until(regain, NOW, COOLDOWN) == datetime(2026, 12, 1, tzinfo=UTC)
    assert rest_until(credit, NOW, COOLDOWN) == NOW + SPEND_REST
    assert rest_until(quota, NOW, COOLDOWN) == NOW + SPEND_REST
