import pytest

from llmnotes.experiments.embeddings import (
    contextual_vs_static,
    glove_exploration,
    minilm_static,
    stable_hash,
    trained_embeddings,
)
from llmnotes.pipeline.assets import resolve
from llmnotes.pipeline.experiment import Choice

from conftest import needs_shared_data


def test_stable_hash_is_stable():
    assert stable_hash("king") == stable_hash("king") != stable_hash("queen")


def test_trained_embeddings_on_the_gensim_corpus_with_a_tiny_config():
    glove = {**trained_embeddings.settings["glove"], "epochs": 2}
    exp = trained_embeddings.with_settings(epochs=1, glove=glove)
    data = resolve("gensim-test-data", offline=True)
    result = exp.run(Choice({"corpus": data, "benchmarks": data}, 1))
    values = result.values
    assert values["corpus"] == "gensim Lee news + Pang-Lee reviews"
    assert set(values["evaluation"]) == {
        "gensim_skipgram",
        "gensim_cbow",
        "ours_skipgram",
        "ours_glove",
    }
    assert values["gensim_speedup"] > 0
    assert len(values["skipgram_losses"]) == 1 and len(values["glove_losses"]) == 2
    assert set(result.figures) == {"projection"}
    spec = result.figures["projection"].chart.to_dict()
    groups = spec["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert {row["group"] for row in spec["data"]["values"]} <= set(groups)


def test_minilm_static_and_contextual():
    data = resolve("gensim-test-data", offline=True)
    model = resolve("minilm", offline=True)
    values = minilm_static.run(Choice({"model": model, "benchmarks": data}, 0)).values
    assert round(values["king_queen"], 3) == 0.627
    ctx = contextual_vs_static.run(Choice({"model": model}, 0)).values
    assert ctx["money_vs_money"] > ctx["river_vs_money"]


@needs_shared_data
def test_glove_exploration_on_real_glove():
    choice = glove_exploration.choose(offline=True)
    result = glove_exploration.run(choice)
    assert result.values["analogy_king_man_woman"][0].startswith("queen")
    assert result.values["analogy_matches_gensim"] is True
    assert result.values["evaluation"]["ws353_spearman"] == pytest.approx(0.527, abs=5e-4)
    assert set(result.figures) == {"projection", "heatmap"}
    rows = result.figures["projection"].chart.to_dict()["data"]["values"]
    points = {p["word"]: p for p in rows}
    assert points["king"]["group"] == "royalty"
    assert points["king"]["detail"].startswith("prince (0.82), queen (0.78)")
    tooltip = result.figures["projection"].chart.to_dict()["layer"][0]["encoding"]["tooltip"]
    assert {"field": "detail", "title": "nearest", "type": "nominal"} in tooltip
