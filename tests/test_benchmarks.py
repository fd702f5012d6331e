import sys
from pathlib import Path

import pytest

from llmnotes.pipeline import benchmarks
from llmnotes.pipeline.benchmarks import (
    PIPELINE,
    fresh_copy,
    pipeline_timings,
    speed_experiments,
    store_pipeline,
    summary_rows,
    summary_spec,
    timed,
)
from llmnotes.pipeline.experiment import load_topics, topics
from llmnotes.pipeline.metrics import Entry, MetricsStore


def test_speed_experiments_are_those_declaring_summary_rows():
    found = speed_experiments()
    assert found["tokenization"] == ["tokenization.wordpiece_throughput"]
    declared = {exp.name for exp in load_topics() if exp.speed}
    assert {name for names in found.values() for name in names} == declared
    for experiment, row in summary_spec():  # every row names a value its experiment stores
        assert experiment == PIPELINE or experiment in declared, row.label


def test_summary_shows_ratios_and_what_is_not_measured(tmp_path):
    store = MetricsStore(tmp_path / "m.json")
    speeds = {"plain_loop": 50.0, "fp32": 45.0}
    store.put("performance.finetune_speed", "x", Entry({"samples_per_second": speeds}, {}))
    rows = {row[0]: row[1:] for row in summary_rows(store)}
    assert rows["Trainer fp32 / plain loop (samples/s; goal ≥ 0.90×)"] == ("45.0", "50.0", "0.9×")
    assert rows["no-op regenerate + build (s; goal < 15)"] == ("not measured", "", "")
    assert len(rows) == len(summary_spec()) + 1  # unique labels, and the header


def test_fresh_copy_leaves_out_environments_and_caches(tmp_path):
    root = tmp_path / "checkout"
    for folder in (".venv", ".git", ".cache", "docs/generated", "llmnotes"):
        (root / folder).mkdir(parents=True)
        (root / folder / "f").write_text("x")
    copy = fresh_copy(root, tmp_path / "bench")
    assert (copy / "llmnotes" / "f").is_file()
    assert not (copy / ".venv").exists() and not (copy / ".git").exists()
    assert not (copy / ".cache").exists()
    assert (copy / "docs" / "generated" / "f").is_file()  # the committed results stay


def test_timed_reports_the_last_line_of_a_failure(tmp_path):
    assert timed([sys.executable, "-c", "pass"], tmp_path, {}) >= 0
    with pytest.raises(RuntimeError, match="boom"):
        timed([sys.executable, "-c", "import sys; sys.exit('first\\nboom')"], tmp_path, {})


def test_pipeline_timings_measure_every_stage_and_check_the_goals(tmp_path, monkeypatch):
    calls = []

    def fake_timed(command, cwd, env):
        calls.append((command[3], env["LLMNOTES_DATA_DIR"]))
        caches.add(env["LLMNOTES_CACHE_DIR"])
        return 2.0

    caches = set()

    monkeypatch.setattr(benchmarks, "timed", fake_timed)
    monkeypatch.setattr(benchmarks, "fresh_copy", lambda root, into: into)
    values = pipeline_timings(tmp_path, tmp_path / "data", repeats=2, say=lambda _: None)
    assert set(values["packaged_regeneration_seconds"]) == set(topics())
    assert values["packaged_regeneration_total"] == 2.0 * len(topics())
    assert values["shared_data_regeneration_total"] == 2.0 * len(topics())
    assert values["noop_seconds"] == 4.0 and values["warm_build_seconds"] == 2.0
    assert values["goals"] == {"noop_under_15s": True, "packaged_regeneration_under_10min": True}
    assert (
        "regenerate",
        str(tmp_path / "data"),
    ) in calls  # the real data is used for the second run only
    # one empty cache per run, inside the throw-away folder: the user's cache is never touched
    assert len(caches) == 2 and all(Path(c).name == "cache" for c in caches)
    assert all(Path(c).resolve() != Path.home() / ".cache" / "llmnotes" for c in caches)
    store = MetricsStore(tmp_path / "m.json")
    store_pipeline(store, values, 12.5)
    entry = store.get(PIPELINE, "none")
    assert entry.provenance["command"] == "python scripts/bench.py pipeline"
    assert store.value(PIPELINE, "goals.noop_under_15s") is True
