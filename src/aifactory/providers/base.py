"""The provider seam: a configured model API that hands out pydantic-ai models.

A backend only knows its wire protocol and its client. Retries, recording and (later) pooling
and cooldowns wrap the models it returns (`providers/calls.py`), so no backend repeats them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pydantic_ai.models import Model


class Provider(Protocol):
    """One entry of `[providers.NAME]`, ready to serve models."""

    name: str

    def model(self, model_name: str) -> Model:
        """A model of this provider; its client never retries on its own."""
        ...
