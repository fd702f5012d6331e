"""What the package loads and runs from outside: no remote code, no pickles, pinned models.

These read the package's source and its asset registry, so a change that loads weights unsafely
fails here before it reaches a user.
"""

import re

import pytest

from llmnotes.pipeline.assets import REGISTRY, HubRepo

from conftest import ROOT

SOURCES = {
    path.relative_to(ROOT).as_posix(): path.read_text()
    for path in (ROOT / "llmnotes").rglob("*.py")
}
#: Transformers classes that load weights (tokenizers load none).
WEIGHT_LOADERS = re.compile(r"\b(AutoModel\w*)\.from_pretrained\(|\bpipeline\(")


def call_text(source: str, start: int) -> str:
    """The text of the call whose opening parenthesis is the first one at or after ``start``."""
    depth, i = 0, source.index("(", start)
    for j in range(i, len(source)):
        depth += {"(": 1, ")": -1}.get(source[j], 0)
        if depth == 0:
            return source[start : j + 1]
    raise AssertionError("unbalanced parentheses")


def test_no_remote_code_is_ever_trusted():
    offenders = [name for name, text in SOURCES.items() if "trust_remote_code=True" in text]
    assert not offenders


@pytest.mark.parametrize("pattern", [r"\btorch\.load\(", r"\bpickle\.loads?\(", r"joblib\.load"])
def test_no_pickle_is_loaded(pattern):
    assert not [name for name, text in SOURCES.items() if re.search(pattern, text)]


def test_model_weights_are_loaded_from_safetensors_only():
    calls = [
        (name, call_text(text, match.start()))
        for name, text in SOURCES.items()
        for match in WEIGHT_LOADERS.finditer(text)
        if not text[: match.start()].rstrip().endswith(("def", '"', "``"))
    ]
    assert len(calls) >= 4
    unsafe = [(name, call) for name, call in calls if "use_safetensors" not in call]
    assert not unsafe, unsafe


def test_hub_models_are_pinned_to_a_commit_and_fetch_no_pickles():
    repos = [
        source
        for asset in REGISTRY.values()
        for source in asset.sources
        if isinstance(source, HubRepo) and source.repo_type == "model"
    ]
    assert len(repos) >= 3
    for repo in repos:
        assert re.fullmatch(r"[0-9a-f]{40}", repo.revision), f"{repo.repo_id} is not pinned"
        assert not [p for p in repo.allow_patterns if p.endswith((".bin", ".pt", ".pkl", "*"))]


def test_the_workflow_pins_every_action_to_a_commit_and_every_tool_to_a_version():
    workflow = (ROOT / ".github" / "workflows" / "pages.yml").read_text()
    uses = re.findall(r"uses:\s*(\S+)", workflow)
    assert len(uses) >= 2  # checkout and setup-python; mike comes from constraints.txt
    assert not [u for u in uses if not re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u)], uses
    installs = re.findall(r"pip install [^\n]*", workflow)
    assert installs and all(re.search(r"==\d", line) or "-c " in line for line in installs)
    env = (ROOT / "scripts" / "env.sh").read_text()
    assert all("-c constraints.txt" in line for line in re.findall(r"pip install [^\n]*", env))
    assert re.search(r"^pip==\d", (ROOT / "constraints.txt").read_text(), re.M)
