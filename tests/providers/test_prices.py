"""Pricing a call: the user's price wins, cache tokens have their own rates, unknown stays unknown."""

from __future__ import annotations

from decimal import Decimal

from pydantic_ai.messages import ModelResponse, TextPart
from pydantic_ai.usage import RequestUsage

from aifactory.domain.prices import Price
from aifactory.domain.usage import Usage
from aifactory.providers.calls import tokens_of
from aifactory.providers.prices import call_cost


def _response(model: str, provider: str, *, url: str | None = None, **tokens: int) -> ModelResponse:
    return ModelResponse(
        parts=[TextPart("done")],
        usage=RequestUsage(**tokens),
        model_name=model,
        provider_name=provider,
        provider_url=url,
    )


def test_a_price_charges_cache_reads_and_writes_at_their_own_rates_out_of_the_input() -> None:
    price = Price(
        input=Decimal(3), output=Decimal(15), cache_write=Decimal("3.75"), cache_read=Decimal("0.3")
    )
    usage = Usage(input_tokens=10_000, cache_read_tokens=6_000, cache_write_tokens=2_000, output_tokens=1_000)
    # 2,000 uncached input at $3, 1,000 output at $15, 2,000 written at $3.75, 6,000 read at $0.30.
    assert price.cost(usage) == Decimal("0.006") + Decimal("0.015") + Decimal("0.0075") + Decimal("0.0018")


def test_unset_cache_prices_are_the_input_price_and_a_free_model_costs_exactly_zero() -> None:
    usage = Usage(input_tokens=1_000_000, cache_read_tokens=500_000, output_tokens=10)
    assert Price(input=Decimal(2), output=Decimal(0)).cost(usage) == Decimal(2)
    assert Price(input=Decimal(0), output=Decimal(0)).cost(usage) == 0


def test_the_arithmetic_is_exact_where_floats_would_drift() -> None:
    price = Price.model_validate({"input": 0.1, "output": 0.2})
    assert price.cost(Usage(input_tokens=3, output_tokens=3)) == Decimal("0.0000009")


def test_the_shipped_table_prices_a_known_model_from_its_tokens() -> None:
    response = _response("claude-sonnet-4-5", "anthropic", input_tokens=100_000, output_tokens=10_000)
    assert call_cost(response, tokens_of(response), None) == Decimal("0.45")


def test_the_users_price_beats_the_shipped_table() -> None:
    response = _response(
        "claude-sonnet-4-5", "anthropic", input_tokens=100_000, cache_read_tokens=40_000, output_tokens=10_000
    )
    assert call_cost(response, tokens_of(response), None) is not None
    negotiated = Price(input=Decimal(1), output=Decimal(5), cache_read=Decimal("0.1"))
    # 60,000 uncached input at $1, 40,000 read from the cache at $0.10, 10,000 output at $5.
    assert call_cost(response, tokens_of(response), negotiated) == Decimal("0.114")


def test_the_users_price_beats_the_cost_a_provider_reports() -> None:
    response = _response("router-model", "openrouter", input_tokens=1_000)
    response.usage.cost = 0.1
    assert call_cost(response, tokens_of(response), None) == Decimal("0.1")
    assert call_cost(response, tokens_of(response), Price(input=Decimal(0), output=Decimal(0))) == 0


def test_a_model_nobody_prices_has_an_unknown_cost_not_a_zero_one() -> None:
    local = _response("qwen3-coder", "openai", url="http://127.0.0.1:11434/v1", input_tokens=5_000)
    assert call_cost(local, tokens_of(local), None) is None
    assert call_cost(local, tokens_of(local), Price(input=Decimal(0), output=Decimal(0))) == 0
