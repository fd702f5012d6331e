"""The transformers exercises' checks accept the right answers and reject wrong ones."""

import math

import pytest
import torch

from llmnotes.attention import scaled_dot_product_attention
from llmnotes.exercises import transformers as ex
from llmnotes.gpt import causal_mask

WIDTH, HEADS = 384, 12  # MiniLM's hidden_size and num_attention_heads
SENTENCE = "The trophy didn't fit in the suitcase because it was too big."


def test_attention_parameters_count_four_projections_with_biases():
    assert ex.check_attention_parameters(4 * (WIDTH * WIDTH + WIDTH))
    no_bias = ex.check_attention_parameters(4 * WIDTH * WIDTH)
    assert not no_bias and "each linear layer has a bias too" in str(no_bias)
    per_head = ex.check_attention_parameters(4 * (WIDTH * WIDTH + WIDTH) * HEADS)
    assert not per_head and "do not multiply the weights" in str(per_head)
    assert "is a number" in str(ex.check_attention_parameters("many"))
    assert not ex.check_attention_parameters(None)


def test_weights_megabytes_cover_every_layer_and_head():
    expected = 6 * HEADS * 64 * 64 * 4 / 2**20
    assert ex.check_weights_megabytes(64, expected)
    one_layer = ex.check_weights_megabytes(64, expected / 6)
    assert not one_layer and "that is one layer" in str(one_layer)
    assert "MiniLM reads 1 to 512 tokens" in str(ex.check_weights_megabytes(513, 1.0))
    assert not ex.check_weights_megabytes(64, None)


def test_attention_check_accepts_the_site_s_and_names_the_mistake():
    assert ex.check_attention(scaled_dot_product_attention)

    def unscaled(q, k, v, mask=None):
        return torch.softmax(q @ k.transpose(-2, -1), dim=-1) @ v

    def no_mask(q, k, v, mask=None):
        return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1) @ v

    assert "divide the scores by √d_k" in str(ex.check_attention(unscaled))
    verdict = ex.check_attention(no_mask)
    assert not verdict and "case 3 (padding)" in str(verdict) and "-inf" in str(verdict)

    def inverted(q, k, v, mask=None):
        return scaled_dot_product_attention(q, k, v, None if mask is None else ~mask)

    assert "your mask is inverted" in str(ex.check_attention(inverted))
    assert not ex.check_attention(None)


def test_causal_mask_check_finds_the_first_wrong_entry():
    assert ex.check_causal_mask(lambda length: causal_mask(length, 0))
    future = ex.check_causal_mask(lambda length: causal_mask(length, 0).T)
    assert not future and "lets token 0 see token 1" in str(future)
    strict = ex.check_causal_mask(lambda length: causal_mask(length, 0).tril(-1))
    assert not strict and "from seeing itself" in str(strict)
    floats = ex.check_causal_mask(lambda length: torch.ones(length, length).tril())
    assert "return a tensor of booleans" in str(floats)
    assert not ex.check_causal_mask(None)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((0, 0), "another head puts"),
        ((6, 0), "layers run from 0 to 5"),
        ("3, 1", "give a (layer, head) pair of integers"),
        (None, "replace None with your answer"),
    ],
)
def test_strongest_head_rejects_a_weaker_or_impossible_head(answer, reason):
    verdict = ex.check_strongest_head(SENTENCE, "it", "trophy", answer)
    assert not verdict and reason in str(verdict)


def test_strongest_head_is_the_argmax_over_layers_and_heads():
    tokens, weights = ex.minilm_attention(SENTENCE)
    scores = weights[:, :, tokens.index("it"), tokens.index("trophy")]
    best = divmod(int(scores.argmax()), scores.shape[1])
    assert ex.check_strongest_head(SENTENCE, "it", "trophy", best)
    assert ex.check_strongest_head(SENTENCE, "it", "trophy", list(best))  # any pair of ints


def test_strongest_head_names_a_word_that_is_not_a_token():
    verdict = ex.check_strongest_head(SENTENCE, "it", "trophies", (3, 1))
    assert not verdict and "'trophies' is not one of the sentence's tokens" in str(verdict)
