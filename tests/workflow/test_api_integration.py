"""The shipped `api-integration` workflow, as a new user runs it after `factory init`: a small OpenAPI
document and two business use cases in; per use case a module and its test, planned, run and
verified (the project's tests run in every attempt), then documentation, all on one branch."""

from __future__ import annotations

import json
import shlex
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from aifactory.testing.integration import integration_team
from tests.sim import SimProject, sim_project
from tests.support import git

FIXTURES = Path(__file__).parent / "fixtures"
TESTS = shlex.join([sys.executable, "-B", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"])


def _query(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(sim.repo / ".factory" / "ledger.db")) as db:
        return db.execute(sql).fetchall()


def test_api_integration_writes_code_tests_and_docs_per_use_case_on_one_branch(tmp_path: Path) -> None:
    files = {
        "README.md": "# shop front\n",
        "docs/openapi.yaml": (FIXTURES / "petstore.yaml").read_text(),
        "docs/use-cases.md": (FIXTURES / "use-cases.md").read_text(),
    }
    with sim_project(tmp_path, integration_team(), files=files, test=TESTS) as sim:
        assert sim.cli("workflow", "validate", "api-integration").returncode == 0

        ran = sim.cli(
            "workflow",
            "run",
            "api-integration",
            *("--input", "api=@docs/openapi.yaml", "--input", "cases=@docs/use-cases.md"),
            timeout=300,
        )

        assert ran.returncode == 0, ran.stdout + ran.stderr
        [(run_id, branch, worktree, state)] = _query(
            sim, "select id, branch, worktree, state from workflow_runs"
        )
        assert state == "passed"
        lookup = git(sim.repo, "show", f"{branch}:integrations/look_up_a_pet_by_its_id.py")
        assert "OPERATION = ('GET', '/pets/{petId}')" in lookup and "getPetById" in lookup
        listing = git(sim.repo, "show", f"{branch}:integrations/list_the_pets_in_the_store.py")
        assert "OPERATION = ('GET', '/pets')" in listing and "listPets" in listing
        produced = set(git(sim.repo, "ls-tree", "-r", "--name-only", str(branch)).split())
        assert {
            "tests/test_look_up_a_pet_by_its_id.py",
            "tests/test_list_the_pets_in_the_store.py",
        } <= produced
        docs = git(sim.repo, "show", f"{branch}:docs/integrations.md")
        assert "`integrations/list_the_pets_in_the_store.py`" in docs
        assert "`integrations/look_up_a_pet_by_its_id.py`" in docs
        checked = subprocess.run(
            shlex.split(TESTS), cwd=str(worktree), capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0 and "2 passed" in checked.stdout, checked.stdout

        subjects = git(sim.repo, "log", "--format=%s", str(branch)).splitlines()
        assert subjects[0] == "agent: doc-writer"
        assert {f"workflow {run_id}: integrate[0] (run)", f"workflow {run_id}: integrate[1] (run)"} <= set(
            subjects
        )
        steps = {
            key: (state, json.loads(str(out)))
            for key, state, out in _query(sim, "select key, state, outputs from workflow_steps")
        }
        assert {key: state for key, (state, _) in steps.items()} == {
            "split": "done",
            "integrate[0]": "done",
            "integrate[1]": "done",
            "docs": "done",
        }
        assert steps["split"][1]["lines"] == ["Look up a pet by its id", "List the pets in the store"]
        runs = dict(_query(sim, "select id, state from runs"))
        assert sorted(runs.values()) == ["passed", "passed"]
        assert {steps[f"integrate[{i}]"][1]["run_id"] for i in (0, 1)} == set(runs)
        assert _query(sim, "select run_id, attempt, agent from small_agent_runs") == [
            (run_id, "docs", "doc-writer")
        ]
        plans = sim.requests_for("submit_plan")
        assert plans and all("Context document:" in prompt and "getPetById" in prompt for prompt in plans)
