"""The README and the pages in docs/ link only to files that exist inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from python_tests.conftest import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def local_links(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    return [target for target in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_every_local_link_resolves_inside_the_repository(page):
    for target in local_links(page):
        path = (page.parent / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(REPO_ROOT), f"{page.name} links outside the repository: {target}"
        assert path.exists(), f"{page.name} links to a missing file: {target}"


def test_the_readme_links_every_docs_page():
    readme = set(local_links(REPO_ROOT / "README.md"))
    # contract.md and consumers.md are dbt doc blocks, shown on the docs site
    pages = {f"docs/{p.name}" for p in PAGES[1:]} - {"docs/contract.md", "docs/consumers.md"}
    assert pages <= readme, f"docs pages the README does not link: {sorted(pages - readme)}"
