"""Recording every model request: who called, on which provider, what it cost, how it failed.

It wraps instead of living in the backends (the pydantic-ai `WrapperModel` idea), so each backend
stays a thin client and every provider gets the same accounting; the pool (`providers/pool.py`)
wraps the recorded models of a role's choices. On the wire each request is streamed, so long
answers do not hit read timeouts and a dropped stream is a clean, retryable error.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

from pydantic_ai import exceptions as ai_errors
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings

from aifactory.domain.events import EventSink, ModelCalled
from aifactory.domain.prices import Price
from aifactory.domain.run import Role
from aifactory.domain.usage import Usage
from aifactory.providers.prices import call_cost


@dataclass(frozen=True)
class CallScope:
    """Who is calling: the role, and where in a run; carried into every recorded call."""

    role: Role
    run_id: str | None = None
    attempt: str | None = None
    step: int | None = None


class RecordedModel(WrapperModel):
    """Streams each request and emits one `ModelCalled` event for it, failed requests included.

    `price` is the user's price for this model (`[prices]` in the configuration), if any; `secrets`
    are the provider's credentials, masked in the errors it records.
    """

    def __init__(
        self,
        wrapped: Model,
        *,
        provider: str,
        scope: CallScope,
        sink: EventSink,
        price: Price | None,
        secrets: Collection[str] = (),
    ) -> None:
        super().__init__(wrapped)
        self._provider_name = provider
        self._scope = scope
        self._sink = sink
        self._price = price
        self._secrets = secrets

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        started = time.monotonic()
        try:
            async with self.wrapped.request_stream(
                messages, model_settings, model_request_parameters
            ) as stream:
                async for _event in stream:
                    pass
            response = stream.get()
        except Exception as error:
            self._emit(started, Usage(), error=describe(error, self._secrets))
            raise
        tokens = tokens_of(response)
        cost = call_cost(response, tokens, self._price)
        self._emit(started, tokens.model_copy(update={"cost": cost}), error=None)
        return response

    def _emit(self, started: float, usage: Usage, *, error: str | None) -> None:
        self._sink(
            ModelCalled(
                run_id=self._scope.run_id,
                attempt=self._scope.attempt,
                step=self._scope.step,
                role=self._scope.role,
                provider=self._provider_name,
                model=self.wrapped.model_name,
                usage=usage,
                latency_ms=round((time.monotonic() - started) * 1000),
                error=error,
            )
        )


REDACTED = "<key redacted>"


def describe(error: BaseException, secrets: Collection[str] = ()) -> str:
    """A one-line account of a model failure for people and the ledger; never includes credentials.

    Some providers echo the key a request presented in their error ("invalid x-api-key sk-…"), so
    the provider's own `secrets` are masked wherever its text holds them.
    """
    account = _account(error)
    for secret in secrets:
        account = account.replace(secret, REDACTED) if secret else account
    return account


def _account(error: BaseException) -> str:
    if isinstance(error, ai_errors.ModelHTTPError):
        status = str(error.status_code)
        detail = error.provider_error_type or error.provider_error_code or ""
        body = error.body if isinstance(error.body, dict) else {}
        inner = next((body[k] for k in ("error", "Error") if isinstance(body.get(k), dict)), body)
        message = inner.get("message") or inner.get("Message") or ""
        parts = (f"HTTP {status}", "" if detail == status else detail, str(message))
        return " ".join(part for part in parts if part)
    if isinstance(error, ai_errors.ModelAPIError):
        return f"{type(error).__name__}: {error.message}"
    return f"{type(error).__name__}: {error}"


def tokens_of(response: ModelResponse) -> Usage:
    """The tokens of a response as the ledger records them; pricing them is `providers.prices`' job."""
    usage = response.usage
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
    )
