import pytest

from llmnotes.experiments.finetuning import (
    distributed_parity,
    lr_epochs_grid,
    pang_lee_cv,
    pang_lee_data,
    sst2_baselines,
    trainer_throughput,
)
from llmnotes.pipeline.assets import resolve
from llmnotes.pipeline.experiment import Choice

from conftest import needs_shared_data


def test_pang_lee_data_has_two_balanced_labels():
    data = pang_lee_data(resolve("gensim-test-data", offline=True).path)
    assert data.label_names == ["neg", "pos"]
    assert data.counts() == {"neg": 100, "pos": 100}


def test_cross_validation_tiny():
    data = resolve("gensim-test-data", offline=True)
    model = resolve("minilm", offline=True)
    exp = pang_lee_cv.with_settings(folds=2, epochs=1, max_length=16)
    values = exp.run(Choice({"data": data, "model": model}, 0)).values
    assert len(values["fold_accuracies"]) == 2
    assert 0 <= values["mean_accuracy"] <= 1 and values["std_accuracy"] >= 0


@needs_shared_data
def test_sst2_experiments_tiny():
    choice = sst2_baselines.choose(offline=True)
    exp = lr_epochs_grid.with_settings(train_examples=40, lrs=[1e-4], epochs=1, max_length=16)
    grid = exp.run(choice).values
    assert list(grid["histories"]) == ["lr 0.0001"]
    speed = (
        trainer_throughput.with_settings(examples=32, batch_size=8, max_length=16)
        .run(choice)
        .values
    )
    assert set(speed["samples_per_second"]) == {
        "plain_loop", "trainer", "trainer_pad_to_max_length", "trainer_group_by_length",
    }  # fmt: skip
    assert speed["trainer_over_plain"] > 0
    assert speed["trainer_meets_goal"] == (speed["trainer_over_plain"] >= 0.9)
    assert 20e6 < speed["parameters"] < 25e6  # MiniLM with a 2-way head: 22.7M
    assert 1 < speed["mean_tokens"] <= 16
    rate = speed["samples_per_second"]["trainer"]
    assert 10e6 < speed["non_embedding_parameters"] < 12e6  # without the 30,522 × 384 table
    assert speed["achieved_flops"]["trainer"] == pytest.approx(
        rate * 6 * speed["non_embedding_parameters"] * speed["mean_tokens"]
    )
    if speed["peak_flops"]:
        assert 0 < speed["trainer_share_of_peak"] < 1


@needs_shared_data
def test_sst2_baselines_beat_the_majority_class():
    values = sst2_baselines.run(sst2_baselines.choose(offline=True)).values["test_accuracy"]
    assert values["tfidf_logreg"] > values["majority"] + 0.2
    assert values["frozen_minilm_logreg"] > values["majority"] + 0.2


@needs_shared_data
def test_distributed_parity_tiny():
    exp = distributed_parity.with_settings(train_examples=24, batch_size=8, max_length=16)
    values = exp.run(distributed_parity.choose(offline=True)).values
    assert values["world_size"] == {"1": 1, "2": 2}
    assert 0 <= values["gap"] <= 1 and values["tolerance"] == 0.02
