"""The site builds with ``mkdocs build --strict``; its generated inputs are complete and fresh."""

import html.parser
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import yaml

from llmnotes.pipeline.notebooks import colab_url, execution_fingerprint
from llmnotes.pipeline.site_config import public_modules, reference_file, repository

from conftest import ROOT

CONFIG = (ROOT / "mkdocs.yml").read_text()
SITE_URL = re.search(r"^site_url: (\S+)$", CONFIG, re.M).group(1)
REPO_URL = re.search(r"^repo_url: (\S+)$", CONFIG, re.M).group(1)


def test_site_builds_strict_with_every_page(built_site):
    for page in [
        "index.html",
        "tokenization/index.html",
        "reference/pipeline/assets/index.html",
        "notebooks/quickstart/index.html",
        "search/search_index.json",
    ]:
        assert (built_site / page).is_file(), page
    home = (built_site / "index.html").read_text()
    assert 'class="llmnotes-metric' in home and "<math" in home
    assert 'test="skip"' not in home
    assert "fonts.googleapis.com" not in home


def test_every_page_ends_with_its_verified_box_and_the_figures_of_both_palettes(built_site):
    pages = sorted(built_site.rglob("index.html"))
    boxes = {p: p.read_text().count('llmnotes-verified"><summary>') for p in pages}
    assert not [str(p.relative_to(built_site)) for p, n in boxes.items() if n != 1]
    topic = (built_site / "transformers" / "index.html").read_text()
    box = topic[topic.index("llmnotes-verified") :]
    for shown in ("transformers.attention_maps", "transformers.encoder_parity", "from commit"):
        assert shown in box
    notebook = (built_site / "notebooks" / "rnns" / "index.html").read_text()
    assert "Its cells ran with this code at build" in notebook
    for svg in (ROOT / "docs" / "generated" / "figures").rglob("*.svg"):
        assert (built_site / svg.relative_to(ROOT / "docs")).with_suffix(".dark.svg").is_file()


def test_notebook_was_executed(built_site):
    html = (built_site / "notebooks" / "quickstart" / "index.html").read_text()
    assert "19081" in html  # the WordPiece id of "transformers", printed by the notebook


def test_no_notebook_page_shows_the_build_machines_warnings(built_site):
    pages = sorted((built_site / "notebooks").glob("*/index.html"))
    assert pages
    for page in pages:
        text = page.read_text()
        assert "jp-OutputArea-output" in text, f"{page} shows no outputs"
        assert sys.prefix not in text and "TqdmWarning" not in text, page


def test_every_public_module_has_a_generated_reference_page(built_site):
    modules = [name for name, _ in public_modules()]
    for expected in ("llmnotes.bpe", "llmnotes.experiments.rnns", "llmnotes.pipeline.assets"):
        assert expected in modules
    for module in modules:
        page = built_site / reference_file(module).removesuffix(".md").removesuffix("/index")
        html = (page / "index.html").read_text()
        assert f'id="{module}"' in html, f"{module} has no rendered API reference"
    assert not (ROOT / "docs" / "reference").exists(), "the API reference is generated, not kept"


