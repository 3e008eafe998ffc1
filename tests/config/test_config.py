"""Configuration: layered, complete, and wrong values reported with file, line and key."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from aifactory.config import FactoryConfig, ModelRef, load_config, user_config_path
from aifactory.domain.prices import Price
from aifactory.domain.run import Role
from aifactory.errors import ConfigError


def _template() -> str:
    return (resources.files("aifactory.config") / "default.toml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_commented_template_is_exactly_the_defaults() -> None:
    assert FactoryConfig.model_validate(tomllib.loads(_template())) == FactoryConfig()


def test_the_template_mentions_every_key_of_every_section() -> None:
    template = _template()
    sections = {name: field.annotation for name, field in FactoryConfig.model_fields.items()}
    for name in ("run", "plan", "commands", "executor", "verify"):
        model = sections[name]
        assert isinstance(model, type)
        for key in model.model_fields:
            assert f"\n{key} = " in template, f"[{name}] {key} is not in the init template"
    provider_keys = (
        "kind",
        "base_url",
        "api_key_env",
        "endpoint",
        "api_version",
        "region",
        "profile",
        "api",
        "timeout",
    )
    for key in ("model", "max_tokens", "temperature", *provider_keys):
        assert key in template


def test_the_project_file_overrides_the_user_file_which_overrides_defaults(tmp_path: Path) -> None:
    user = user_config_path()
    user.parent.mkdir(parents=True)
    user.write_text(
        "[run]\nattempts = 5\nmax_parallel = 3\n"
        '[providers.local]\nkind = "openai"\napi_key_env = "LOCAL_KEY"\n'
    )
    project = _write(tmp_path, '[run]\nattempts = 7\n[roles.executor]\nmodel = "local:qwen3-coder"\n')
    config = load_config(project, overrides={"run": {"max_parallel": 9}})
    assert config.run.attempts == 7
    assert config.run.max_parallel == 9
    assert config.roles[Role.EXECUTOR].model == ("local:qwen3-coder",)
    assert config.roles[Role.PLANNER].model == FactoryConfig().roles[Role.PLANNER].model


def test_a_value_of_the_wrong_type_names_file_line_table_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, '# comment\n[run]\n\nattempts = "many"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4: [run] attempts: ")
    assert "valid integer" in message
    assert "'many'" in message


def test_a_misspelt_key_is_reported_where_it_is(tmp_path: Path) -> None:
    path = _write(tmp_path, "[commands]\ntest = 'pytest'\ntset = 'pytest -x'\n")
    with pytest.raises(ConfigError, match=r":3: \[commands\] tset: unknown key 'tset'"):
        load_config(path)


def test_a_role_naming_an_unconfigured_provider_points_at_the_model_line(tmp_path: Path) -> None:
    path = _write(tmp_path, '[roles.planner]\nmax_tokens = 100\nmodel = "bedrock:claude"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}:3: [roles.planner] model: names provider 'bedrock'" in str(caught.value)
    assert "add [providers.bedrock]" in str(caught.value)


def test_a_model_without_a_provider_prefix_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, '[roles.executor]\nmodel = "gpt-4"\n')
    with pytest.raises(ConfigError, match="expected 'provider:model'"):
        load_config(path)


def test_an_api_key_pasted_where_its_variable_name_belongs_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, '[providers.anthropic]\napi_key_env = "sk-ant-secret-123"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "never the key itself" in str(caught.value)
    assert "sk-ant-secret-123" not in str(caught.value)


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "[run]\nattempts = 2\n[roles.planner\n")
    with pytest.raises(ConfigError, match=rf"{path}:3: not valid TOML"):
        load_config(path)


def test_an_unknown_role_lists_the_roles(tmp_path: Path) -> None:
    path = _write(tmp_path, '[roles.architect]\nmodel = "anthropic:x"\n')
    with pytest.raises(ConfigError, match="'plan-verifier', 'ask-verifier' or 'distiller'"):
        load_config(path)


def test_a_price_is_read_per_provider_and_model_with_exact_decimals(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[providers.local]\nkind = "openai"\napi_key_env = "LOCAL_KEY"\n'
        '[prices."local:qwen3.5-coder"]\ninput = 0\noutput = 0\n'
        '[prices."anthropic:claude-sonnet-5-5"]\ninput = 3\noutput = 15.0\n'
        "cache_write = 3.75\ncache_read = 0.3\n",
    )
    config = load_config(path)
    assert config.price(ModelRef.parse("local:qwen3.5-coder")) == Price(input=Decimal(0), output=Decimal(0))
    sonnet = config.price(ModelRef.parse("anthropic:claude-sonnet-5-5"))
    assert sonnet is not None and sonnet.cache_read == Decimal("0.3") and sonnet.output == Decimal(15)
    assert config.price(ModelRef.parse("openai:gpt-6.1-sol")) is None


@pytest.mark.parametrize(
    ("entry", "line", "message"),
    [
        ('[prices."openai:gpt-4.1"]\ninput = -2\noutput = 8\n', 2, '[prices."openai:gpt-4.1"] input: '),
        ('[prices."openai:gpt-4.1"]\ninput = 2\noutput = 8\ncache_reed = 1\n', 4, "cache_reed: unknown key"),
        ('[prices."openai:gpt-4.1"]\ninput = 2\n', 1, '[prices."openai:gpt-4.1"] output: Field required'),
        (
            '[prices]\n"openai:x" = { input = "free", output = 0 }\n',
            2,
            "input: Input should be a valid decimal",
        ),
        ('[prices."bedrock:claude"]\ninput = 2\noutput = 1\n', 1, "names provider 'bedrock', which is not"),
        ("[prices.claude]\ninput = 2\noutput = 1\n", 1, "[prices] claude: expected 'provider:model'"),
    ],
)
def test_a_bad_price_names_file_line_and_key(tmp_path: Path, entry: str, line: int, message: str) -> None:
    path = _write(tmp_path, entry)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)
