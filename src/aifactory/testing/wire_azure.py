"""Azure OpenAI's Chat Completions (`POST /openai/deployments/<deployment>/chat/completions?api-version=…`)
and Responses API (`POST /openai/responses?api-version=…`, or the v1 API's `/openai/v1/responses`).

The bodies, the answers and the streams are OpenAI's; what Azure adds is checked as Azure checks it: the
key arrives in an `api-key` header, every dated request names an `api-version`, the model is the
deployment (in the path for Chat Completions, the body's `model` for Responses), and Azure's own errors
(401, 404, 429 and its 5xx) have the shape `{"error": {"code", "message"}}`. Shapes follow
https://learn.microsoft.com/azure/ai-services/openai/reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, unquote

from aifactory.testing.scenario import HttpError, SimRequest
from aifactory.testing.wire import Refused
from aifactory.testing.wire_openai import OpenAIWire
from aifactory.testing.wire_responses import ResponsesWire

_DEPLOYMENT_PATH = re.compile(r"/openai/deployments/([^/]+)/chat/completions")

_RESPONSES_PATH = "/openai/responses"
_V1_RESPONSES_PATH = "/openai/v1/responses"
"""The v1 API takes no dated `api-version`."""

API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
"""What an Azure OpenAI data-plane version looks like, e.g. `2024-10-21` or `2025-04-01-preview`."""

_ERRORS: dict[int, tuple[str, str]] = {
    401: (
        "401",
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
        "valid key for an active subscription and use a correct regional API endpoint for your resource.",
    ),
    404: ("404", "Resource not found"),
    408: ("Timeout", "The operation was timeout."),
    429: (
        "429",
        "Requests to the ChatCompletions_Create Operation under Azure OpenAI API have exceeded the token "
        "rate limit of your current pricing tier. Please retry after the time the retry-after header gives.",
    ),
    500: ("InternalServerError", "Backend returned unexpected response. Please contact Microsoft for help."),
    503: (
        "ServiceUnavailable",
        "The service is temporarily unable to process your request. Try again later.",
    ),
}
"""Status → (code, message) for the errors Azure answers itself; others pass through in OpenAI's shape."""


def _api_version(path: str) -> str:
    return parse_qs(path.partition("?")[2]).get("api-version", [""])[0]


class _Azure(OpenAIWire):
    """What Azure puts in front of either API: its key header, request id, and error shapes."""

    request_id_header = "apim-request-id"

    def credential(self, headers: Mapping[str, str]) -> str:
        return headers.get("api-key", "").strip()

    def error_body(self, fault: HttpError) -> dict[str, Any]:
        if fault.status not in _ERRORS or fault.error_type is not None:
            return super().error_body(fault)
        code, message = _ERRORS[fault.status]
        return {"error": {"code": fault.code or code, "message": fault.message or message}}

    def unauthorized(self, credential: str) -> HttpError:
        if credential:
            return HttpError(401)
        message = (
            "Access denied due to missing subscription key. Make sure to include subscription key when "
            "making requests to an API."
        )
        return HttpError(401, message=message)

    def model_not_found(self, model: str) -> HttpError:
        message = (
            "The API deployment for this resource does not exist. If you created the deployment within "
            "the last 5 minutes, please wait a moment and try again."
        )
        return HttpError(404, message=message, code="DeploymentNotFound")


class AzureOpenAIWire(_Azure):
    """Azure OpenAI: OpenAI's Chat Completions behind Azure's path, version and key checks."""

    def serves(self, route: str) -> bool:
        return _DEPLOYMENT_PATH.fullmatch(route) is not None

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str], path: str) -> SimRequest:
        found = _DEPLOYMENT_PATH.fullmatch(path.partition("?")[0])
        if found is None or not API_VERSION.fullmatch(_api_version(path)):
            raise Refused(HttpError(404))
        request = super().parse(body, headers, path)
        return replace(request, protocol="azure-openai", model=unquote(found.group(1)))


class AzureResponsesWire(_Azure, ResponsesWire):
    """Azure OpenAI: the Responses API behind Azure's version and key checks; the model is the deployment."""

    def serves(self, route: str) -> bool:
        return route in (_RESPONSES_PATH, _V1_RESPONSES_PATH)

    def parse(self, body: Mapping[str, Any], headers: Mapping[str, str], path: str) -> SimRequest:
        dated = path.partition("?")[0] == _RESPONSES_PATH
        if dated and not API_VERSION.fullmatch(_api_version(path)):
            raise Refused(HttpError(404))
        return replace(super().parse(body, headers, path), protocol="azure-openai-responses")