def test_committed_metrics_are_fresh():
    """Every stored entry whose assets resolve here was produced by the current code and inputs."""
    result = subprocess.run(
        [sys.executable, "-m", "llmnotes", "regenerate", "--check", "--offline"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, f"run `llmnotes regenerate` and commit:\n{result.stdout}"


class LinkCollector(html.parser.HTMLParser):
    """The ``href``/``src`` targets and the ``id`` anchors of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value:
                self.targets.append(value)


def parse_page(path: Path) -> LinkCollector:
    collector = LinkCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def test_every_internal_link_and_anchor_resolves(built_site):
    """Crawl the built site: every local href/src names a file, and every #anchor an element."""
    pages = {path: parse_page(path) for path in built_site.rglob("*.html")}
    base = urllib.parse.urlsplit(SITE_URL).path  # 404.html links absolutely, under the site path
    broken = []
    checked = 0
    for path, page in pages.items():
        for target in page.targets:
            url = urllib.parse.urlsplit(target)
            if url.scheme or url.netloc or target.startswith(("mailto:", "javascript:", "data:")):
                continue
            if url.path.startswith("/"):
                if not url.path.startswith(base):
                    broken.append(f"{path.relative_to(built_site)}: {target} (outside the site)")
                    continue
                file = built_site / urllib.parse.unquote(url.path[len(base) :])
            else:
                file = (path.parent / urllib.parse.unquote(url.path)).resolve()
            if url.path == "":
                file = path
            if file.is_dir():
                file = file / "index.html"
            checked += 1
            if not file.is_file():
                broken.append(f"{path.relative_to(built_site)}: {target}")
            elif url.fragment and file.suffix == ".html":
                ids = pages[file].ids if file in pages else parse_page(file).ids
                if urllib.parse.unquote(url.fragment) not in ids:
                    broken.append(f"{path.relative_to(built_site)}: {target} (no such anchor)")
    assert checked > 1000
    assert not broken, "\n".join(broken)


def test_publishing_pieces_are_in_the_site(built_site):
    sitemap = (built_site / "sitemap.xml").read_text()
    for page in ("", "tokenization/", "week1/", "glossary/", "notebooks/rnns/"):
        assert f"<loc>{SITE_URL}{page}</loc>" in sitemap
    not_found = (built_site / "404.html").read_text()
    assert "Page not found" in not_found
    page = (built_site / "tokenization" / "index.html").read_text()
    assert f'href="{REPO_URL}/edit/main/docs/tokenization.md"' in page
    assert "git-revision-date-localized-plugin" in page  # the "last update" date
    assert "api.github.com" not in page and 'data-md-component="source"' not in page


def test_topic_pages_link_their_notebook_and_api(built_site):
    page = (built_site / "embeddings" / "index.html").read_text()
    assert f'href="{colab_url("embeddings.ipynb")}"' in page
    assert 'href="../notebooks/embeddings/embeddings.ipynb" download' in page
    assert (built_site / "notebooks" / "embeddings" / "embeddings.ipynb").is_file()
    assert 'href="../reference/embeddings/#llmnotes.embeddings.cosine"' in page
    notebook = (built_site / "notebooks" / "embeddings" / "index.html").read_text()
    assert f'href="{colab_url("embeddings.ipynb")}"' in notebook


def test_every_abbreviation_has_a_glossary_entry():
    abbreviations = re.findall(
        r"^\*\[(.+?)\]:", (ROOT / "includes" / "abbreviations.md").read_text(), re.M
    )
    glossary = (ROOT / "docs" / "glossary.md").read_text()
    terms = set(re.findall(r"^## (.+)$", glossary, re.M))
    assert len(abbreviations) >= 20
    missing = [a for a in abbreviations if a not in terms and a.removesuffix("s") not in terms]
    assert not missing, f"add these to docs/glossary.md: {missing}"


def test_repository_is_named_once_for_colab_and_mkdocs():
    assert f"https://github.com/{repository()}" == REPO_URL


def test_notebook_cache_is_keyed_on_the_package_code(tmp_path):
    (tmp_path / "llmnotes").mkdir()
    (tmp_path / "llmnotes" / "a.py").write_text("x = 1\n")
    (tmp_path / "constraints.txt").write_text("torch==2.13.0\n")
    before = execution_fingerprint(tmp_path)
    assert execution_fingerprint(tmp_path) == before
    (tmp_path / "llmnotes" / "a.py").write_text("x = 2\n")
    changed = execution_fingerprint(tmp_path)
    (tmp_path / "constraints.txt").write_text("torch==2.14.0\n")
    assert len({before, changed, execution_fingerprint(tmp_path)}) == 3


def test_publishing_workflow_tests_before_it_deploys_each_version_with_mike():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    steps = workflow["jobs"]["test-and-build"]["steps"]
    commands = [step.get("run", "") + step.get("uses", "") for step in steps]
    tests = commands.index("bash scripts/test.sh")
    assert any("pip-audit --skip-editable" in step for step in commands[tests:])
    deploy = next(i for i, s in enumerate(commands) if "mike deploy --push" in s)
    assert tests < deploy and "refs/heads/main" in steps[deploy]["if"]
    assert "pull_request" in steps[deploy]["if"]  # never from a pull request
    assert steps[deploy]["env"] == {"LLMNOTES_VERSION_PROVIDER": "mike"}
    assert "mike set-default --push latest" in commands[deploy]
    assert workflow["permissions"] == {"contents": "write"}  # the gh-pages branch, nothing else
