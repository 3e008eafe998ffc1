"""Parsing `git diff --unified=0` as it streams: the same answer however the output is cut into chunks."""

from __future__ import annotations

import itertools
import tracemalloc

from hypothesis import given
from hypothesis import strategies as st

from aifactory.workspace.gitdata import AddedLines, AddedLinesParser

PATCH = b"""diff --git a/shop/io.py b/shop/io.py
index 1111111..2222222 100644
--- a/shop/io.py
+++ b/shop/io.py
@@ -2 +2,2 @@ def load(f):
-    return f.read()
+++ not a header: an added line that starts with two pluses
+--- nor this
@@ -9,0 +11 @@ def save():
+    pass
\\ No newline at end of file
diff --git a/old.py b/new.py
similarity index 90%
rename from old.py
rename to new.py
index 3333333..4444444 100644
--- a/old.py
+++ b/new.py
@@ -5 +5 @@
-a
+b
diff --git a/gone.py b/gone.py
deleted file mode 100644
index 5555555..0000000
--- a/gone.py
+++ /dev/null
@@ -1 +0,0 @@
-x
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..6666666
Binary files /dev/null and b/logo.png differ
diff --git a/link b/link
new file mode 120000
index 0000000..7777777
--- /dev/null
+++ b/link
@@ -0,0 +1 @@
+target
\\ No newline at end of file
diff --git "a/with \\"quote\\".py" "b/with \\"quote\\".py"
new file mode 100644
index 0000000..8888888
--- /dev/null
+++ "b/with \\"quote\\".py"
@@ -0,0 +1,3 @@
+1
+2
+3
diff --git a/with space.py b/with space.py
index 9999999..aaaaaaa 100644
--- a/with space.py\t
+++ b/with space.py\t
@@ -1 +0,0 @@
-only removed
diff --git a/caf\xc3\xa9.py b/caf\xc3\xa9.py
new file mode 100644
--- /dev/null
+++ "b/caf\\303\\251.py"
@@ -0,0 +1 @@
+x
"""

EXPECTED = [
    AddedLines("shop/io.py", ((2, 3), (11, 11))),
    AddedLines("new.py", ((5, 5),)),
    AddedLines('with "quote".py', ((1, 3),)),
    AddedLines("caf\u00e9.py", ((1, 1),)),
]


def _parse(chunks: list[bytes]) -> list[AddedLines]:
    parser = AddedLinesParser()
    found = [added for chunk in chunks for added in parser.feed(chunk)]
    return found + parser.close()


def test_each_file_with_added_lines_is_reported_once_with_its_ranges() -> None:
    assert _parse([PATCH]) == EXPECTED


def test_deleted_binary_linked_and_only_shrunk_files_are_left_out() -> None:
    paths = {added.path for added in _parse([PATCH])}
    assert not paths & {"gone.py", "logo.png", "link", "with space.py", "old.py"}


@given(st.lists(st.integers(min_value=0, max_value=len(PATCH)), max_size=40))
def test_the_answer_does_not_depend_on_how_the_output_is_cut(cuts: list[int]) -> None:
    edges = [0, *sorted(cuts), len(PATCH)]
    chunks = [PATCH[start:end] for start, end in itertools.pairwise(edges)]
    assert _parse(chunks) == EXPECTED


def test_a_huge_added_line_is_skipped_without_being_held() -> None:
    parser = AddedLinesParser()
    parser.feed(b"diff --git a/big b/big\n--- a/big\n+++ b/big\n@@ -0,0 +1,2 @@\n+")
    chunk = b"x" * 100_000
    tracemalloc.start()
    try:
        for _ in range(100):
            parser.feed(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    parser.feed(b"\n+small\n")
    assert parser.close() == [AddedLines("big", ((1, 2),))]
    assert peak < 1_000_000
