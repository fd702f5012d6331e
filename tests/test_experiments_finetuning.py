import pytest

from llmnotes.experiments.finetuning import (
    distributed_parity,
    lora_vs_full,
    lr_epochs_grid,
    pang_lee_cv,
    pang_lee_data,
    sst2_baselines,
    tweak_costs,
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
    exp = lr_epochs_grid.with_settings(
        train_examples=40, lrs=[1e-4], base_lr=1e-4, epochs=1, max_length=16, short_max_length=4
    )
    grid = exp.run(choice).values
    assert list(grid["histories"]) == ["lr 0.0001", "lr 0.0001, max length 4"]
    assert grid["costliest_tweak"] in grid["tweak_costs_points"]
    assert grid["week1_drop_points"] == pytest.approx(92.4 - 87.7)
    assert 0 < grid["short_tokens_kept"] <= 1


def test_tweak_costs_are_points_lost_against_the_base_runs_best_epoch():
    rows = [{"validation_accuracy": a} for a in (0.5, 0.75)]
    costs = tweak_costs({"lr 1": rows, "lr 2": rows[:1] * 2, "s": rows[::-1]}, "lr 1", "s", 2)
    assert costs == {"lr 2": 25.0, "lr 1, last of 2 epochs": 0.0,
                     "lr 2, last of 2 epochs": 25.0, "s": 0.0}  # fmt: skip


@needs_shared_data
def test_lora_vs_full_tiny():
    exp = lora_vs_full.with_settings(
        train_examples=32, epochs=1, ranks=[2], batch_size=8, max_length=16
    )
    values = exp.run(lora_vs_full.choose(offline=True)).values
    assert list(values["runs"]) == ["full", "lora 2"]
    full, lora = values["runs"]["full"], values["runs"]["lora 2"]
    assert lora["trainable_parameters"] < full["trainable_parameters"] / 10
    assert lora["saved_mib"] < full["saved_mib"] / 10
    assert full["peak_memory_mib"] > 100 and lora["peak_memory_mib"] > 100
    assert values["trainable_share"]["lora 2"] == pytest.approx(
        lora["trainable_parameters"] / full["trainable_parameters"]
    )


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
