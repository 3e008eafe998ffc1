"""`kind = "bedrock"`: the Converse API signed with the AWS chain's credentials, one attempt per request."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.domain.run import Role
from aifactory.errors import ConfigError, ModelError
from aifactory.testing import ErrorEvent, FakeServer, FaultsFirst, HttpError
from tests.providers.roles import READER, factory, summarize

MODEL = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
ACCESS_KEY = "AKIAFAKEFACTORY1"
ENV = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": "fake-secret-key"}


def _table(server: FakeServer, extra: str = "") -> str:
    return f'kind = "bedrock"\nregion = "eu-central-1"\nbase_url = "{server.base_url}"\n{extra}'


async def test_a_role_streams_from_converse_signed_for_its_region_with_its_max_tokens(tmp_path: Path) -> None:
    with FakeServer(READER, "bedrock", keys={ACCESS_KEY}, known_models={MODEL}) as server:
        project = factory(tmp_path, "bedrock", MODEL, _table(server), ENV)
        answer = await summarize(project)

    assert answer.summary == "A project that greets."
    assert [r.path for r in server.requests] == [
        "/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream"
    ] * 2
    for request in server.requests:
        assert f"Credential={ACCESS_KEY}/" in request.headers["authorization"]
        assert "/eu-central-1/bedrock/aws4_request" in request.headers["authorization"]
        assert request.body["inferenceConfig"]["maxTokens"] == 8192
    assert "A project that greets." in server.requests[-1].sim.find_results("read_file")[0].content
    assert [(c.provider, c.model, c.error) for c in project.calls()] == [("bedrock", MODEL, None)] * 2
    assert all(c.usage.input_tokens > 0 and c.usage.output_tokens > 0 for c in project.calls())


async def test_throttling_is_retried_by_the_factory_not_by_botocore(tmp_path: Path) -> None:
    scenario = FaultsFirst(READER, [HttpError(429), HttpError(503)])
    with FakeServer(scenario, "bedrock") as server:
        project = factory(tmp_path, "bedrock", MODEL, _table(server), ENV)
        answer = await summarize(project)

    assert answer.summary == "A project that greets."
    assert len(server.requests) == 4
    errors = [c.error for c in project.calls()]
    assert errors[0] is not None and "HTTP 429 ThrottlingException" in errors[0]
    assert errors[1] is not None and "HTTP 503 ServiceUnavailableException" in errors[1]
    assert errors[2:] == [None, None]


async def test_an_exception_inside_the_stream_is_retried_too(tmp_path: Path) -> None:
    throttled = ErrorEvent(2, "throttlingException", "Too many tokens, please wait before trying again.")
    with FakeServer(FaultsFirst(READER, [throttled]), "bedrock") as server:
        project = factory(tmp_path, "bedrock", MODEL, _table(server), ENV)
        await summarize(project)

    assert len(server.requests) == 3
    first = project.calls()[0].error
    assert first is not None and "throttlingException" in first


async def test_throttling_longer_than_the_role_may_wait_names_the_provider_and_is_retryable(
    tmp_path: Path,
) -> None:
    with FakeServer(FaultsFirst(READER, [HttpError(429)] * 3), "bedrock") as server:
        project = factory(tmp_path, "bedrock", MODEL, _table(server), ENV, max_wait=0)
        with pytest.raises(ModelError) as raised:
            await summarize(project)

    assert "every model choice of role planner is cooling down (bedrock until" in str(raised.value)
    assert raised.value.retryable
    assert len(server.requests) == 1, "a throttled provider is not asked again before its reset"


async def test_credentials_bedrock_does_not_know_are_a_model_error_naming_the_provider(
    tmp_path: Path,
) -> None:
    with FakeServer(READER, "bedrock", keys={"AKIAANOTHERKEY00"}) as server:
        project = factory(tmp_path, "bedrock", MODEL, _table(server), ENV)
        with pytest.raises(ModelError) as raised:
            await summarize(project, Role.ASK_VERIFIER)

    message = str(raised.value)
    assert "provider 'bedrock'" in message and "role ask-verifier" in message
    assert "HTTP 403 UnrecognizedClientException" in message
    assert "the AWS credentials it signs with (from the environment, region eu-central-1)" in message
    assert "fake-secret-key" not in message
    assert not raised.value.retryable


async def test_an_unknown_model_id_says_which_setting_to_fix(tmp_path: Path) -> None:
    with FakeServer(READER, "bedrock", known_models={"anthropic.claude-opus-4-1-20250805-v1:0"}) as server:
        project = factory(tmp_path, "bedrock", MODEL, _table(server), ENV)
        with pytest.raises(ModelError, match=r"does not know this model .*fix \[roles\.planner\] model"):
            await summarize(project)


async def test_a_named_profile_of_the_aws_files_signs_the_requests(tmp_path: Path) -> None:
    credentials = Path.home() / ".aws" / "credentials"
    credentials.parent.mkdir()
    credentials.write_text("[work]\naws_access_key_id = AKIAPROFILEKEY01\naws_secret_access_key = s\n")
    with FakeServer(READER, "bedrock", keys={"AKIAPROFILEKEY01"}) as server:
        project = factory(tmp_path, "bedrock", MODEL, _table(server, 'profile = "work"'), ENV)
        await summarize(project)

    assert "Credential=AKIAPROFILEKEY01/" in server.requests[0].headers["authorization"]


def test_no_credentials_anywhere_fails_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    project = factory(tmp_path, "bedrock", MODEL, 'kind = "bedrock"\nregion = "us-east-1"', {})
    with pytest.raises(ConfigError) as raised:
        project.catalog.check([Role.EXECUTOR])

    message = str(raised.value)
    assert "no AWS credentials were found, which provider 'bedrock' needs for role executor" in message
    assert "AWS_PROFILE" in message and "AWS_ACCESS_KEY_ID" in message


def test_a_profile_that_does_not_exist_fails_before_any_call(tmp_path: Path) -> None:
    table = 'kind = "bedrock"\nregion = "us-east-1"\nprofile = "nope"'
    project = factory(tmp_path, "bedrock", MODEL, table, ENV)
    with pytest.raises(
        ConfigError, match=r"could not be loaded \(The config profile \(nope\) could not be found"
    ):
        project.catalog.check([Role.PLANNER])
