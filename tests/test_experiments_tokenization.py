import itertools

import pytest

from llmnotes.experiments.tokenization import (
    bpe_vocab_sweep,
    week1_word_tokens,
    week1_wordpiece,
    wordpiece_splits,
    wordpiece_throughput,
)
from llmnotes.pipeline.assets import resolve
from llmnotes.pipeline.experiment import Choice


def test_week1_experiments_on_the_stand_in():
    choice = week1_wordpiece.choose(offline=True)
    assert choice.key == "minilm" and choice.preference == 1
    result = week1_wordpiece.run(choice)
    assert result.values["matches"] is True
    assert set(result.figures) == {"granularity"}
    assert week1_word_tokens.run(week1_word_tokens.choose(offline=True)).values["matches"] is True


def stand_in_choice(exp):
    """Run on the packaged stand-ins only: gensim's corpora and MiniLM's tokenizer."""
    assets = {"corpus": resolve("gensim-test-data", offline=True)}
    if "tokenizer" in exp.assets:
        assets["tokenizer"] = resolve("minilm", offline=True)
    return Choice(assets, 2)


def test_bpe_sweep_on_the_gensim_corpus():
    values = bpe_vocab_sweep.run(stand_in_choice(bpe_vocab_sweep)).values
    assert values["corpus"].startswith("gensim")
    assert values["vocab_sizes"][0] == 256
    per_word = values["tokens_per_word"]
    assert all(a > b for a, b in itertools.pairwise(per_word))
    assert values["tokens_per_char"][0] == pytest.approx(1.0, abs=0.01)  # bytes ≈ characters


def test_wordpiece_splits_on_the_gensim_corpus():
    values = wordpiece_splits.run(stand_in_choice(wordpiece_splits)).values
    assert 0 < values["split_fraction"] < values["split_fraction_types"] < 1
    assert sum(values["pieces_histogram"].values()) == pytest.approx(1.0)
    assert values["rank_buckets"][0] == "top 1,000"
    frequent, *_, rare = values["split_fraction_by_rank"]
    assert frequent < rare


def test_throughput_is_measured_on_identical_output():
    exp = wordpiece_throughput.with_settings(lines=50, repeats=1)
    values = exp.run(stand_in_choice(exp)).values
    assert values["lines"] == values["identical_lines"] == 50
    assert values["ours_tokens_per_s"] > 0 and values["batch_speedup"] > 0
