import json
import signal
import subprocess
import sys
import textwrap

import pytest

from llmnotes.charts import scatter_chart
from llmnotes.figures import new_figure
from llmnotes.pipeline.charts import chart_svg
from llmnotes.pipeline.experiment import Context, FigureOutput, Result, experiment
from llmnotes.pipeline.metrics import Entry, MetricsStore
from llmnotes.pipeline.regenerate import figure_path, regenerate, stale_entries, summary_table

CALLS: list[str] = []


@experiment("toy", assets={"vectors": ("glove-wiki-gigaword-50",)}, register=False)
def line_count(ctx: Context) -> Result:
    CALLS.append("line_count")
    lines = ctx.assets["vectors"].path.read_text().splitlines()
    fig, ax = new_figure()
    ax.plot(range(len(lines)))
    return Result({"lines": len(lines)}, {"plot": FigureOutput(fig, "a line")})


@experiment("toy", register=False)
def interactive_scatter(ctx: Context) -> Result:
    points = [
        {"word": "a", "group": "g", "x": 0.5, "y": 1.0, "detail": "first"},
        {"word": "b", "group": "g", "x": 1.0, "y": 0.25, "detail": "second"},
    ]
    chart = scatter_chart(points, ["g"], "two dots", "x", "y")
    return Result({}, {"dots": FigureOutput(None, "two dots", chart)})


@experiment("toy", assets={"tokenizer": ("bert-base-uncased",)}, register=False)
def needs_the_hub(ctx: Context) -> Result:
    CALLS.append("needs_the_hub")
    return Result({})


@experiment("toy", register=False)
def broken(ctx: Context) -> Result:
    raise ValueError("the experiment broke")


@pytest.fixture
def world(tmp_path):
    CALLS.clear()
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("king 1 0\nqueen 0 1\n")
    docs = tmp_path / "docs"
    store = MetricsStore(docs / "generated" / "metrics.json")
    return docs, store, {"glove-wiki-gigaword-50": str(vectors)}, vectors


def run(world, exps, **kwargs):
    docs, store, overrides, _ = world
    return regenerate(
        exps, store, docs, offline=True, overrides=overrides, show_progress=False, **kwargs
    )


def test_runs_then_hits_the_cache_with_no_experiment_work(world):
    docs, store, _, _ = world
    first = run(world, [line_count])
    assert [o.status for o in first] == ["ran"]
    entry = store.get("toy.line_count", "glove-wiki-gigaword-50")
    assert entry.values == {"lines": 2}
    assert (docs / entry.figures["plot"]["path"]).is_file()
    assert entry.figures["plot"]["alt"] == "a line"
    prov = entry.provenance
    assert prov["assets"]["vectors"]["kind"] == "path"
    assert {"settings", "seed", "versions", "duration_s", "date", "input_hash"} <= set(prov)
    assert prov["versions"]["torch"]
    second = run(world, [line_count])
    assert [(o.status, o.reason) for o in second] == [("unchanged", "inputs unchanged")]
    assert CALLS == ["line_count"]


def test_changed_asset_content_reruns(world):
    run(world, [line_count])
    world[3].write_text("king 1 0\nqueen 0 1\nman 1 1\n")
    assert [o.status for o in run(world, [line_count])] == ["ran"]
    assert world[1].value("toy.line_count", "lines") == 3


def test_force_reruns_and_missing_figure_reruns(world):
    docs, store, _, _ = world
    run(world, [line_count])
    assert run(world, [line_count], force=True)[0].status == "ran"
    entry = store.get("toy.line_count", "glove-wiki-gigaword-50")
    (docs / entry.figures["plot"]["path"]).unlink()
    assert run(world, [line_count])[0].status == "ran"


def test_a_chart_is_stored_as_its_spec_beside_the_svg_drawn_from_it(world):
    docs, store, _, _ = world
    run(world, [interactive_scatter])
    figure = store.get("toy.interactive_scatter", "none").figures["dots"]
    spec_file, svg_file = docs / figure["chart"], docs / figure["path"]
    assert spec_file.name == svg_file.name.removesuffix(".svg") + ".vl.json"
    first, svg = spec_file.read_bytes(), svg_file.read_bytes()
    spec = json.loads(first)
    assert spec["data"]["values"][1]["word"] == "b"
    assert svg == chart_svg(spec) and b">b</text>" in svg  # the static figure is the spec's
    run(world, [interactive_scatter], force=True)
    assert (spec_file.read_bytes(), svg_file.read_bytes()) == (first, svg)  # byte-identical
    spec_file.unlink()
    assert run(world, [interactive_scatter])[0].status == "ran"


