"""docs/ci.md shows the recipes the tests run, byte for byte, and says nothing the code disproves."""

from __future__ import annotations

import importlib.util
import re

from tests.ci_world import REPO

_spec = importlib.util.spec_from_file_location("sync_docs", REPO / "tools" / "sync-docs.py")
sync_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sync_docs)

INCLUDED = ["ci/install-fixpack.sh", "ci/gitlab-ci.yml", "ci/github-workflow.yml", "ci/check-bundles.sh"]


def test_ci_doc_includes_every_recipe_verbatim() -> None:
    found = sync_docs.blocks(REPO / "docs" / "ci.md")
    assert sorted(path for path, _ in found) == sorted(INCLUDED)
    for path, text in found:
        assert text == (REPO / path).read_text(encoding="utf-8"), f"docs/ci.md's copy of {path} differs"


def test_no_doc_installs_fixpack_by_bare_name_from_a_public_index() -> None:
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        bare = re.findall(r"pip install(?: --?[\w-]+)* fixpack\b(?![=@\w-])", text)
        assert not bare, f"{doc.name}: {bare}"


def test_ci_doc_describes_offline_rehearsal_as_it_runs() -> None:
    text = " ".join((REPO / "docs" / "ci.md").read_text(encoding="utf-8").split())
    assert "stops at the first precondition of the precheck" not in text
    assert "a second rollback is a no-op" not in text
    assert "rehearsed against synthetic rows" in text
    assert "Duplicate entry" in text and "second rollback changed nothing" in text


def test_readme_says_how_fixpack_is_installed_until_it_is_published() -> None:
    text = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert "not published" in text and "published as `fixpack`" in text
    assert "ci/install-fixpack.sh" in text
