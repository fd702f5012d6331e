import json

from llmnotes.pipeline.notebooks import (
    SETUP_CELL,
    colab_url,
    headings,
    notebook_links,
    notebooks_nav,
    page_notebook,
    pin_notebooks,
    setup_cell,
    write_notebooks,
)
from llmnotes.pipeline.site_config import NotebookPage, build_commit, notebook_pages

from conftest import ROOT


def test_committed_notebooks_are_in_step_with_their_pages():
    stale = write_notebooks(ROOT / "docs", check=True)
    assert stale == [], f"run `llmnotes notebooks` and commit: {stale}"


def test_notebook_has_the_page_code_without_outputs(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n## First\n\n```python\nprint(1)\n#> 1\n```\n\n"
        '```python test="skip"\nimport network\n```\n\n## Second\n\n```python\nx = 2\n```\n'
    )
    notebook = page_notebook(page, "../../page/")
    kinds = [(c.cell_type, c.source) for c in notebook.cells]
    assert kinds[1] == ("code", SETUP_CELL)
    assert kinds[2:] == [
        ("markdown", "## First"),
        ("code", "print(1)"),
        ("markdown", "## Second"),
        ("code", "x = 2"),
    ]
    assert "[Title](../../page/)" in kinds[0][1]


def test_notebook_carries_the_explanations_and_ends_with_the_exercises_to_fill_in(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\nWhat the page is about.\n\n## First\n\nWhy this runs, see [a](#a) and "
        '[b](other.md):\n\n```python\nprint(1)\n```\n\nIt printed {{ metric("e", "v") }}.\n\n'
        "It prints one.\n\n"
        "!!! note\n    Aside.\n\n## Exercises\n\n### Exercise 1: count\n\nCount it.\n\n"
        '```python\nprint(check(None))\n```\n\n??? success "Solution"\n\n'
        "    ```python\n    print(check(1))\n    ```\n\n    Because.\n"
    )
    cells = [(c.cell_type, c.source) for c in page_notebook(page, "../../page/").cells]
    assert cells[2:] == [
        ("markdown", "What the page is about."),
        ("markdown", "## First"),
        ("markdown", "Why this runs, see [a](../../page/#a) and [b](../../other/):"),
        ("code", "print(1)"),
        ("markdown", "It prints one."),  # the macro's paragraph and the admonition stay behind
        ("markdown", "## Exercises"),
        ("markdown", "### Exercise 1: count\n\nCount it."),
        ("code", "print(check(None))"),  # and not the solution
    ]
    assert "It ends with the page's exercises" in cells[0][1]


def test_headings_ignore_comments_in_code():
    md = "# T\n```bash\n# not a heading\n```\n## S\n"
    assert headings(md) == [(1, 1, "T"), (5, 2, "S")]


def test_notebooks_come_from_the_pages_front_matter_in_nav_order():
    pages = notebook_pages()
    assert [p.page for p in pages][:3] == ["index.md", "math.md", "tokenization.md"]
    assert pages[0] == NotebookPage("index.md", "quickstart.ipynb", "Quick start")
    assert notebooks_nav()[1] == {"Math primer": "notebooks/math.ipynb"}
    assert notebooks_nav()[2] == {"Tokenization": "notebooks/tokenization.ipynb"}
    for page in pages:
        assert json.loads((ROOT / "docs" / "notebooks" / page.notebook).read_text())["cells"]
    on_disk = {p.name for p in (ROOT / "docs" / "notebooks").glob("*.ipynb")}
    assert on_disk == {p.notebook for p in pages}, "a notebook without a page, or the reverse"


def test_setup_cell_installs_only_where_llmnotes_is_missing():
    namespace: dict = {}
    exec(compile(SETUP_CELL, "setup", "exec"), namespace)  # llmnotes is installed: a no-op
    assert "git+https://github.com/llmnotes/llmnotes@main" in SETUP_CELL
    assert "-c" in SETUP_CELL and "/main/constraints.txt" in SETUP_CELL


def test_notebook_links_for_pages_and_notebooks():
    page = notebook_links("rnns.md", "../")
    assert f'href="{colab_url("rnns.ipynb")}"' in page
    assert 'href="../notebooks/rnns/rnns.ipynb" download' in page
    assert 'href="../notebooks/rnns/"' in page
    notebook = notebook_links("notebooks/rnns.ipynb", "../../")
    assert 'href="../../notebooks/rnns/rnns.ipynb" download' in notebook
    assert "Read it executed" not in notebook
    assert notebook_links("glossary.md") is None
    commit = build_commit()
    assert colab_url("rnns.ipynb").endswith(f"/blob/{commit or 'main'}/docs/notebooks/rnns.ipynb")


def test_the_built_sites_notebooks_install_the_commit_they_were_built_from(tmp_path):
    notebook = tmp_path / "notebooks" / "rnns" / "rnns.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text(json.dumps({"cells": [{"source": SETUP_CELL.splitlines(True)}]}))
    commit = "0123456789abcdef0123456789abcdef01234567"
    assert pin_notebooks(tmp_path, commit) == 1
    text = json.loads(notebook.read_text())["cells"][0]["source"]
    assert "".join(text) == setup_cell(commit)
    assert f"llmnotes@{commit}" in "".join(text) and f"/{commit}/constraints.txt" in "".join(text)
