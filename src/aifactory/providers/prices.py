"""What one model call cost: the one place that decides which price applies.

The user's `[prices."PROVIDER:MODEL"]` entry wins, so a self-hosted server can cost 0 and a
negotiated rate is honoured; then the cost the provider reports itself (OpenRouter does); then the
price table shipped with genai-prices. None of them knowing the model leaves the cost None, which
every report shows as unknown, never as 0.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from aifactory.domain.prices import Price
from aifactory.domain.usage import Usage

if TYPE_CHECKING:
    from pydantic_ai.messages import ModelResponse


def call_cost(response: ModelResponse, tokens: Usage, override: Price | None) -> Decimal | None:
    """The cost of the call that returned `response`, whose recorded tokens are `tokens`."""
    if override is not None:
        return override.cost(tokens)
    if response.usage.cost is not None:
        # Through str: the report is a float, and Decimal(0.1) would carry its binary error into sums.
        return Decimal(str(response.usage.cost))
    return _shipped(response)


def _shipped(response: ModelResponse) -> Decimal | None:
    """genai-prices' price, matched on the provider's URL or name and the model the provider answered as."""
    try:
        return Decimal(response.cost().total_price)
    except (LookupError, ValueError, AssertionError):
        return None
