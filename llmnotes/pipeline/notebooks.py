"""Notebooks generated from the pages' tested code, so the two cannot drift apart.

Each notebook holds the runnable Python blocks of one page (the blocks pytest-examples checks),
under the page's section headings, without their ``#>`` output lines: running the notebook
prints what the page shows. A page has a notebook when its front matter names one
(``notebook: NAME``, see :func:`llmnotes.pipeline.site_config.notebook_pages`). ``llmnotes
notebooks`` writes them; the tests fail when a committed notebook differs from what its page
generates.

The page's exercises end the notebook as cells to fill in: each one's statement (its ``###``
heading and the prose under it) and its check cell, without the folded solution
(:func:`solution_lines`), which the page shows and the tests run.
"""

from __future__ import annotations

import hashlib
import html
import re
import sys
from pathlib import Path
from typing import Any

from llmnotes.pipeline.site_config import FRONT_MATTER, build_commit, notebook_pages, repository

#: The branch the committed notebooks install from; the built site pins its copies to a commit.
DEFAULT_REF = "main"


def install_urls(ref: str = DEFAULT_REF) -> tuple[str, str]:
    """What a notebook installs at ``ref``: the package and the constraints pinning its deps."""
    repo = repository()
    return (
        f"llmnotes @ git+https://github.com/{repo}@{ref}",
        f"https://raw.githubusercontent.com/{repo}/{ref}/constraints.txt",
    )


def setup_cell(ref: str = DEFAULT_REF) -> str:
    """The first code cell: where llmnotes is missing (Colab), install it as of ``ref``.

    Its runtime dependencies only (the site's tools are an extra), at the versions
    ``constraints.txt`` pins at the same ``ref``.
    """
    package, constraints = install_urls(ref)
    return f"""\
# Where llmnotes is not installed yet (Colab, a fresh kernel), install it; elsewhere a no-op.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("llmnotes") is None:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "{package}", "-c", "{constraints}"], check=True)"""


SETUP_CELL = setup_cell()


def pin_notebooks(site: Path, commit: str) -> int:
    """Pin the built site's notebooks to ``commit``: they install the package as of it.

    Returns:
        How many notebooks were pinned.
    """
    pinned = 0
    replacements = dict(zip(install_urls(), install_urls(commit), strict=True))
    for path in site.rglob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        new = text
        for old, pin in replacements.items():
            new = new.replace(old, pin)
        if new != text:
            path.write_text(new, encoding="utf-8")
            pinned += 1
    return pinned


HEADING = re.compile(r"^(#{1,2}) (.+)$")
FENCE = re.compile(r"^\s*(```|~~~)")
#: A folded solution: ``??? success "Solution"`` and the lines indented under it.
SOLUTION = re.compile(r'^\?\?\?\+? \w+ "Solution')
EXERCISES = "Exercises"


def solution_lines(markdown: str) -> set[int]:
    r"""The line numbers (from 1) of the folded solutions' blocks.

    Examples:
        >>> sorted(solution_lines('Try it.\n\n??? success "Solution"\n\n    print(1)\n\nNext.'))
        [3, 4, 5, 6]
    """
    inside, found = False, set()
    for number, line in enumerate(markdown.splitlines(), start=1):
        if SOLUTION.match(line):
            inside = True
        elif inside and line.strip() and not line.startswith("    "):
            inside = False
        if inside:
            found.add(number)
    return found


def exercise_statements(markdown: str) -> dict[int, str]:
    r"""Each exercise's statement, by the line its ``###`` heading is on.

    A statement is the heading and the prose under it, up to its first code block; only the
    ``### `` headings of the page's "Exercises" section are exercises.

    Examples:
        >>> exercise_statements("## Exercises\n\n### One\n\nDo it.\n\n```python\nx\n```\n")
        {3: '### One\n\nDo it.'}
    """
    lines = markdown.splitlines()
    found, section = {}, None
    for number, line in enumerate(lines, start=1):
        if line.startswith("## "):
            section = line[3:].strip()
        elif section == EXERCISES and line.startswith("### "):
            end = next((i for i in range(number, len(lines)) if FENCE.match(lines[i])), len(lines))
            found[number] = "\n".join(lines[number - 1 : end]).strip()
    return found


#: One stderr output of an executed notebook cell, as mkdocs-jupyter renders it.
STDERR_OUTPUT = re.compile(
    r'<div class="jp-OutputArea-child">\s*<div class="jp-RenderedText jp-OutputArea-output" '
    r'data-mime-type="application/vnd\.jupyter\.stderr"[^>]*>\s*<pre>(?P<text>.*?)</pre>'
    r"\s*</div>\s*</div>\n?",
    re.S,
)


