"""The site builds with ``mkdocs build --strict``; its generated inputs are complete and fresh."""

import pkgutil
import subprocess
import sys

import llmnotes

from conftest import ROOT


def test_site_builds_strict_with_every_page(built_site):
    for page in [
        "index.html",
        "tokenization/index.html",
        "reference/assets/index.html",
        "notebooks/quickstart/index.html",
        "search/search_index.json",
    ]:
        assert (built_site / page).is_file(), page
    home = (built_site / "index.html").read_text()
    assert 'class="llmnotes-metric' in home and "<math" in home
    assert 'test="skip"' not in home
    assert "fonts.googleapis.com" not in home


def test_notebook_was_executed(built_site):
    html = (built_site / "notebooks" / "quickstart" / "index.html").read_text()
    assert "19081" in html  # the WordPiece id of "transformers", printed by the notebook


def test_every_public_module_has_a_reference_page():
    modules = [
        m.name for m in pkgutil.iter_modules(llmnotes.__path__) if not m.name.startswith("_")
    ]
    modules.remove("mkdocs_hooks")  # loaded by MkDocs, not imported by users
    config = (ROOT / "mkdocs.yml").read_text()
    for module in modules:
        page = ROOT / "docs" / "reference" / f"{module}.md"
        assert page.is_file(), f"docs/reference/{module}.md is missing"
        assert f"::: llmnotes.{module}" in page.read_text()
        assert f"reference/{module}.md" in config, f"{module} is not in the nav"


def test_committed_metrics_are_fresh():
    """Every stored entry whose assets resolve here was produced by the current code and inputs."""
    result = subprocess.run(
        [sys.executable, "-m", "llmnotes", "regenerate", "--check", "--offline"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, f"run `llmnotes regenerate` and commit:\n{result.stdout}"
