import pytest
import torch

from llmnotes.experiments.rnns import (
    BASELINE_MSE,
    MODEL_SIZES,
    adding_batch,
    adding_problem,
    char_language_model,
    make_model,
    parameter_count,
    sequential_vs_parallel,
    train_adding,
    vanishing_gradients,
)
from llmnotes.pipeline.assets import resolve
from llmnotes.pipeline.experiment import Choice


def test_adding_batch_marks_one_number_in_each_half():
    x, y = adding_batch(256, 20, torch.Generator().manual_seed(0))
    assert x.shape == (256, 20, 2)
    markers = x[..., 1]
    assert (markers.sum(1) == 2).all()
    assert (markers[:, :10].sum(1) == 1).all()
    torch.testing.assert_close(y, (x[..., 0] * markers).sum(1))
    assert ((y - 1) ** 2).mean().item() == pytest.approx(BASELINE_MSE, abs=0.03)


def test_models_have_about_the_same_size():
    counts = [parameter_count(make_model(kind)) for kind in MODEL_SIZES]
    assert max(counts) / min(counts) < 1.15


def test_training_beats_the_baseline_on_short_sequences():
    torch.manual_seed(0)
    assert train_adding(make_model("lstm"), length=10, steps=400, seed=0) < BASELINE_MSE / 2


def test_adding_problem_experiment_tiny():
    values = adding_problem.with_settings(lengths=[5], steps=20).run(Choice({}, 0)).values
    assert set(values["mse"]) == {"rnn", "lstm", "transformer"}
    assert all(len(v) == 1 for v in values["mse"].values())


def test_vanishing_gradients_tiny():
    result = vanishing_gradients.with_settings(length=30, steps=10).run(Choice({}, 0))
    ratios = result.values["first_over_last"]
    assert {"rnn_initialised", "rnn_trained", "lstm_initialised", "lstm_trained"} <= set(ratios)
    assert all(r > 0 for r in ratios.values())  # float64: nothing underflows to zero
    assert ratios["rnn_initialised"] < 1  # gradients shrink going back in time
    assert set(result.figures) == {"gradients"}


def test_sequential_vs_parallel_tiny():
    values = sequential_vs_parallel.with_settings(lengths=[4, 8], batch=2).run(Choice({}, 0)).values
    assert len(values["lstm_over_attention"]) == 2
    assert all(t > 0 for t in values["seconds"]["lstm"])
    assert set(values["seconds"]) == {"lstm", "ours_lstm", "attention"}
    assert len(values["ours_over_torch"]) == 2 and values["attention_faster_up_to"] in (0, 4, 8)


def test_char_language_model_on_the_gensim_corpus_tiny():
    data = resolve("gensim-test-data", offline=True)
    exp = char_language_model.with_settings(steps=100, held_out_chars=2000, sample_chars=20)
    values = exp.run(Choice({"corpus": data}, 1)).values
    assert values["corpus"].startswith("gensim")
    assert set(values["bits_per_char"]) == {"rnn", "lstm"}
    assert all(0 < b < values["uniform_bits"] for b in values["bits_per_char"].values())
    assert all(s.startswith("The ") and len(s) == 24 for s in values["samples"].values())
