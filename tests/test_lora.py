"""LoRA from scratch against Hugging Face peft: same outputs, gradients, parameter count, merge."""

import copy

import pytest
import torch

from llmnotes.lora import (
    BERT_TARGETS,
    LoRAError,
    LoRALinear,
    add_lora,
    merge_lora,
    trainable_parameters,
    trainable_state,
)

RANK, ALPHA = 4, 8


def tiny_bert():
    """A two-layer BERT classifier with random weights, in float64 (no download)."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=60, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=32, num_labels=3,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )  # fmt: skip
    return BertForSequenceClassification(config).double().eval()


@pytest.fixture
def both():
    """Our LoRA and peft's on copies of one model, with the same (non-zero) adapter weights."""
    from peft import LoraConfig, get_peft_model

    base = tiny_bert()
    ours = copy.deepcopy(base)
    names = add_lora(ours, RANK, ALPHA)
    config = LoraConfig(
        r=RANK, lora_alpha=ALPHA, target_modules=list(BERT_TARGETS), lora_dropout=0.0,
        task_type="SEQ_CLS",
    )  # fmt: skip
    theirs = get_peft_model(copy.deepcopy(base), config)
    for name in names:
        peft_layer = theirs.base_model.model.get_submodule(name)
        with torch.no_grad():
            peft_layer.lora_B["default"].weight.normal_()  # zero at the start: give it values
            ours.get_submodule(name).lora_a.copy_(peft_layer.lora_A["default"].weight)
            ours.get_submodule(name).lora_b.copy_(peft_layer.lora_B["default"].weight)
    return ours, theirs, names


def batch():
    torch.manual_seed(1)
    return torch.randint(0, 60, (4, 9)), torch.tensor([0, 1, 2, 1])


def test_outputs_match_peft(both):
    ours, theirs, names = both
    ids, _ = batch()
    assert len(names) == 2 * 2  # query and value in each of two layers
    gap = (ours(input_ids=ids).logits - theirs(input_ids=ids).logits).abs().max()
    assert gap < 1e-12


def test_gradients_and_trainable_parameters_match_peft(both):
    ours, theirs, names = both
    ids, labels = batch()
    ours(input_ids=ids, labels=labels).loss.backward()
    theirs(input_ids=ids, labels=labels).loss.backward()
    assert trainable_parameters(ours) == theirs.get_nb_trainable_parameters()[0]
    for name in names:
        mine, peft_layer = ours.get_submodule(name), theirs.base_model.model.get_submodule(name)
        assert torch.allclose(
            mine.lora_a.grad, peft_layer.lora_A["default"].weight.grad, atol=1e-12
        )
        assert torch.allclose(
            mine.lora_b.grad, peft_layer.lora_B["default"].weight.grad, atol=1e-12
        )
    head = theirs.base_model.model.classifier.modules_to_save["default"]
    assert torch.allclose(ours.classifier.weight.grad, head.weight.grad, atol=1e-12)
    frozen = [n for n, p in ours.named_parameters() if not p.requires_grad]
    assert all(p.grad is None for n, p in ours.named_parameters() if n in frozen)


def test_only_adapters_and_the_head_train(both):
    ours, _, names = both
    per_layer = RANK * (16 + 16)
    head = 16 * 3 + 3
    assert trainable_parameters(ours) == len(names) * per_layer + head
    assert set(trainable_state(ours)) == {
        *(f"{n}.lora_{x}" for n in names for x in "ab"),
        "classifier.weight",
        "classifier.bias",
    }


def test_merging_gives_the_same_outputs_and_peft_s_merged_weights(both):
    ours, theirs, names = both
    ids, _ = batch()
    before = ours(input_ids=ids).logits
    merge_lora(ours)
    assert not [m for m in ours.modules() if isinstance(m, LoRALinear)]
    assert (ours(input_ids=ids).logits - before).abs().max() < 1e-12
    merged = theirs.merge_and_unload()
    for name in names:
        assert torch.allclose(
            ours.get_submodule(name).weight, merged.get_submodule(name).weight, atol=1e-12
        )


def test_a_fresh_adapter_leaves_the_model_unchanged():
    base = tiny_bert()
    adapted = copy.deepcopy(base)
    add_lora(adapted, 2)
    ids, _ = batch()
    assert torch.equal(adapted(input_ids=ids).logits, base(input_ids=ids).logits)


@pytest.mark.parametrize("rank", [0, -1, 17, 2.5])
def test_a_rank_out_of_range_is_one_line_naming_the_range(rank):
    with pytest.raises(LoRAError, match="from 1 to 16"):
        LoRALinear(torch.nn.Linear(16, 32), rank)


def test_targets_that_match_nothing_are_refused():
    with pytest.raises(LoRAError, match="no linear layer is named q_proj"):
        add_lora(tiny_bert(), 2, targets=("q_proj",))
