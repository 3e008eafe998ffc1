"""How findings become lessons, and which lessons a plan receives: each rule tested by behaviour."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from aifactory.domain.events import LessonActivity, LessonNoted
from aifactory.domain.lesson import Lesson, LessonStatus, Scope
from aifactory.service.planning import no_answers, plan_ask
from aifactory.service.running import RunStart, run
from aifactory.testing.demo import ASKS, LESSON_RULE, demo_scenario
from aifactory.testing.scenario import Answer, SimRequest, call_tool
from aifactory.testing.scenarios import offers_tool
from aifactory.testing.team import scripted_team
from tests.learning.shop import answers, book, held, shop, task
from tests.sim import SimProject, sim_project

NOW = datetime(2026, 11, 1, tzinfo=UTC)
EVERYWHERE = Scope()


def _distiller_proposing(check: dict[str, object]) -> object:
    def distill(request: SimRequest) -> Answer:
        return call_tool(
            "submit_lessons",
            lessons=[{"finding": 1, "action": "new", "rule": LESSON_RULE, "check": check}],
        )

    return distill


def _rejections(sim: SimProject) -> list[LessonNoted]:
    return [
        e for e in sim.events if isinstance(e, LessonNoted) and e.activity is LessonActivity.CHECK_REJECTED
    ]


def test_a_check_that_does_not_fire_on_the_offending_code_is_dropped_and_the_lesson_stays_prose(
    tmp_path: Path,
) -> None:
    check = {"kind": "ast-grep", "language": "python", "rule": {"pattern": "$F.readlines()"}, "message": "m"}
    scenario = demo_scenario().first(offers_tool("submit_lessons"), _distiller_proposing(check))
    with shop(tmp_path, scenario) as sim:
        task(sim, ASKS[0], rounds=1)
        [lesson] = held(sim)
        assert lesson.check is None
        [rejected] = _rejections(sim)
        assert "does not fire" in rejected.detail


def test_a_check_that_fires_on_known_good_code_is_dropped(tmp_path: Path) -> None:
    # shop/orders.py in the base commit calls Decimal(...): a check flagging that flags good code.
    check = {"kind": "ast-grep", "language": "python", "rule": {"pattern": "Decimal($X)"}, "message": "m"}
    scenario = demo_scenario().first(offers_tool("submit_lessons"), _distiller_proposing(check))
    with shop(tmp_path, scenario) as sim:
        task(sim, ASKS[0], rounds=1)
        [lesson] = held(sim)
        assert lesson.check is None
        [rejected] = _rejections(sim)
        assert "shop/orders.py" in rejected.detail


def _lesson(
    id: str, *, rule: str = LESSON_RULE, status: LessonStatus = LessonStatus.ACTIVE, scope: Scope = EVERYWHERE
) -> Lesson:
    return Lesson(id=id, rule=rule, status=status, scope=scope, created=NOW, activated=NOW)


def test_a_proposed_lesson_is_not_injected_and_its_topic_strengthens_it_instead_of_a_new_one(
    tmp_path: Path,
) -> None:
    with shop(tmp_path, demo_scenario(), lessons={"auto_accept": False}) as sim:
        book(sim).save(
            _lesson("stream-csv", status=LessonStatus.PROPOSED).model_copy(update={"activated": None})
        )
        planned, outcome = task(sim, ASKS[0])
        assert planned.plan.lessons == ()
        assert len(outcome.rounds) == 1, "a round that only proposed lessons changes no input: no round 2"
        assert "wait for `factory lessons accept`" in outcome.reason
        [lesson] = held(sim)
        assert lesson.id == "stream-csv"
        assert lesson.status is LessonStatus.PROPOSED
        assert lesson.counters.flagged == 2

        # Judged before it is accepted: a replay that takes the proposed lesson as active passes.
        replayed = sim.cli("replay", "--with", "stream-csv", "--json")
        assert replayed.returncode == 0, replayed.stderr
        [result] = json.loads(replayed.stdout)["results"]
        assert (result["first_passed"], result["passed"]) == (False, True)
        assert result["blueprint"].endswith("+stream-csv")
        assert held(sim)[0].status is LessonStatus.PROPOSED

        accepted = sim.cli("lessons", "accept", "stream-csv")
        assert accepted.returncode == 0, accepted.stderr
        planned, outcome = task(sim, ASKS[1])
        assert [carried.id for carried in planned.plan.lessons] == ["stream-csv"]
        assert outcome.rounds[0].passed


def _plan_lessons(sim: SimProject, ask: str = "Write the notes") -> list[str]:
    async def go() -> list[str]:
        project = await sim.project()
        with sim.session(project) as current:
            planned = await plan_ask(current, ask, [], no_answers)
        return [lesson.id for lesson in planned.plan.lessons]

    return asyncio.run(go())


GO_REPO = {"go.mod": "module shop\n", "cmd/report/main.go": "package main\n\nfunc main() {}\n"}


def test_scope_keeps_a_python_lesson_out_of_a_go_task(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(), files=GO_REPO) as sim:
        lessons = book(sim)
        lessons.save(_lesson("python-only", scope=Scope(languages=("python",))))
        lessons.save(_lesson("go-only", rule="Wrap errors with %w.", scope=Scope(languages=("go",))))
        lessons.save(_lesson("everywhere", rule="Name things after what they mean."))
        assert sorted(_plan_lessons(sim)) == ["everywhere", "go-only"]


def test_a_plan_carries_at_most_the_configured_number_of_lessons(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(), lessons={"max_injected": 2}) as sim:
        for number in range(3):
            book(sim).save(_lesson(f"rule-{number}", rule=f"Rule number {number} about topic {number}."))
        assert len(_plan_lessons(sim)) == 2


def test_a_malformed_lesson_file_is_named_with_its_field_and_skipped(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        book(sim).save(_lesson("good-one", rule="Name things after what they mean."))
        broken = sim.repo / ".factory" / "blueprint" / "lessons" / "broken.md"
        broken.write_text(
            '+++\nid = "broken"\nstatus = "sometimes"\ncreated = 2026-11-01T00:00:00Z\n+++\nA rule.\n'
        )
        planned = sim.cli("plan", "Write the notes", "--no-interactive")
        assert planned.returncode == 0, planned.stderr
        assert "broken.md" in planned.stderr
        assert "status" in planned.stderr
        plan_file = next((sim.repo / "plans").glob("*-plan.md"))
        assert "`good-one`" in plan_file.read_text(encoding="utf-8")


def test_two_runs_learning_at_once_lose_nothing(tmp_path: Path) -> None:
    with shop(tmp_path, demo_scenario()) as sim:

        async def both() -> None:
            project = await sim.project()
            with sim.session(project) as current:
                plans = [await plan_ask(current, ask, [], answers) for ask in ASKS]
            with sim.session(project) as one, sim.session(project) as other:
                await asyncio.gather(
                    *(
                        run(
                            current,
                            RunStart(plan_path=plan.path),
                            attempts=2,
                            rounds=1,
                            answer=answers,
                            notice=print,
                        )
                        for current, plan in zip((one, other), plans, strict=True)
                    )
                )

        asyncio.run(both())
        [lesson] = held(sim)
        # Four findings (two attempts of two runs): one became the lesson, three strengthened it.
        assert lesson.counters.flagged == 3
        assert (
            len({sighting.run for sighting in lesson.seen} | {lesson.origin.run if lesson.origin else ""})
            == 2
        )


def test_a_lesson_no_plan_carries_is_proposed_for_retirement_and_the_user_decides(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(), lessons={"retire_after_runs": 2}) as sim:
        book(sim).save(_lesson("go-errors", rule="Wrap errors with %w.", scope=Scope(languages=("go",))))
        _plan_lessons(sim)
        assert held(sim)[0].retirement is None
        _plan_lessons(sim)
        [lesson] = held(sim)
        assert lesson.retirement == "no plan carried it in the last 2 plans"
        listed = sim.cli("lessons", "--json")
        assert "no plan carried it" in listed.stdout
        assert sim.cli("lessons", "retire", "go-errors").returncode == 0
        assert held(sim)[0].status is LessonStatus.RETIRED


def test_a_replay_that_passes_without_a_lesson_proposes_retiring_it(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:
        book(sim).save(_lesson("names", rule="Name things after what they mean."))
        assert sim.cli("run", "Write the notes", "--no-interactive").returncode == 0
        replayed = sim.cli("replay", "--without", "names", "--json")
        assert replayed.returncode == 0, replayed.stderr
        [lesson] = held(sim)
        assert lesson.status is LessonStatus.ACTIVE
        assert lesson.retirement == "a replay of 1 earlier ask(s) without it passed every first round"


def test_a_check_ast_grep_cannot_run_is_dropped_with_the_reason(tmp_path: Path) -> None:
    check = {"kind": "ast-grep", "language": "python", "rule": {"kind": "no_such_node"}, "message": "m"}
    scenario = demo_scenario().first(offers_tool("submit_lessons"), _distiller_proposing(check))
    with shop(tmp_path, scenario) as sim:
        _, outcome = task(sim, ASKS[0])
        [lesson] = held(sim)
        assert lesson.check is None
        [rejected] = _rejections(sim)
        assert lesson.id in rejected.detail
        assert [round_.passed for round_ in outcome.rounds] == [False, True], "the prose alone still teaches"


def test_a_distiller_that_answers_garbage_leaves_the_run_to_end_with_the_reason(tmp_path: Path) -> None:
    garbage = call_tool("submit_lessons", lessons=[{"finding": "first", "action": "maybe"}])
    scenario = demo_scenario().first(offers_tool("submit_lessons"), garbage)
    with shop(tmp_path, scenario) as sim:
        _, outcome = task(sim, ASKS[0])
        assert held(sim) == []
        assert len(outcome.rounds) == 1
        assert "changed none of the factory's inputs (the distiller failed" in outcome.reason
        assert outcome.state.value == "failed"
