"""The contributor guide is true: the paths, names and macros it points to exist."""

import importlib
import re

from llmnotes.pipeline.pages import MACROS
from llmnotes.pipeline.site_config import public_modules

from conftest import ROOT

GUIDE = (ROOT / "docs" / "contributing.md").read_text()
CODE_SPANS = re.findall(r"`([^`\n]+)`", GUIDE)
PATH = re.compile(r"^(llmnotes|tests|docs|scripts|includes|\.github)/[\w./-]+$|^mkdocs\.yml$")


def test_every_path_the_guide_names_exists():
    paths = [span for span in CODE_SPANS if PATH.match(span)]
    assert len(paths) >= 10
    missing = [p for p in paths if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, f"docs/contributing.md names paths that do not exist: {missing}"


def test_every_api_reference_it_links_resolves():
    for target in re.findall(r"\]\[(llmnotes[\w.]*)\]", GUIDE):
        module, _, name = target.rpartition(".")
        try:
            importlib.import_module(target)
        except ModuleNotFoundError:
            assert hasattr(importlib.import_module(module), name), target


def test_every_class_or_constant_it_names_exists():
    names = {span for span in CODE_SPANS if re.fullmatch(r"[A-Z][A-Za-z]+|[A-Z]+(_[A-Z]+)*", span)}
    names -= {"LLMNOTES_CACHE_DIR"}  # an environment variable, read by pipeline.paths
    modules = [
        importlib.import_module(m)
        for m, _ in public_modules()
        if ".pipeline" in m or ".exercises" in m
    ]
    missing = [n for n in names if not any(hasattr(m, n) for m in modules)]
    assert not missing, f"docs/contributing.md names what no pipeline module has: {missing}"


def test_the_guide_lists_every_page_macro_and_no_other():
    named = set(re.findall(r"\{\{ (\w+)\(", GUIDE)) - {"name"}  # the recipe's placeholder
    assert named == set(MACROS)
