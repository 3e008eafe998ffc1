"""The blueprint version changes with what roles are told or held to, and with nothing else."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aifactory.blueprint.lessons import LessonBook
from aifactory.blueprint.store import install_defaults
from aifactory.blueprint.version import blueprint_version
from aifactory.domain.lesson import Counters, Lesson, LessonStatus, Origin, RegexSpec, Scope, Sighting
from tests.blueprint.lessons import lesson

ACTIVE = lesson("close-files", status=LessonStatus.ACTIVE, check=RegexSpec(pattern="open", message="m"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "blueprint"
    install_defaults(root)
    LessonBook(root / "lessons").save(ACTIVE)
    return root


def _save(root: Path, held: Lesson) -> None:
    LessonBook(root / "lessons").save(held)


def test_the_version_is_twelve_hex_digits_and_stable(root: Path) -> None:
    version = blueprint_version(root)
    assert len(version) == 12 and int(version, 16) >= 0
    assert blueprint_version(root) == version


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "roles" / "planner.md").write_text("{% block system %}{% endblock %}"),
        lambda root: (root / "plan-template.md").write_bytes(b"# Plan\n" * 100_000),
        lambda root: (root / "style.md").write_text("Prefer small functions.\n"),
        lambda root: (root / "lessons" / "README.md").write_text("# ours\n"),
        lambda root: (root / "roles" / "planner.md").rename(root / "roles" / "planner-old.md"),
        lambda root: _save(root, ACTIVE.model_copy(update={"rule": "Close files you open, always."})),
        lambda root: _save(root, ACTIVE.model_copy(update={"scope": Scope(languages=("python",))})),
        lambda root: _save(root, ACTIVE.model_copy(update={"check": None})),
        lambda root: _save(root, ACTIVE.model_copy(update={"status": LessonStatus.RETIRED})),
        lambda root: _save(root, lesson("no-prints", "Log, never print.", status=LessonStatus.ACTIVE)),
        lambda root: (root / "lessons" / "close-files.md").unlink(),
    ],
    ids=[
        "role prompt",
        "plan template",
        "new file",
        "lessons readme",
        "renamed file",
        "rule",
        "scope",
        "check",
        "retired",
        "new active lesson",
        "lesson removed",
    ],
)
def test_what_shapes_prompts_or_checks_changes_the_version(
    root: Path, change: Callable[[Path], object]
) -> None:
    before = blueprint_version(root)
    change(root)
    assert blueprint_version(root) != before


_LATER = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "change",
    [
        lambda root: _save(root, lesson("no-prints", "Log, never print.")),
        lambda root: _save(root, ACTIVE.model_copy(update={"counters": Counters(injected=4, fired=2)})),
        lambda root: _save(
            root,
            ACTIVE.model_copy(update={"seen": (Sighting(run="r", attempt="a1", finding="f", at=_LATER),)}),
        ),
        lambda root: _save(
            root, ACTIVE.model_copy(update={"origin": Origin(run="r", attempt="a", finding="f")})
        ),
        lambda root: _save(root, ACTIVE.model_copy(update={"activated": _LATER, "created": _LATER})),
        lambda root: _save(root, ACTIVE.model_copy(update={"retirement": "idle for 25 runs"})),
        lambda root: (root / "lessons" / "close-files.md").write_text(
            (root / "lessons" / "close-files.md")
            .read_text()
            .replace('status = "active"', "status = 'active' # ok")
        ),
        lambda root: (root / "lessons" / "broken.md").write_text("not a lesson file\n"),
        lambda root: (root / "lessons" / ".lock").touch(),
        lambda root: (root / "lessons" / ".close-files.md.abc.tmp").write_text("half"),
        lambda root: (root / "roles" / ".planner.md.swp").write_text("swap"),
    ],
    ids=[
        "proposed lesson",
        "counters",
        "sightings",
        "origin",
        "dates",
        "retirement proposal",
        "file layout",
        "malformed file",
        "lock file",
        "temporary file",
        "editor swap file",
    ],
)
def test_what_no_role_sees_leaves_the_version_alone(root: Path, change: Callable[[Path], object]) -> None:
    before = blueprint_version(root)
    change(root)
    assert blueprint_version(root) == before


def test_accepting_a_proposed_lesson_changes_the_version(root: Path) -> None:
    proposed = lesson("no-prints", "Log, never print.")
    _save(root, proposed)
    before = blueprint_version(root)
    _save(root, proposed.model_copy(update={"status": LessonStatus.ACTIVE}))
    assert blueprint_version(root) != before


def test_a_large_file_is_hashed_as_a_stream_not_read_whole(root: Path) -> None:
    big = root / "context.bin"
    with big.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    tracemalloc.start()
    try:
        blueprint_version(root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
