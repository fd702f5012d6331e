"""Benchmarks: the speed experiments of every topic, the site's own pipeline, one summary table.

``scripts/bench.py`` is the entry point. Each topic's sub-benchmark reruns that topic's speed
experiments (those declared with ``speed=`` rows, found by :func:`speed_experiments`), which
measure a from-scratch version and its library peer side by side in one run and store both. The
``pipeline`` sub-benchmark times the site's build on a throw-away copy of the checkout (every
experiment rerun with ``--force``, offline, with the packaged assets only and then with the
local data folder; ``mkdocs build`` with cold and warm notebook caches; the no-op rebuild) and
stores the result as the entry :data:`PIPELINE`. :func:`summary_rows` reads all of it back as
one table.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmnotes.pipeline.experiment import SpeedRow, load_topics, topics
from llmnotes.pipeline.metrics import Entry, MetricsStore, MissingMetric

#: The store entry the pipeline benchmark writes.
PIPELINE = "performance.pipeline"


def speed_experiments() -> dict[str, list[str]]:
    """Each topic's speed experiments (declared with ``speed=`` rows), by topic."""
    found: dict[str, list[str]] = {}
    for exp in load_topics():
        if exp.speed:
            found.setdefault(exp.topic, []).append(exp.name)
    return found


#: Goals on a 2-core laptop-class machine, in seconds.
GOALS = {"noop_seconds": 15.0, "packaged_regeneration_seconds": 600.0}
IGNORED = shutil.ignore_patterns(
    ".venv", ".git", "site", ".cache", "test-artifacts", "__pycache__", "*.egg-info"
)


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Run ``command`` to completion and return its wall-clock seconds.

    Raises:
        RuntimeError: The command failed; the message has the last line it printed.
    """
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise RuntimeError(f"{' '.join(command[2:])} failed: {last}")
    return time.perf_counter() - start


def fresh_copy(root: Path, into: Path) -> Path:
    """Copy the checkout without environments, caches or built site.

    The committed results stay, as in a user's checkout: an experiment whose assets are missing
    is skipped and keeps its committed entry, so the site still builds.
    """
    copy = into / "llmnotes"
    shutil.copytree(root, copy, ignore=IGNORED)
    return copy


def pipeline_timings(
    root: Path,
    shared_data: Path | None,
    repeats: int = 3,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Time the site's pipeline on throw-away copies of the checkout at ``root``.

    Args:
        root: The checkout.
        shared_data: The local data folder, for the cold regeneration with the real data sets;
            ``None`` measures the packaged-assets run only.
        repeats: Runs of each warm measurement (the median is kept).
        say: Where progress lines go.

    Returns:
        Seconds per topic for each cold regeneration, the cold and warm ``mkdocs build``, the
        no-op rebuild, and whether each goal of :data:`GOALS` was met.
    """
    cli = [sys.executable, "-m", "llmnotes"]
    regenerate = [*cli, "regenerate", "--offline", "--quiet"]
    # Not strict: on the first run the page quotes this very benchmark, not stored yet. The
    # work is the same; the strictness is checked by the test suite's own build.
    build = [*cli, "build", "--no-strict"]
    from llmnotes.hardware import cpu_info, memory_gib

    values: dict[str, Any] = {
        "repeats": repeats,
        "machine": cpu_info() | {"memory_gib": memory_gib()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "no-data"
        empty.mkdir()
        runs = {"packaged": empty} | ({"shared_data": shared_data} if shared_data else {})
        for name, data in runs.items():
            copy = fresh_copy(root, Path(tmp) / name)
            env = {**os.environ, "LLMNOTES_ROOT": str(copy), "HF_HUB_OFFLINE": "1"}
            env["LLMNOTES_DATA_DIR"] = str(data)
            # Each run starts with an empty user cache, like a new reader, and never writes the
            # models it produces (char-gpt, minilm-sst2) into the real one.
            env["LLMNOTES_CACHE_DIR"] = str(Path(tmp) / name / "cache")
            per_topic = {}
            for topic in topics():
                say(f"cold regeneration ({name}): {topic}")
                command = [*regenerate, "--force", "--all-assets", topic]  # stand-ins included
                per_topic[topic] = timed(command, copy, env)
            values[f"{name}_regeneration_seconds"] = per_topic
            values[f"{name}_regeneration_total"] = sum(per_topic.values())
            if name == "packaged":
                say("mkdocs build, cold notebook cache")
                values["cold_build_seconds"] = timed([*build, "--force"], copy, env)
                say("no-op rebuilds and warm builds")
                noop = [
                    timed(regenerate, copy, env) + timed(build, copy, env) for _ in range(repeats)
                ]
                values["noop_seconds"] = statistics.median(noop)
                builds = [timed([*build, "--force"], copy, env) for _ in range(repeats)]
                values["warm_build_seconds"] = statistics.median(builds)
    values["goals"] = {
        "noop_under_15s": values["noop_seconds"] < GOALS["noop_seconds"],
        "packaged_regeneration_under_10min": values["packaged_regeneration_total"]
        < GOALS["packaged_regeneration_seconds"],
    }
    return values


def store_pipeline(store: MetricsStore, values: dict[str, Any], seconds: float) -> None:
    """Write the pipeline timings to the store, with the provenance an experiment gets."""
    from llmnotes.pipeline.regenerate import run_provenance

    provenance = run_provenance(
        assets={},
        settings={"repeats": values["repeats"]},
        seed=0,
        seconds=seconds,
        input_hash=hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16],
        command="python scripts/bench.py pipeline",
    )
    store.put(PIPELINE, "none", Entry(values, provenance))


#: The pipeline's own lines of the summary, after those the speed experiments declare.
PIPELINE_ROWS = (
    SpeedRow("mkdocs build: warm / cold notebook cache (s)", "warm_build_seconds",
             "cold_build_seconds", fmt=".1f"),
    SpeedRow("no-op regenerate + build (s; goal < 15)", "noop_seconds", fmt=".1f"),
    SpeedRow("full offline regeneration, packaged assets (s; goal < 600)",
             "packaged_regeneration_total", fmt=".0f"),
    SpeedRow("full offline regeneration, with ../shared/data (s)",
             "shared_data_regeneration_total", fmt=".0f"),
)  # fmt: skip


def summary_spec() -> list[tuple[str, SpeedRow]]:
    """Every line of the summary: each speed experiment's rows, then the pipeline's."""
    rows = [(exp.name, row) for exp in load_topics() for row in exp.speed]
    return rows + [(PIPELINE, row) for row in PIPELINE_ROWS]


def summary_rows(store: MetricsStore) -> list[tuple[str, str, str, str]]:
    """Every stored speed figure as ``(benchmark, measured, peer, ratio)`` rows, with a header.

    A figure whose benchmark has not run yet reads "not measured".
    """

    def lookup(experiment: str, path: str | None) -> float | None:
        if path is None:
            return None
        try:
            return store.value(experiment, path)
        except MissingMetric:
            return None

    rows = [("benchmark", "measured", "peer", "ratio")]
    for experiment, row in summary_spec():
        measured, peer = lookup(experiment, row.measured), lookup(experiment, row.peer)
        cells = [
            "not measured" if x is None else format(x * row.scale, row.fmt)
            for x in (measured, peer)
        ]
        if row.peer is None:
            cells[1] = ""
        both = measured is not None and peer
        rows.append((row.label, *cells, f"{measured / peer:.3g}×" if row.ratio and both else ""))
    return rows
