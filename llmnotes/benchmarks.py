"""Benchmarks: the speed experiments of every topic, the site's own pipeline, one summary table.

``scripts/bench.py`` is the entry point. Each topic's sub-benchmark reruns that topic's speed
experiments (:data:`SPEED_EXPERIMENTS`), which measure a from-scratch version and its library peer
side by side in one run and store both. The ``pipeline`` sub-benchmark times the site's build on a
throw-away copy of the checkout (every experiment rerun with ``--force``, offline, with the
packaged assets only and then with the local data folder; ``mkdocs build`` with cold and warm
notebook caches; the no-op rebuild) and stores the result
as the entry :data:`PIPELINE`. :func:`summary_rows` reads all of it back as one table.
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

from llmnotes.experiments import TOPIC_MODULES
from llmnotes.metrics import Entry, MetricsStore, MissingMetric

#: The store entry the pipeline benchmark writes.
PIPELINE = "performance.pipeline"
#: The experiments each topic's sub-benchmark reruns.
SPEED_EXPERIMENTS: dict[str, list[str]] = {
    "tokenization": ["tokenization.wordpiece_throughput"],
    "embeddings": ["embeddings.trained_embeddings"],
    "rnns": ["rnns.sequential_vs_parallel"],
    "transformers": ["transformers.attention_cost"],
    "finetuning": ["finetuning.trainer_throughput"],
    "performance": ["performance.corpus_scaling", "performance.sequence_scaling"],
}
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
            per_topic = {}
            for topic in TOPIC_MODULES:
                say(f"cold regeneration ({name}): {topic}")
                per_topic[topic] = timed([*regenerate, "--force", topic], copy, env)
            values[f"{name}_regeneration_seconds"] = per_topic
            values[f"{name}_regeneration_total"] = sum(per_topic.values())
            if name == "packaged":
                say("mkdocs build, cold notebook cache")
                values["cold_build_seconds"] = timed(build, copy, env)
                say("no-op rebuilds and warm builds")
                noop = [
                    timed(regenerate, copy, env) + timed(build, copy, env) for _ in range(repeats)
                ]
                values["noop_seconds"] = statistics.median(noop)
                builds = [timed(build, copy, env) for _ in range(repeats)]
                values["warm_build_seconds"] = statistics.median(builds)
    values["goals"] = {
        "noop_under_15s": values["noop_seconds"] < GOALS["noop_seconds"],
        "packaged_regeneration_under_10min": values["packaged_regeneration_total"]
        < GOALS["packaged_regeneration_seconds"],
    }
    return values


def store_pipeline(store: MetricsStore, values: dict[str, Any], seconds: float) -> None:
    """Write the pipeline timings to the store, with the provenance an experiment gets."""
    from llmnotes.regenerate import run_provenance

    provenance = run_provenance(
        assets={},
        settings={"repeats": values["repeats"]},
        seed=0,
        seconds=seconds,
        input_hash=hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16],
        command="python scripts/bench.py pipeline",
    )
    store.put(PIPELINE, "none", Entry(values, provenance))


#: One summary row: label, the measured value, its peer (or ``None``), a scale applied to both,
#: their format, and whether to show measured / peer.
Row = tuple[str, tuple[str, str], tuple[str, str] | None, float, str, bool]
_WP, _EMB = "tokenization.wordpiece_throughput", "embeddings.trained_embeddings"
_ATT, _FT = "transformers.attention_cost", "finetuning.trainer_throughput"
_CORPUS, _SEQ = "performance.corpus_scaling", "performance.sequence_scaling"
SUMMARY: list[Row] = [
    ("WordPiece: ours / Rust tokenizer (tokens/s)",
     (_WP, "ours_tokens_per_s"), (_WP, "fast_single_tokens_per_s"), 1, ",.0f", True),
    ("skip-gram: ours / gensim (words/s)",
     (_EMB, "words_per_second.ours_skipgram"), (_EMB, "words_per_second.gensim_skipgram"), 1,
     ",.0f", True),
    ("skip-gram WordSim-353 Spearman: ours / gensim",
     (_EMB, "evaluation.ours_skipgram.ws353_spearman"),
     (_EMB, "evaluation.gensim_skipgram.ws353_spearman"), 1, ".3f", False),
    ("attention, longest length: ours / SDPA (ms)",
     (_ATT, "ours_seconds.-1"), (_ATT, "fused_seconds.-1"), 1000, ".2f", True),
    ("Trainer / plain loop (samples/s; goal ≥ 0.90×)",
     (_FT, "samples_per_second.trainer"), (_FT, "samples_per_second.plain_loop"), 1, ".1f", True),
    ("Trainer arithmetic / CPU peak (GFLOP/s)",
     (_FT, "achieved_flops.trainer"), (_FT, "peak_flops"), 1e-9, ".1f", True),
    ("mkdocs build: warm / cold notebook cache (s)",
     (PIPELINE, "warm_build_seconds"), (PIPELINE, "cold_build_seconds"), 1, ".1f", True),
    ("no-op regenerate + build (s; goal < 15)", (PIPELINE, "noop_seconds"), None, 1, ".1f", False),
    ("full offline regeneration, packaged assets (s; goal < 600)",
     (PIPELINE, "packaged_regeneration_total"), None, 1, ".0f", False),
    ("full offline regeneration, with ../shared/data (s)",
     (PIPELINE, "shared_data_regeneration_total"), None, 1, ".0f", False),
    ("skip-gram cost: ours / gensim (s per million words)",
     (_CORPUS, "seconds_per_million_words.ours"), (_CORPUS, "seconds_per_million_words.gensim"),
     1, ".1f", True),
    ("fine-tuning at 64 / 256 tokens (ms per sample)",
     (_SEQ, "seconds_per_sample.1"), (_SEQ, "seconds_per_sample.3"), 1000, ".1f", True),
]  # fmt: skip


def summary_rows(store: MetricsStore) -> list[tuple[str, str, str, str]]:
    """Every stored speed figure as ``(benchmark, measured, peer, ratio)`` rows, with a header.

    A figure whose benchmark has not run yet reads "not measured".
    """

    def lookup(where: tuple[str, str] | None) -> float | None:
        if where is None:
            return None
        try:
            return store.value(*where)
        except MissingMetric:
            return None

    rows = [("benchmark", "measured", "peer", "ratio")]
    for label, measured_at, peer_at, scale, spec, show_ratio in SUMMARY:
        measured, peer = lookup(measured_at), lookup(peer_at)
        cells = ["not measured" if x is None else format(x * scale, spec) for x in (measured, peer)]
        if peer_at is None:
            cells[1] = ""
        both = measured is not None and peer
        rows.append((label, *cells, f"{measured / peer:.3g}×" if show_ratio and both else ""))
    return rows