def drop_build_noise(rendered: str, install: str = sys.prefix) -> str:
    r"""Remove, from a rendered notebook, the stderr outputs that name the build's own install.

    Such an output is a library warning from the machine that executed the notebook for the
    site (tqdm's "IProgress not found", with the build's paths), not part of the lesson: a
    reader's run prints its own. Other stderr output, progress bars included, stays.

    Examples:
        >>> cell = ('<div class="jp-OutputArea-child">\n<div class="jp-RenderedText '
        ...     'jp-OutputArea-output" data-mime-type="application/vnd.jupyter.stderr">\n'
        ...     '<pre>/opt/venv/lib/tqdm/auto.py:21: TqdmWarning: IProgress not found</pre>\n'
        ...     '</div>\n</div>\n')
        >>> drop_build_noise("<p>before</p>" + cell + "<p>after</p>", install="/opt/venv")
        '<p>before</p><p>after</p>'
        >>> drop_build_noise(cell, install="/elsewhere") == cell
        True
    """
    needle = html.escape(install)
    return STDERR_OUTPUT.sub(lambda m: "" if needle in m.group("text") else m.group(0), rendered)


#: A notebook's rendered Markdown cell (mkdocs-jupyter), whose math is still ``$…$`` TeX.
MARKDOWN_CELL = re.compile(
    r'(<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^"]*"[^>]*>)(.*?)(</div>)', re.S
)
CODE_SPAN = re.compile(r"(<(code|pre)\b.*?</\2>)", re.S)
DISPLAY_MATH = re.compile(r"(?:<p>)?\$\$(.+?)\$\$(?:</p>)?", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$")


def notebook_math(rendered: str) -> str:
    r"""Mark the math of a notebook's Markdown cells the way arithmatex marks a page's.

    Jupyter renders ``$…$`` with MathJax, a script the site does not load; marked like the
    pages' formulas, :func:`llmnotes.pipeline.formulas.render_math` renders them with KaTeX at
    build time. Code is left alone.

    Examples:
        >>> cell = '<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown">{}</div>'
        >>> marked = notebook_math(cell.format("<p>So $a_i$, not <code>$b$</code>:</p>$$e^x$$"))
        >>> print(marked[marked.index("So") : marked.index(", not")])
        So <span class="arithmatex">\(a_i\)</span>
        >>> print(marked[marked.index("</code>") + 12 : -6])
        <div class="arithmatex">\[e^x\]</div>
    """

    def math(text: str) -> str:
        pieces = CODE_SPAN.split(text)
        for i in range(0, len(pieces), 3):  # split() puts each code span and its tag between
            piece = DISPLAY_MATH.sub(
                lambda m: f'<div class="arithmatex">\\[{m.group(1).strip()}\\]</div>', pieces[i]
            )
            pieces[i] = INLINE_MATH.sub(
                lambda m: f'<span class="arithmatex">\\({m.group(1)}\\)</span>', piece
            )
        return "".join(p for i, p in enumerate(pieces) if i % 3 != 2)

    return MARKDOWN_CELL.sub(lambda m: m.group(1) + math(m.group(2)) + m.group(3), rendered)


def is_runnable(example: Any) -> bool:
    """Whether a page's code block runs as is: not marked ``test="skip"``, not a snippet include.

    A block marked ``requires="ASSET"`` runs too, where that asset resolves (see
    :func:`required_asset`).
    """
    return skip_reason(example) is None


def skip_reason(example: Any) -> str | None:
    """Why the test suite does not run a page's code block as is (``None``: it does)."""
    if "--8<--" in example.source:
        return "shows package code, which its module's tests run"
    if example.prefix_settings().get("test") == "skip":
        return 'needs the network (marked test="skip")'
    return None


def required_asset(example: Any) -> str | None:
    """The asset a block needs beyond the packaged ones (``requires="glove-wiki-gigaword-50"``)."""
    return example.prefix_settings().get("requires")


def headings(markdown: str) -> list[tuple[int, int, str]]:
    """The level-1 and level-2 headings outside code blocks, as (line number, level, text)."""
    found, in_code = [], False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if FENCE.match(line):
            in_code = not in_code
        elif not in_code and (match := HEADING.match(line)):
            found.append((number, len(match.group(1)), match.group(2).strip()))
    return found


#: Paragraphs that stay on the page: admonitions, tabs, tables, HTML, macros, includes.
NOT_PROSE = ("!!!", "???", "===", "|", "<", "{{", "--8<--", "*[")
LIST = re.compile(r"(?:[-*]|\d+\.) ")
MD_LINK = re.compile(r"\]\((?!https?:|#)([\w./-]+?)\.md(#[\w-]+)?\)")
API_LINK = re.compile(r"\[([^\]]+)\]\[[\w.]+\]")


def site_links(markdown: str, site_path: str) -> str:
    """Point a page's relative links at the site, from a notebook beside it.

    Examples:
        >>> site_links("[BPE](#bpe), [RNNs](rnns.md), [`merge`][llmnotes.bpe.merge]", "../../x/")
        '[BPE](../../x/#bpe), [RNNs](../../rnns/), `merge`'
    """
    markdown = markdown.replace("](#", f"]({site_path}#")
    root = re.match(r"(?:\.\./)*", site_path).group(0)  # type: ignore[union-attr]
    markdown = MD_LINK.sub(lambda m: f"]({root}{m.group(1)}/{m.group(2) or ''})", markdown)
    return API_LINK.sub(r"\1", markdown)


def jupyter_math(markdown: str) -> str:
    r"""Write a page's ``\(…\)`` and ``\[…\]`` math with the dollars Jupyter reads.

    Examples:
        >>> print(jupyter_math(r"With \(A\) of shape \(r \times d\): \[h = BAx\]"))
        With $A$ of shape $r \times d$: $$h = BAx$$
    """
    markdown = re.sub(r"\\\[(.+?)\\\]", lambda m: f"$${m.group(1)}$$", markdown, flags=re.S)
    return re.sub(r"\\\((.+?)\\\)", lambda m: f"${m.group(1)}$", markdown, flags=re.S)


def prose(lines: list[str], start: int, end: int) -> str:
    r"""The explanation on lines ``start`` to ``end - 1`` (from 1), for a notebook's Markdown cell.

    It keeps the paragraphs, lists and ``###`` headings of the page's own text, up to the
    first ``#`` or ``##`` heading. It leaves out code and the sentence ending in a colon that
    introduces it (the notebook's own code cells are outside the range), admonitions and tabs
    with what is indented under them, and any paragraph that needs the build (a macro, HTML,
    a table).

    Examples:
        >>> page = ["Why.", "", "Like this:", "```text", "x", "```", "", "!!! note", "    Aside."]
        >>> prose(page + ["", "- So", "  on."], 1, 13)
        'Why.\n\n- So\n  on.'
    """
    paragraphs, current, in_code = [], [], False
    for line in lines[start - 1 : end - 1]:
        if FENCE.match(line):
            if not in_code:
                if current:
                    paragraphs.append("\n".join(current))
                    current = []
                # A block in this range is one the notebook leaves out (network, include, other
                # language), so the sentence that introduces it goes too (not a whole list).
                if paragraphs and paragraphs[-1].endswith(":") and not LIST.match(paragraphs[-1]):
                    paragraphs.pop()
            in_code = not in_code
            continue
        if in_code:
            continue
        if HEADING.match(line):
            break
        if not line.strip():
            if current:
                paragraphs.append("\n".join(current))
            current = []
        elif current or not line.startswith((" ", "\t")):
            current.append(line)  # an indented line continues a list item, or an admonition
    if current:
        paragraphs.append("\n".join(current))
    kept = [p for p in paragraphs if not p.startswith(NOT_PROSE) and "{{" not in p]
    return "\n\n".join(kept)


def page_notebook(page: Path, site_path: str) -> Any:
    """Build the notebook of one page.

    Args:
        page: The Markdown page.
        site_path: The page's path on the site, for the link back to it.
    """
    import nbformat
    from pytest_examples import find_examples

    markdown = FRONT_MATTER.sub(lambda m: "\n" * m.group(0).count("\n"), page.read_text("utf-8"))
    title = next((text for _, level, text in headings(markdown) if level == 1), page.stem)
    sections = [(n, text) for n, level, text in headings(markdown) if level == 2]
    # Blocks that need an asset beyond the packaged ones stay on the page: the notebook must run
    # (and the site build execute it) on any machine, offline included.
    solutions = solution_lines(markdown)
    statements = exercise_statements(markdown)
    examples = [
        ex
        for ex in find_examples(str(page))
        if is_runnable(ex) and not required_asset(ex) and ex.start_line not in solutions
    ]
    cells = [
        nbformat.v4.new_markdown_cell(
            f"# {title}\n\nEvery runnable example of the page [{title}]({site_path}), in order, "
            "with the page's explanations between them; what needs the site's build "
            "(figures, stored results) stays on the page. This notebook is generated from it "
            "(`llmnotes notebooks`), so the two stay in step. It needs the llmnotes package "
            "and no network."
            + (
                " It ends with the page's exercises: put your answers where the `None`s are "
                "and run the checks."
                if statements
                else ""
            )
        ),
        nbformat.v4.new_code_cell(SETUP_CELL),
    ]
    lines = markdown.splitlines()

    def explain(start: int, end: int) -> None:
        if text := prose(lines, start, end):
            cells.append(nbformat.v4.new_markdown_cell(jupyter_math(site_links(text, site_path))))

    title_line = next((n for n, level, _ in headings(markdown) if level == 1), 0)
    current, cursor = None, title_line + 1
    for example in examples:
        line, section = next(
            ((n, text) for n, text in reversed(sections) if n < example.start_line), (0, None)
        )
        if section and section != current:
            explain(cursor, line)  # the end of the section before
            cells.append(nbformat.v4.new_markdown_cell(f"## {section}"))
            current, cursor = section, line + 1
        explain(cursor, example.start_line)
        code = "\n".join(
            line for line in example.source.splitlines() if not line.lstrip().startswith("#>")
        )
        cells.append(nbformat.v4.new_code_cell(code.strip()))
        cursor = example.end_line + 1
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number}"  # stable ids keep regenerated notebooks byte-identical
    return notebook


