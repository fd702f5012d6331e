import pytest

from llmnotes.experiments.performance import (
    SPEED_VARIANTS,
    corpus_scaling,
    finetune_speed,
    fitted_rate,
    flops_per_sample,
    growth_exponent,
    power_law_seconds,
    sequence_scaling,
)
from llmnotes.pipeline.assets import resolve
from llmnotes.pipeline.experiment import Choice

from conftest import needs_shared_data


def test_fits_recover_a_known_rate_and_exponent():
    assert fitted_rate([1, 2, 3], [2.5, 4.5, 6.5]) == pytest.approx(2.0)
    assert growth_exponent([1, 2, 4, 8], [3, 12, 48, 192]) == pytest.approx(2.0)


def test_corpus_scaling_on_the_packaged_corpus():
    data = resolve("gensim-test-data", offline=True)
    exp = corpus_scaling.with_settings(fractions=[0.25, 1.0])
    result = exp.run(Choice({"corpus": data}, 1))
    values = result.values
    assert values["corpus"] == "gensim Lee news + Pang-Lee reviews"
    assert values["words"][0] < values["words"][1]
    assert len(values["seconds"]["ours"]) == len(values["seconds"]["gensim"]) == 2
    assert min(values["seconds"]["ours"]) > 0  # too small a corpus for a meaningful slope
    assert set(result.figures) == {"scaling"}


def test_sequence_scaling_tiny():
    model = resolve("minilm", offline=True)
    exp = sequence_scaling.with_settings(lengths=[8, 16], batch_size=2, repeats=1)
    values = exp.run(Choice({"model": model}, 0)).values
    assert len(values["seconds_per_sample"]) == 2 and min(values["seconds_per_sample"]) > 0
    assert values["sst2_epoch_minutes"][0] == pytest.approx(
        values["seconds_per_sample"][0] * values["sst2_train_sentences"] / 60
    )
    assert values["attention_dropout"] == pytest.approx(0.1)  # MiniLM's config
    assert len(values["seconds_per_sample_no_attention_dropout"]) == 2
    # twice the length: a bit over twice the arithmetic (the attention scores are quadratic)
    assert 2 < values["flops_last_doubling"] < 2.1


def test_flops_per_sample_counts_weights_and_attention():
    from types import SimpleNamespace

    config = SimpleNamespace(hidden_size=4, num_hidden_layers=1, intermediate_size=8)
    weights = 4 * 4 * 4 + 2 * 4 * 8  # q, k, v, output; the MLP's two matrices
    assert flops_per_sample(config, 10) == 6 * weights * 10 + 12 * 10 * 10 * 4


def test_power_law_extrapolation():
    assert power_law_seconds([1, 2, 4], [1, 4, 16], 8) == pytest.approx(64)


@needs_shared_data
def test_finetune_speed_tiny():
    exp = finetune_speed.with_settings(
        examples=48, batch_size=8, max_length=16, compile_examples=0, matmul_size=64
    )
    values = exp.run(finetune_speed.choose(offline=True)).values
    assert set(values["samples_per_second"]) == {*SPEED_VARIANTS, "plain_loop"}
    assert set(values["test_accuracy"]) == set(SPEED_VARIANTS)
    assert all(0 <= a <= 1 for a in values["test_accuracy"].values())
    assert values["precision"]["fp32"] == "fp32"
    assert values["precision"]["default"] in {"bf16", "fp32"}
    assert values["meets_speed_goal"] == (values["default_over_fp32"] >= 2.0)
    # at 16 tokens most sentences are truncated to the same length: little padding either way
    assert 0 <= values["padding_share"]["grouped"] <= values["padding_share"]["shuffled"] < 1
    share = values["share_of_measured_peak"]["fp32"]
    assert share == pytest.approx(
        values["achieved_flops"]["fp32"] / values["measured_peak_flops"]["fp32"]
    )
    assert values["achieved_flops"]["fp32"] == pytest.approx(
        values["samples_per_second"]["fp32"] * 6 * values["non_embedding_parameters"]
        * values["mean_tokens"]
    )  # fmt: skip
    assert 10e6 < values["non_embedding_parameters"] < 12e6  # without the 30,522 × 384 table
