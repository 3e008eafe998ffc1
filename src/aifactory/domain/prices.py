"""A price for a model's tokens, and what a call's tokens cost at it: exact Decimal arithmetic, no I/O."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from aifactory.domain.usage import Usage

PER_TOKENS = Decimal(1_000_000)
"""Prices are quoted, as every provider quotes them, in USD per million tokens."""


class Price(BaseModel):
    """USD per million tokens of each kind; an unset cache price is the input price (no cache discount)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: Decimal = Field(ge=0, allow_inf_nan=False)
    output: Decimal = Field(ge=0, allow_inf_nan=False)
    cache_write: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    cache_read: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)

    def cost(self, usage: Usage) -> Decimal:
        """What `usage`'s tokens cost. Its `input_tokens` include the cache reads and writes (pydantic-ai's
        convention for every provider), so those are taken out and charged at their own rates."""
        uncached = max(0, usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens)
        cache_write = self.input if self.cache_write is None else self.cache_write
        cache_read = self.input if self.cache_read is None else self.cache_read
        total = (
            uncached * self.input
            + usage.output_tokens * self.output
            + usage.cache_write_tokens * cache_write
            + usage.cache_read_tokens * cache_read
        )
        return total / PER_TOKENS
