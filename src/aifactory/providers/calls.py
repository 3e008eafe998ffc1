"""Wrappers around a provider's model: stream and record every request, retry the transient failures.

They wrap instead of living in the backends (the pydantic-ai `WrapperModel` idea), so each backend
stays a thin client and every provider gets the same accounting and the same retry policy. Agents
call `request()`; on the wire each request is streamed, so long answers do not hit read timeouts
and a dropped stream is a clean, retryable error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

import pydantic_ai
from pydantic_ai import exceptions as ai_errors
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from aifactory.domain.events import EventSink, ModelCalled
from aifactory.domain.run import Role
from aifactory.domain.usage import Usage
from aifactory.errors import ModelError

TRANSIENT: tuple[type[Exception], ...] = (
    ai_errors.ModelRateLimitError,
    ai_errors.ModelOverloadedError,
    ai_errors.ModelServerError,
    ai_errors.ModelConnectionError,
    ai_errors.ModelUnavailableError,
    ai_errors.ModelRequestTimeout,
)
"""Failures a later try may not repeat; everything else (bad key, unknown model, quota) is final."""

_MAX_WAIT = 60.0


@dataclass(frozen=True)
class CallScope:
    """Who is calling: the role, and where in a run; carried into every recorded call."""

    role: Role
    run_id: str | None = None
    attempt: str | None = None
    step: int | None = None


class RecordedModel(WrapperModel):
    """Streams each request and emits one `ModelCalled` event for it, failed requests included."""

    def __init__(self, wrapped: Model, *, provider: str, scope: CallScope, sink: EventSink) -> None:
        super().__init__(wrapped)
        self._provider_name = provider
        self._scope = scope
        self._sink = sink

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
            self._emit(started, Usage(), error=describe(error))
            raise
        self._emit(started, usage_of(response), error=None)
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


class RetryingModel(WrapperModel):
    """Retries transient failures with jittered backoff (honouring retry-after), then explains the failure."""

    def __init__(
        self, wrapped: Model, *, retries: int, backoff: float, provider: str, credentials: str, role: Role
    ) -> None:
        super().__init__(wrapped)
        self._retries = retries
        self._backoff = backoff
        self._provider_name = provider
        self._credentials = credentials
        self._role = role

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retries + 1),
            wait=_Wait(self._backoff),
            retry=retry_if_exception_type(TRANSIENT),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self.wrapped.request(messages, model_settings, model_request_parameters)
        except ai_errors.ModelAPIError as error:
            tries = retrying.statistics.get("attempt_number", 1)
            raise ModelError(self._explain(error, tries), retryable=isinstance(error, TRANSIENT)) from error
        raise AssertionError("tenacity ends in a return or a raise")

    def _explain(self, error: ai_errors.ModelAPIError, tries: int) -> str:
        who = f"provider {self._provider_name!r} (model {self.wrapped.model_name!r}, role {self._role.value})"
        fix = f"[roles.{self._role.value}] model in .factory/config.toml"
        if isinstance(error, ai_errors.ModelAuthenticationError):
            return f"{who} refused the credentials ({describe(error)}): check {self._credentials}"
        if isinstance(error, ai_errors.ModelNotFoundError):
            return f"{who}: the provider does not know this model ({describe(error)}); fix {fix}"
        if isinstance(error, TRANSIENT):
            return f"{who} failed {tries} time(s) in a row, last: {describe(error)}"
        return f"{who} failed: {describe(error)}"


def wrapped(
    model: Model,
    *,
    provider: str,
    credentials: str,
    role: Role,
    scope: CallScope,
    sink: EventSink,
    retries: int,
    backoff: float,
) -> Model:
    """`model` as the factory hands it to a role: each request recorded, transient failures retried.

    The factory owns its terminal, so pydantic-ai's first-run banner is turned off here, where every
    model the factory runs is made.
    """
    pydantic_ai.BANNER_ENABLED = False
    recorded = RecordedModel(model, provider=provider, scope=scope, sink=sink)
    return RetryingModel(
        recorded, retries=retries, backoff=backoff, provider=provider, credentials=credentials, role=role
    )


class _Wait:
    """Jittered exponential backoff from `base` seconds, but never shorter than the provider's retry-after."""

    def __init__(self, base: float) -> None:
        self._backoff = wait_random_exponential(multiplier=base, max=_MAX_WAIT)

    def __call__(self, state: RetryCallState) -> float:
        backoff = float(self._backoff(state))
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after", None)
        return min(_MAX_WAIT, max(backoff, float(asked))) if asked else backoff


def describe(error: BaseException) -> str:
    """A one-line account of a model failure for people and the ledger; never includes credentials."""
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


def usage_of(response: ModelResponse) -> Usage:
    usage = response.usage
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        cost=_cost(response),
    )


def _cost(response: ModelResponse) -> Decimal | None:
    """The provider's reported cost, else genai-prices' price for the model; None when neither knows."""
    if response.usage.cost is not None:
        return Decimal(response.usage.cost)
    try:
        return Decimal(response.cost().total_price)
    except (LookupError, ValueError, AssertionError):
        return None
