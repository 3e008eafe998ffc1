"""A plan edited by hand is the plan that runs: the file is the contract between roles."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aifactory.domain.events import AttemptChanged
from aifactory.domain.run import AttemptState
from aifactory.service.planning import no_answers, plan_ask
from aifactory.service.running import RunStart, run
from aifactory.testing.team import scripted_team
from tests.sim import sim_project
from tests.support import git


def test_edited_steps_and_plan_text_reach_the_executor_and_the_verifiers(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=2)) as sim:

        async def go() -> str:
            project = await sim.project()
            with sim.session(project) as current:
                planned = await plan_ask(current, "Write the notes", [], no_answers)
                text = planned.path.read_text()
                text = text.replace("### Step 2: Write note 2", "### Rewrite the second note by hand")
                text = text.replace("### Goal\nNotes.", "### Goal\nNotes, and keep them short.")
                text += "\n### 3. Write note 3\n\n- files: `notes/step-3.txt`\n\n"
                text += "A step the planner did not think of.\n"
                planned.path.write_text(text)
                outcome = await run(
                    current, RunStart(plan_path=planned.path), attempts=1, answer=no_answers, notice=print
                )
                return outcome.run_id

        run_id = asyncio.run(go())
        executor_prompts = sim.requests_for("step_done")
        verifier_prompts = sim.requests_for("submit_plan_verdict")
        log = git(sim.repo, "log", "--format=%s", f"main..factory/{run_id}/a1").splitlines()
    assert log == [
        "step 3/3: Write note 3",
        "step 2/3: Rewrite the second note by hand",
        "step 1/3: Write note 1",
    ]
    assert any("# Your step: 2 of 3: Rewrite the second note by hand" in p for p in executor_prompts)
    assert all("Notes, and keep them short." in p for p in executor_prompts)
    assert "A step the planner did not think of." in verifier_prompts[0]
    finals = [e.state for e in sim.events if isinstance(e, AttemptChanged) and e.state.finished]
    assert finals == [AttemptState.PASSED]
