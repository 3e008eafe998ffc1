"""Proving a lesson's check: it must fire on the rejected attempt and never on code known to be good."""

from __future__ import annotations

from pathlib import Path

from aifactory.checks.proof import Proof, prove
from aifactory.checks.sources import CommitTreeSource, DiffSource
from aifactory.domain.lesson import AstGrepSpec, CheckSpec, CommandSpec
from aifactory.workspace.process import scrubbed_env
from tests.checks.conftest import commit
from tests.support import git


def _attempts(shop: Path) -> tuple[str, str]:
    """A rejected attempt that leaves a file open, and a passing one that closes it; both from `base`."""
    git(shop, "switch", "-q", "-c", "rejected", "base")
    rejected = commit(
        shop, {"shop/report.py": "def report(path):\n    out = open(path, 'w')\n    out.write('x')\n"}
    )
    git(shop, "switch", "-q", "-c", "passed", "base")
    passed = commit(
        shop,
        {"shop/report.py": "def report(path):\n    with open(path, 'w') as out:\n        out.write('x')\n"},
    )
    return rejected, passed


async def _prove(shop: Path, spec: CheckSpec) -> Proof:
    rejected, passed = _attempts(shop)
    base = git(shop, "rev-parse", "base").strip()
    return await prove(
        "close-files",
        spec,
        bad=DiffSource(shop, base, rejected),
        good=[CommitTreeSource(shop, base, label="base commit"), DiffSource(shop, base, passed)],
        command_timeout=30,
        env=scrubbed_env(),
    )


async def test_a_check_that_catches_the_mistake_and_nothing_else_is_accepted(shop: Path) -> None:
    rule = {"pattern": "open($$$A)", "not": {"inside": {"kind": "with_statement", "stopBy": "end"}}}
    proof = await _prove(
        shop, AstGrepSpec(language="python", rule=rule, message="open files in a with block")
    )
    assert proof == Proof(accepted=True, reason=proof.reason, bad_hits=1, good_hits=0)
    assert "never on base commit" in proof.reason


async def test_a_check_that_misses_the_mistake_is_rejected(shop: Path) -> None:
    spec = AstGrepSpec(language="python", rule={"pattern": "eval($X)"}, message="no eval")
    proof = await _prove(shop, spec)
    assert not proof.accepted
    assert proof.reason.startswith("does not fire on the rejected attempt's change")
    assert proof.bad_hits == 0


async def test_a_check_that_fires_on_good_code_is_rejected_naming_where(shop: Path) -> None:
    spec = AstGrepSpec(language="python", rule={"pattern": "$F.$M($$$A)"}, message="too broad")
    proof = await _prove(shop, spec)
    base = git(shop, "rev-parse", "base").strip()[:12]
    assert not proof.accepted
    assert proof.reason == (
        f"fires on known-good code: shop/io.py:2 in base commit {base}, "
        f"shop/report.py:3 in the change {base}...{git(shop, 'rev-parse', 'passed').strip()[:12]}"
    )
    assert proof.bad_hits == 1
    assert proof.good_hits == 2


async def test_a_command_check_is_proved_on_checkouts(shop: Path) -> None:
    spec = CommandSpec(command="! grep -rn \"open(path, 'w')$\" shop", message="open files in a with block")
    proof = await _prove(shop, spec)
    assert proof.accepted, proof.reason
