import math

import pytest

from llmnotes.char_gpt import load_char_gpt
from llmnotes.experiments.language_models import (
    CHAR_GPT,
    attention_kernel,
    char_model,
    decoding,
    gpt_vs_rnn,
    kv_cache,
    parity,
    positions,
)
from llmnotes.pipeline.assets import resolve
from llmnotes.pipeline.experiment import Choice

TINY = {"checkpoints": [2, 4], "seq_len": 24, "batch": 4, "held_out_chars": 600}


@pytest.fixture(scope="module")
def packaged_corpus():
    return Choice({"corpus": resolve("gensim-test-data", offline=True)}, 1)


@pytest.fixture(scope="module")
def trained(packaged_corpus, tmp_path_factory):
    folder = tmp_path_factory.mktemp("char-gpt")
    exp = gpt_vs_rnn.with_settings(**TINY, sample_chars=20)
    return exp.run(packaged_corpus, outputs={CHAR_GPT: folder}), folder


def test_the_three_character_models_are_about_the_same_size():
    sizes = {
        kind: sum(p.numel() for p in char_model(kind, 100, 128).parameters())
        for kind in ["gpt", "rnn", "lstm"]
    }
    assert max(sizes.values()) / min(sizes.values()) < 1.3, sizes


def test_the_race_measures_every_model_at_every_checkpoint(trained):
    result, folder = trained
    values = result.values
    for kind in ("gpt", "rnn", "lstm"):
        assert len(values["bits_per_char"][kind]) == len(values["seconds"][kind]) == 2
        assert values["seconds"][kind][0] < values["seconds"][kind][1]
        assert 0 < values["bits_per_char"][kind][-1] < values["uniform_bits"] + 1
        assert values["samples"][kind].startswith("The ") and len(values["samples"][kind]) == 20
    assert values["best"] in ("GPT", "RNN", "LSTM")
    assert values["gpt_training"]["tokens_per_second"] > 0
    model, chars = load_char_gpt(folder)  # the produced asset loads back
    assert len(chars.chars) == values["vocabulary"] and model.config.context == values["context"]
    assert set(result.figures) == {"race"}


def test_positions_compares_four_kinds(packaged_corpus):
    exp = positions.with_settings(steps=3, seq_len=16, batch=4, held_out_chars=600)
    values = exp.run(packaged_corpus).values
    assert set(values["bits_per_char"]) == {"none", "learned", "sinusoidal", "rotary"}
    assert values["best"] in values["bits_per_char"]


def test_parity_is_float64_exact():
    values = parity.run(Choice({}, 0)).values
    assert values["logits_max_diff"] < 1e-12 and values["cached_logits_max_diff"] < 1e-12
    assert max(values["hidden_max_diff"]) < 1e-12 and values["rotary_max_diff"] < 1e-12
    assert values["fused_logits_max_diff"] < 1e-12
    assert values["loss_diff"] < 1e-6  # transformers computes its loss in float32
    assert values["parameters_match"] and values["gpt2_small_parameters"] == 124_439_808


def test_decoding_reads_the_trained_model(trained):
    _, folder = trained
    model = Choice({"model": resolve(CHAR_GPT, path=folder)}, 0)
    values = decoding.with_settings(chars=10).run(model).values
    for probabilities in values["probabilities"].values():
        assert len(probabilities) == len(values["top_chars"]) <= 12
    assert values["probabilities"]["0.5"][0] > values["probabilities"]["2.0"][0]  # sharper
    assert 1 <= values["nucleus_size"] <= values["vocabulary"]
    assert all(s.startswith("The ") and len(s) == 14 for s in values["samples"].values())


def test_kv_cache_gives_the_same_tokens_faster():
    exp = kv_cache.with_settings(lengths=[24, 48], prompt=8, d_model=32, layers=2)
    values = exp.run(Choice({}, 0)).values
    assert values["same_tokens"] is True
    assert set(values["tokens_per_second"]) == {"ours_cache", "ours_no_cache", "library_cache"}
    assert values["memory_bytes"]["gpt2_small_fp32"] == 2 * 12 * 12 * 64 * 1024 * 4
    assert all(math.isfinite(x) for x in values["cache_speedup"])


def test_attention_kernel_times_both_ways():
    exp = attention_kernel.with_settings(steps=2, repeats=1, seq_len=16, batch=2)
    values = exp.run(Choice({}, 0)).values
    assert set(values["step_ms"]) == {"ours", "fused"}
    assert all(ms > 0 for ms in values["step_ms"].values())
    assert values["speedup"] == pytest.approx(
        values["step_ms"]["ours"] / values["step_ms"]["fused"]
    )
