"""Shared fixtures: a toy experiment world, and the site built once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "test-artifacts"

needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason="../shared/data is absent (only developer machines and CI have it); "
    "the packaged stand-ins cover the same code paths",
)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the network."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def build_site(site: Path, **env: str) -> Path:
    """Build the site into ``site`` with ``mkdocs build --strict``, ``env`` added to the
    environment (``LLMNOTES_VERSION_PROVIDER="mike"``, say), and return ``site``."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_MKDOCS_2_WARNING": "1", **env}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    )
    return site


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site once with ``mkdocs build --strict`` and return its folder.

    ``LLMNOTES_BUILT_SITE=FOLDER`` uses a site built beforehand instead, to rerun one browser
    test while writing it; CI always builds afresh.
    """
    if (prebuilt := os.environ.get("LLMNOTES_BUILT_SITE")) and not os.environ.get("CI"):
        return Path(prebuilt)
    return build_site(tmp_path_factory.mktemp("site"))


def code_source(item: pytest.Item) -> str | None:
    """The file whose code ``item`` runs: a docs page's block or a module's docstring example."""
    if isinstance(item, pytest.DoctestItem):
        path = Path(item.path)
    elif getattr(item, "originalname", None) == "test_docs_example":
        path = Path(item.callspec.params["example"].path)
    else:
        return None
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return None


class CodeRuns:
    """Records which files' code ran in this session, and how, for the site's verified box.

    Registered as a plugin (not as this conftest's hooks, which would see only the items
    under ``tests/``), so the package's doctests count too.
    """

    def __init__(self) -> None:
        self.outcomes: dict[str, list[str]] = {}
        self.seconds: dict[str, dict[int, float]] = {}  # a page's blocks: fence line → time
        self.partial: set[str] = set()  # files some of whose code this run left out (-k)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.partial.update(source for item in items if (source := code_source(item)))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        ran = report.when == "call" or (report.when == "setup" and report.outcome != "passed")
        if ran and (source := code_source(item)):
            outcome = report.outcome
            if report.skipped and isinstance(report.longrepr, tuple):  # (file, line, reason)
                outcome = f"skipped: {report.longrepr[2].removeprefix('Skipped: ')}"
            self.outcomes.setdefault(source, []).append(outcome)
            docs_block = getattr(item, "originalname", None) == "test_docs_example"
            if docs_block and report.when == "call" and report.passed:
                line = item.callspec.params["example"].start_line
                self.seconds.setdefault(source, {})[line] = report.duration
        return report

    def pytest_sessionfinish(self) -> None:
        from llmnotes.pipeline.verified import now_utc, record_runs

        whole = {k: v for k, v in self.outcomes.items() if k not in self.partial}
        if whole:
            record_runs(ROOT, whole, now_utc(), self.seconds)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(CodeRuns(), "llmnotes-code-runs")