def notebook_text(notebook: Any) -> str:
    """Serialise a notebook the way it is committed."""
    import nbformat

    return nbformat.writes(notebook) + "\n"


def write_notebooks(docs: Path, check: bool = False) -> list[str]:
    """Generate every notebook; return the ones that were (or, with ``check``, would be) changed."""
    changed = []
    for entry in notebook_pages(docs.parent):
        page, name = entry.page, entry.notebook
        site_path = "../../" + ("" if page == "index.md" else page.removesuffix(".md") + "/")
        text = notebook_text(page_notebook(docs / page, site_path))
        target = docs / "notebooks" / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            changed.append(f"notebooks/{name}")
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    return changed


def colab_url(name: str) -> str:
    """The "Open in Colab" address of the notebook ``name`` (``tokenization.ipynb``).

    It opens the notebook as of the commit the site is built from (:func:`build_commit`), or
    of the default branch outside a git checkout.
    """
    ref = build_commit() or DEFAULT_REF
    return (
        f"https://colab.research.google.com/github/{repository()}/blob/{ref}/docs/notebooks/{name}"
    )


def notebook_links(page: str, docs_prefix: str = "") -> str | None:
    """The links a page shows under its title: run its notebook in Colab, download it, read it.

    Args:
        page: The page, relative to ``docs/`` (``tokenization.md``), or a notebook
            (``notebooks/tokenization.ipynb``).
        docs_prefix: The way from the page's address up to the site's root (``"../"`` for
            ``tokenization/``).

    Returns:
        An HTML block, or ``None`` when the page has no notebook.
    """
    names = {entry.page: entry.notebook for entry in notebook_pages()}
    name = names.get(page) or (page.removeprefix("notebooks/") if page.endswith(".ipynb") else None)
    if name is None or name not in names.values():
        return None
    stem = name.removesuffix(".ipynb")
    # mkdocs-jupyter (include_source) copies each notebook beside its rendered page.
    download = f"{docs_prefix}notebooks/{stem}/{name}"
    links = [
        f'<a class="md-button" href="{colab_url(name)}">Open in Colab</a>',
        f'<a class="md-button" href="{download}" download>Download the notebook</a>',
    ]
    if not page.endswith(".ipynb"):
        links.append(
            f'<a class="md-button" href="{docs_prefix}notebooks/{stem}/">Read it executed</a>'
        )
    return '<div class="llmnotes-notebook-links">' + " ".join(links) + "</div>"


def notebooks_nav(root: Path | None = None) -> list[dict[str, str]]:
    """The nav's notebooks section: one entry per notebook, in the order of their pages."""
    return [{entry.title: f"notebooks/{entry.notebook}"} for entry in notebook_pages(root)]


def execution_fingerprint(root: Path) -> str:
    """Hash what an executed notebook's output depends on beyond its own cells.

    That is the llmnotes package's source and the pinned dependency versions. MkDocs-jupyter keys
    its cache on the notebook's content only, so the site's hook puts this hash in the cache
    folder's name: a change to the package re-executes the notebooks, nothing else does.
    """
    digest = hashlib.sha256()
    files = [*sorted((root / "llmnotes").rglob("*.py")), root / "constraints.txt"]
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
