"""The one model loop: a pydantic-ai run with tools and a typed answer, failures translated once.

Roles (planner, reviewer, verifiers) and the built-in executor all come through here, so every
model conversation has the same turn limit, the same validation-retry policy and the same errors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic_ai import Agent, ToolOutput
from pydantic_ai.exceptions import UnexpectedModelBehavior, UsageLimitExceeded
from pydantic_ai.messages import CachePoint
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset
from pydantic_ai.usage import UsageLimits

from aifactory.agents.tools import Confined, Workspace
from aifactory.errors import RoleOutputError

T = TypeVar("T")
Tools = tuple[Callable[..., Any], ...]


@functools.cache
def toolset(tools: Tools) -> Confined:
    """Tool schemas are derived from signatures and docstrings; doing it once per tool set, not per
    conversation, is most of the CPU the factory spends around a model call."""
    return Confined(FunctionToolset(tools))


async def run_model(
    model: Model,
    *,
    who: str,
    instructions: str,
    task: str,
    stable: str = "",
    output: ToolOutput[T],
    tools: Tools,
    workspace: Workspace,
    settings: ModelSettings,
    max_turns: int,
    output_retries: int,
    extra: Sequence[AbstractToolset[Workspace]] = (),
) -> T:
    """Converse until the model calls the output tool with a valid answer; `who` names it in errors.

    `stable`, the part of the request later calls repeat byte for byte (the plan), goes first with a
    cache breakpoint after it, so those calls read it from the provider's cache. `extra` toolsets
    (the attempt's MCP tools) are offered beside `tools`.
    """
    agent = Agent(
        model,
        output_type=output,
        instructions=instructions,
        toolsets=[toolset(tools), *extra],
        deps_type=Workspace,
        retries={"tools": output_retries, "output": output_retries},
    )
    try:
        result = await agent.run(
            [stable, CachePoint(), task] if stable else task,
            deps=workspace,
            model_settings=settings,
            usage_limits=UsageLimits(request_limit=max_turns),
        )
    except UsageLimitExceeded:
        raise RoleOutputError(f"{who} did not finish within {max_turns} model turns") from None
    except UnexpectedModelBehavior as error:
        detail = f": {error.body}" if getattr(error, "body", None) else ""
        raise RoleOutputError(f"{who} kept answering in the wrong shape ({error.message}){detail}") from None
    return result.output