def test_unresolvable_asset_is_skipped_with_one_line_reason(world, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    [outcome] = run(world, [needs_the_hub])
    assert outcome.status == "skipped"
    assert "bert-base-uncased" in outcome.reason
    assert "\n" not in outcome.reason
    assert CALLS == []


def test_failure_is_reported_and_keeps_the_previous_entry(world):
    _, store, _, _ = world
    store.put("toy.broken", "none", Entry({"old": True}, {"input_hash": "old"}))
    [outcome] = run(world, [broken])
    assert outcome.status == "failed"
    assert outcome.reason == "ValueError: the experiment broke"
    assert MetricsStore(store.path).get("toy.broken", "none").values == {"old": True}


def test_stale_entries_detects_changed_inputs(world):
    docs, store, overrides, vectors = world
    run(world, [line_count])
    assert stale_entries([line_count], store, docs, offline=True, overrides=overrides) == []
    vectors.write_text("changed 1 1\n")
    assert stale_entries([line_count], store, docs, offline=True, overrides=overrides) == [
        "toy.line_count [glove-wiki-gigaword-50]"
    ]


def test_stale_entries_skips_entries_from_another_kind_of_source(world, monkeypatch, tmp_path):
    docs, store, _, _ = world
    run(world, [line_count])
    (tmp_path / "data" / "glove").mkdir(parents=True)
    (tmp_path / "data" / "glove" / "glove.6B.50d.top10k.txt").write_text("other 1 1\n")
    monkeypatch.setenv("LLMNOTES_DATA_DIR", str(tmp_path / "data"))
    assert stale_entries([line_count], store, docs, offline=True) == []


def test_summary_table_lists_every_outcome(world):
    table = summary_table(run(world, [line_count, broken]))
    lines = table.splitlines()
    assert lines[0].split() == ["experiment", "assets", "status", "time", "reason"]
    assert "toy.line_count" in lines[1] and "ran" in lines[1]
    assert "failed" in lines[2] and "the experiment broke" in lines[2]


def test_figure_path_names_experiment_figure_and_assets(tmp_path):
    assert figure_path(tmp_path, "t.e", "plot", "a+b") == (
        tmp_path / "generated" / "figures" / "t.e" / "plot.a+b.svg"
    )


INTERRUPTED_RUN = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from llmnotes.pipeline.experiment import Result, FigureOutput, experiment
    from llmnotes.figures import new_figure
    from llmnotes.pipeline.metrics import MetricsStore
    from llmnotes.pipeline.regenerate import regenerate

    docs = Path(sys.argv[1])

    @experiment("toy", register=False)
    def quick(ctx):
        fig, _ = new_figure()
        return Result({"value": "new"}, {"plot": FigureOutput(fig, "quick")})

    @experiment("toy", register=False)
    def slow(ctx):
        print("slow started", flush=True)
        time.sleep(60)
        return Result({"value": "never"})

    store = MetricsStore(docs / "generated" / "metrics.json")
    regenerate([quick, slow], store, docs, offline=True, force=True, show_progress=False)
    """
)


def test_killed_run_keeps_every_earlier_artefact(tmp_path):
    docs = tmp_path / "docs"
    store = MetricsStore(docs / "generated" / "metrics.json")
    store.put("toy.slow", "none", Entry({"value": "previous"}, {"input_hash": "old"}))
    script = tmp_path / "interrupted_run.py"
    script.write_text(INTERRUPTED_RUN)
    process = subprocess.Popen(
        [sys.executable, str(script), str(docs)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline().strip() == "slow started"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    raw = json.loads(store.path.read_text())
    assert raw["experiments"]["toy.quick"]["none"]["values"] == {"value": "new"}
    assert raw["experiments"]["toy.slow"]["none"]["values"] == {"value": "previous"}
    figure = docs / raw["experiments"]["toy.quick"]["none"]["figures"]["plot"]["path"]
    assert figure.read_bytes().startswith(b"<?xml")
    leftovers = [p.name for p in (docs / "generated").rglob("*.tmp")]
    assert leftovers == []


#: Real experiments whose results must not depend on the run: seeded training, model inference,
#: tokenization and figures. The speed experiments are left out: their values are timings.
DETERMINISTIC = [
    "tokenization.week1_wordpiece",
    "embeddings.contextual_vs_static",
    "rnns.vanishing_gradients",
    "transformers.attention_maps",
]


def test_regenerating_twice_gives_identical_metrics_and_figures(tmp_path):
    from llmnotes.pipeline.experiment import load_topics

    experiments = load_topics(DETERMINISTIC)
    runs = []
    for name in ("first", "second"):
        docs = tmp_path / name
        store = MetricsStore(docs / "generated" / "metrics.json")
        outcomes = regenerate(experiments, store, docs, offline=True, show_progress=False)
        assert [o.status for o in outcomes] == ["ran"] * len(DETERMINISTIC), outcomes
        files = {
            path.relative_to(docs).as_posix(): path.read_bytes()
            for path in (docs / "generated" / "figures").rglob("*")
            if path.is_file()
        }
        values = {exp.name: store.best(exp.name)[1].values for exp in experiments}
        runs.append((values, files))
    (first_values, first_files), (second_values, second_files) = runs
    assert first_values == second_values  # exactly: no float tolerance is needed
    assert sorted(first_files) == sorted(second_files)
    assert any(name.endswith(".json") for name in first_files)  # a chart's spec too
    changed = [name for name in first_files if first_files[name] != second_files[name]]
    assert not changed, f"figures differ between runs: {changed}"


@experiment("toy", assets={"tokenizer": ("bert-base-uncased", "minilm")}, register=False)
def prefers_bert(ctx: Context) -> Result:
    CALLS.append("prefers_bert")
    return Result({"on": ctx.assets["tokenizer"].asset})


def test_a_stand_in_does_not_redo_a_fresh_result_on_the_preferred_asset(world):
    _, store, _, _ = world
    fresh = {"code_hash": prefers_bert.code_hash(), "input_hash": "from-another-machine"}
    store.put("toy.prefers_bert", "bert-base-uncased", Entry({"on": "bert"}, fresh, {}, 0))
    (outcome,) = run(world, [prefers_bert])
    assert (outcome.status, outcome.asset_key) == ("skipped", "minilm")
    assert "fresh result on bert-base-uncased is kept" in outcome.reason
    assert CALLS == [] and store.get("toy.prefers_bert", "minilm") is None
    (outcome,) = run(world, [prefers_bert], all_assets=True)
    assert outcome.status == "ran" and CALLS == ["prefers_bert"]


def test_a_stale_preferred_result_lets_the_stand_in_run(world):
    _, store, _, _ = world
    old = {"code_hash": "older-code", "input_hash": "x"}
    store.put("toy.prefers_bert", "bert-base-uncased", Entry({"on": "bert"}, old, {}, 0))
    assert [o.status for o in run(world, [prefers_bert])] == ["ran"]


@experiment("toy", produces=("minilm-sst2",), register=False)
def trains_a_model(ctx: Context) -> Result:
    CALLS.append("trains_a_model")
    folder = ctx.outputs["minilm-sst2"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text('{"trained": true}')
    return Result({})


@experiment("toy", assets={"classifier": ("minilm-sst2",)}, register=False)
def uses_the_model(ctx: Context) -> Result:
    CALLS.append("uses_the_model")
    return Result({"read": (ctx.assets["classifier"].path / "config.json").read_text()})


def test_producers_run_first_and_their_consumers_follow(world, tmp_path, monkeypatch):
    _, store, _, _ = world
    monkeypatch.setenv("LLMNOTES_CACHE_DIR", str(tmp_path / "cache"))
    first = run(world, [uses_the_model, trains_a_model])
    assert [(o.experiment, o.status) for o in first] == [
        ("toy.trains_a_model", "ran"),
        ("toy.uses_the_model", "ran"),
    ]
    assert (tmp_path / "cache" / "classifiers" / "minilm-sst2" / "config.json").is_file()
    assert [o.status for o in run(world, [uses_the_model, trains_a_model])] == ["unchanged"] * 2
    CALLS.clear()
    rerun = run(world, [trains_a_model, uses_the_model], force=False)
    assert CALLS == []
    store.put("toy.trains_a_model", "none", Entry({}, {"input_hash": "stale"}))  # its code changed
    rerun = run(world, [uses_the_model, trains_a_model])
    assert [o.status for o in rerun] == ["ran", "ran"]
    assert rerun[1].reason == "its input minilm-sst2 was just produced"


def test_a_named_producer_runs_when_its_product_is_missing_here(world, tmp_path, monkeypatch):
    monkeypatch.setenv("LLMNOTES_CACHE_DIR", str(tmp_path / "cache"))
    assert [o.status for o in run(world, [trains_a_model])] == ["ran"]
    assert [o.status for o in run(world, [trains_a_model], produce_missing=True)] == ["unchanged"]
    monkeypatch.setenv("LLMNOTES_CACHE_DIR", str(tmp_path / "another-machine"))
    assert [o.status for o in run(world, [trains_a_model])] == ["unchanged"]  # a bare regenerate
    (outcome,) = run(world, [trains_a_model], produce_missing=True)
    assert (outcome.status, outcome.reason) == ("ran", "minilm-sst2 was not on this machine")
