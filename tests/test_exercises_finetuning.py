"""The fine-tuning exercises' checks accept the right answers and reject wrong ones."""

import statistics

import pytest
import torch

from llmnotes.exercises import finetuning as ex
from llmnotes.lora import LoRALinear


@pytest.mark.parametrize(
    ("count", "reason"),
    [
        (8 * (384 + 1536), None),
        (384 * 1536, "the layer's own weights"),
        (8 * 384, "A alone; B trains too"),
        (12345, "A is 8 × 384 and B 1536 × 8"),
    ],
)
def test_lora_layer_count_is_rank_times_both_sides(count, reason):
    verdict = ex.check_lora_layer(384, 1536, 8, count)
    assert bool(verdict) is (reason is None)
    assert reason is None or reason in str(verdict)


def test_lora_layer_check_refuses_none_and_bad_sizes_in_one_line():
    assert "replace None" in str(ex.check_lora_layer(384, 1536, 8, None))
    assert "give a whole number from 1 to 384" in str(ex.check_lora_layer(384, 1536, 0, 1))
    assert "1 to 65,536" in str(ex.check_lora_layer(0, 1536, 8, 1))


def test_lora_trainable_counts_adapters_and_head():
    total, head = ex.lora_counts(4)
    assert (total, head) == (6 * 2 * 4 * (384 + 384) + 384 * 2 + 2, 384 * 2 + 2)
    assert ex.check_lora_trainable(4, total)
    assert "the head alone" in str(ex.check_lora_trainable(4, head))
    assert "the adapters alone" in str(ex.check_lora_trainable(4, total - head))
    assert "replace None" in str(ex.check_lora_trainable(4, None))
    assert "out of range" in str(ex.check_lora_trainable(0, 1))


def test_merge_check_accepts_the_reference_and_names_each_mistake():
    assert ex.check_merge_lora(LoRALinear.merged)
    assert "ignores the update" in str(ex.check_merge_lora(lambda layer: layer.base))

    def unscaled(layer):
        merged = layer.merged()
        with torch.no_grad():
            merged.weight.copy_(layer.base.weight + layer.lora_b @ layer.lora_a)
        return merged

    assert "forgets the scale" in str(ex.check_merge_lora(unscaled))
    assert "not an nn.Linear" in str(ex.check_merge_lora(lambda layer: layer))
    assert "replace None" in str(ex.check_merge_lora(None))


def test_merge_check_leaves_the_random_state_alone():
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    ex.check_merge_lora(lambda layer: layer.base)  # draws no random numbers of its own
    assert torch.equal(torch.rand(3), expected)


def test_stop_epoch_is_the_lowest_validation_loss_of_a_tiny_run():
    history = ex.tiny_finetune(3e-3, 3)
    stop = round(min(history, key=lambda row: row["validation_loss"])["epoch"])
    assert ex.check_stop_epoch(3e-3, 3, stop)
    wrong = next(e for e in (1, 2, 3) if e != stop)
    verdict = ex.check_stop_epoch(3e-3, 3, wrong)
    assert not verdict and f"the validation loss is lowest after epoch {stop}" in str(verdict)
    assert "give an epoch from 1 to 3" in str(ex.check_stop_epoch(3e-3, 3, 7))
    assert "replace None" in str(ex.check_stop_epoch(3e-3, 3, None))
    assert "2 to 20" in str(ex.check_stop_epoch(3e-3, 50, 1))
    assert "1e-5 to 0.1" in str(ex.check_stop_epoch(5.0, 3, 1))


def test_cv_folds_hold_every_example_once():
    folds = ex.cv_folds(200)
    assert len(folds) == 5 and sorted(i for fold in folds for i in fold) == list(range(200))


def test_frozen_cv_accepts_the_mean_and_sample_standard_deviation():
    accuracies = ex.frozen_cv_accuracies()
    mean, std = statistics.mean(accuracies), statistics.stdev(accuracies)
    assert ex.check_frozen_cv(round(mean, 3), round(std, 3))
    assert "too high" in str(ex.check_frozen_cv(mean + 0.05, std))
    assert "divides by n - 1" in str(ex.check_frozen_cv(mean, statistics.pstdev(accuracies)))
    assert "replace None" in str(ex.check_frozen_cv(None, None))
