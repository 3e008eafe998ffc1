"""AWS Bedrock: Claude and other models through the Converse API (pydantic-ai's `BedrockConverseModel`).

Credentials come from the standard AWS chain (environment, a named profile, SSO, an instance role),
never from the configuration; they are resolved when the provider opens, so a run without them fails
before any work. `region` is required; `base_url` overrides the endpoint (a VPC endpoint, or the
simulated model). botocore's own retries are off (one attempt) so that the pool
(`providers/pool.py`) is the one place that retries, as for every provider. Every request carries
the role's `max_tokens` (`ModelCatalog.settings` always sets it): Bedrock reserves quota by it, so
leaving it to the model's default would hold the model's maximum against the account's
tokens-per-minute quota.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from pydantic_ai.models import Model
from pydantic_ai.models.bedrock import BedrockConverseModel
from pydantic_ai.providers.bedrock import BedrockProvider

from aifactory.config import ProviderConfig
from aifactory.providers.base import MissingCredentials

ONE_ATTEMPT = {"total_max_attempts": 1, "mode": "standard"}
"""botocore's retry setting for "send once": retries live in the pool (`providers/pool.py`)."""

_POOL = 64
"""Connections per client: botocore's default of 10 would queue the calls of many parallel attempts."""

_FIX = (
    "set AWS_PROFILE (after `aws configure` or `aws sso login`) or [providers.{name}] profile, "
    "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


class BedrockBackend:
    """`kind = "bedrock"`: a Bedrock Runtime client for `region`, signed with the chain's credentials."""

    def __init__(self, name: str, config: ProviderConfig, env: Mapping[str, str]) -> None:
        assert config.region is not None, "ProviderConfig requires it for this kind"
        fix = _FIX.format(name=name)
        try:
            session = _session(config, env)
            found = session.get_credentials()
        except BotoCoreError as error:
            raise MissingCredentials(f"the AWS credentials could not be loaded ({error})", fix) from error
        if found is None:
            raise MissingCredentials("no AWS credentials were found", fix)
        client = session.client(
            "bedrock-runtime",
            endpoint_url=config.base_url,
            config=Config(
                retries=ONE_ATTEMPT,
                read_timeout=config.timeout,
                connect_timeout=config.timeout,
                max_pool_connections=_POOL,
            ),
        )
        self.name = name
        source = "the environment" if found.method in ("explicit", "env") else found.method
        self.credentials = f"the AWS credentials it signs with (from {source}, region {config.region})"
        self._provider = BedrockProvider(bedrock_client=client)

    def model(self, model_name: str) -> Model:
        return BedrockConverseModel(model_name, provider=self._provider)


def _session(config: ProviderConfig, env: Mapping[str, str]) -> Any:
    """The table's profile first; else keys in `env`, which may not be the process's environment
    (the catalog is given one); else the standard chain, with `env`'s AWS_PROFILE if it names one."""
    if config.profile is None and env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return boto3.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=env.get("AWS_SESSION_TOKEN") or None,
            region_name=config.region,
        )
    return boto3.Session(
        profile_name=config.profile or env.get("AWS_PROFILE") or None, region_name=config.region
    )
