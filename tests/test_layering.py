"""The package's three concerns, kept apart: read from the imports, not from a list."""

import ast
import inspect
from pathlib import Path

import pytest

from llmnotes.pipeline.experiment import _package_sources, llmnotes_imports, load_topics

from conftest import ROOT

PACKAGE = ROOT / "llmnotes"
TEACHING = sorted(p for p in PACKAGE.glob("*.py") if p.stem not in {"__init__", "__main__", "cli"})
EXPERIMENTS = sorted((PACKAGE / "experiments").glob("*.py"))
PIPELINE = sorted((PACKAGE / "pipeline").glob("*.py"))
EXERCISES = sorted((PACKAGE / "exercises").glob("*.py"))


def imported(path: Path) -> set[str]:
    """Every llmnotes module a file names in an import, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("llmnotes"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("llmnotes")}
    return names


def test_the_tree_has_three_concerns():
    assert len(TEACHING) >= 10 and len(EXPERIMENTS) >= 6 and len(PIPELINE) >= 8


@pytest.mark.parametrize("path", TEACHING, ids=lambda p: p.name)
def test_teaching_code_imports_neither_experiments_nor_pipeline(path):
    bad = {n for n in imported(path) if n.startswith(("llmnotes.experiments", "llmnotes.pipeline"))}
    assert not bad, f"{path.name} is teaching code and imports {sorted(bad)}"


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercise_checks_use_the_code_the_pages_show_and_not_the_pipeline(path):
    """A check recomputes its answer with teaching code, or with the experiment a page shows."""
    bad = {n for n in imported(path) if n.startswith(("llmnotes.pipeline", "llmnotes.cli"))}
    assert not bad, f"exercises/{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.name)
def test_experiments_use_only_the_experiment_api_of_the_pipeline(path):
    pipeline = {n for n in imported(path) if n.startswith("llmnotes.pipeline")}
    assert pipeline <= {"llmnotes.pipeline.experiment"}, f"{path.name} imports {pipeline}"
    assert "llmnotes.cli" not in imported(path)


@pytest.mark.parametrize("path", PIPELINE, ids=lambda p: p.name)
def test_the_pipeline_does_not_import_the_command_line(path):
    assert "llmnotes.cli" not in imported(path)


def closure(start: Path) -> set[Path]:
    """``start`` and every non-pipeline llmnotes module it imports, transitively."""
    from llmnotes.pipeline.experiment import module_file

    seen, todo = set(), [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in llmnotes_imports(path):
            found = module_file(name)
            if found is not None and "pipeline" not in found.relative_to(PACKAGE).parts:
                todo.append(found)
    return seen


def test_an_experiments_input_hash_covers_its_teaching_code_and_no_pipeline():
    for exp in load_topics():
        source = Path(inspect.getsourcefile(exp.func))
        hashed = {Path(p) for p in _package_sources(str(source))}
        assert hashed == closure(source), exp.name
        assert not any("pipeline" in p.relative_to(PACKAGE).parts for p in hashed), exp.name
        assert PACKAGE / "corpora.py" in hashed or "corpus" not in exp.assets, exp.name
