import math

import pytest
import torch

from llmnotes.decoding import (
    SamplingSettings,
    apply_temperature,
    frequency_penalty,
    generate,
    next_token_distributions,
    repetition_penalty,
    top_k_filter,
    top_p_filter,
)
from llmnotes.gpt import GPT, GPTConfig, random_gpt2

VOCAB, CONTEXT = 50, 32


@pytest.fixture
def logits():
    return torch.randn(4, VOCAB, generator=torch.Generator().manual_seed(0)) * 3


@pytest.fixture
def previous():
    return torch.randint(0, VOCAB, (4, 12), generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def models():
    """A random transformers GPT-2 (float32, as generate samples in float32) and our copy."""
    torch.manual_seed(0)
    reference = random_gpt2(
        torch.float32, scale=0.2, n_embd=16, vocab_size=VOCAB, n_positions=CONTEXT
    )
    return reference, GPT.from_hf(reference)


@pytest.mark.parametrize("t", [0.3, 1.0, 1.7])
def test_temperature_matches_transformers(logits, t):
    from transformers.generation.logits_process import TemperatureLogitsWarper

    assert torch.equal(apply_temperature(logits, t), TemperatureLogitsWarper(t)(None, logits))


@pytest.mark.parametrize("k", [1, 5, 49, 50, 80])
def test_top_k_matches_transformers(logits, k):
    from transformers.generation.logits_process import TopKLogitsWarper

    got = top_k_filter(logits, k)
    assert torch.equal(got, TopKLogitsWarper(k)(None, logits))
    assert (torch.isfinite(got).sum(-1) == min(k, VOCAB)).all()


@pytest.mark.parametrize("p", [1e-4, 0.1, 0.5, 0.9, 0.999, 1.0])
def test_top_p_matches_transformers(logits, p):
    from transformers.generation.logits_process import TopPLogitsWarper

    got = top_p_filter(logits, p)
    assert torch.equal(got, TopPLogitsWarper(p, min_tokens_to_keep=1)(None, logits))
    kept = torch.isfinite(got)
    assert (kept.sum(-1) >= 1).all()
    for row in range(len(logits)):  # the smallest set reaching p: without its least likely, short
        probs = torch.softmax(logits[row], -1)[kept[row]].sort().values
        assert probs.sum() >= p - 1e-6
        assert probs[1:].sum() < p + 1e-6


@pytest.mark.parametrize("penalty", [0.5, 1.0, 1.3, 2.0])
def test_repetition_penalty_matches_transformers(logits, previous, penalty):
    from transformers.generation.logits_process import RepetitionPenaltyLogitsProcessor

    expected = RepetitionPenaltyLogitsProcessor(penalty)(previous, logits)
    assert torch.equal(repetition_penalty(logits, previous, penalty), expected)


def test_frequency_penalty_counts_occurrences():
    logits = torch.zeros(1, 4)
    got = frequency_penalty(logits, torch.tensor([[2, 2, 0, 2]]), alpha=0.5)
    assert got.tolist() == [[-0.5, 0.0, -1.5, 0.0]]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"temperature": -1.0}, "temperature must be a finite number > 0 .*got -1.0"),
        ({"temperature": math.nan}, "temperature must be a finite number > 0 .*got nan"),
        ({"top_k": 0}, r"top_k must be an integer >= 1, got 0"),
        ({"top_p": 0.0}, r"top_p must be in \(0, 1\], got 0.0"),
        ({"top_p": 1.5}, r"top_p must be in \(0, 1\], got 1.5"),
        ({"top_p": math.nan}, r"top_p must be in \(0, 1\], got nan"),
        ({"repetition_penalty": 0.0}, "repetition_penalty must be a finite number > 0"),
        ({"max_new_tokens": 0}, "max_new_tokens must be >= 1"),
    ],
)
def test_invalid_settings_raise(settings, message):
    with pytest.raises(ValueError, match=message):
        SamplingSettings(**settings)


def test_invalid_transform_arguments_raise(logits, previous):
    for t in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
            apply_temperature(logits, t)
    with pytest.raises(ValueError, match="top_k must be"):
        top_k_filter(logits, 0)
    for p in (0.0, 1.5):
        with pytest.raises(ValueError, match="top_p must be"):
            top_p_filter(logits, p)
    with pytest.raises(ValueError, match="repetition_penalty must be"):
        repetition_penalty(logits, previous, -2.0)
    assert SamplingSettings(temperature=0).greedy


def test_max_new_tokens_beyond_the_context_raises(models):
    _, ours = models
    prompt = torch.zeros(1, 5, dtype=torch.long)
    with pytest.raises(ValueError, match=r"5 tokens plus max_new_tokens=28 exceeds .* 32 tokens"):
        generate(ours, prompt, SamplingSettings(max_new_tokens=28))
    assert generate(ours, prompt, SamplingSettings(max_new_tokens=27)).shape == (1, 32)


@pytest.fixture
def prompt():
    return torch.randint(0, VOCAB, (2, 5), generator=torch.Generator().manual_seed(2))


@pytest.mark.parametrize("repetition", [1.0, 1.5])
def test_greedy_matches_transformers_generate(models, prompt, repetition):
    reference, ours = models
    expected = reference.generate(
        prompt, attention_mask=torch.ones_like(prompt), do_sample=False, max_new_tokens=12,
        repetition_penalty=repetition,
    )  # fmt: skip
    settings = SamplingSettings(temperature=0, repetition_penalty=repetition, max_new_tokens=12)
    assert torch.equal(generate(ours, prompt, settings), expected)
    assert torch.equal(generate(ours, prompt, settings, use_cache=False), expected)


SAMPLING = [
    {"temperature": 1.0},
    {"temperature": 0.7, "top_k": 5},
    {"temperature": 1.3, "top_p": 0.8},
    {"temperature": 0.9, "top_k": 20, "top_p": 0.9, "repetition_penalty": 1.3},
]


@pytest.mark.parametrize("kwargs", SAMPLING)
def test_sampling_matches_transformers_generate_token_for_token(models, prompt, kwargs):
    reference, ours = models
    settings = SamplingSettings(max_new_tokens=12, **kwargs)
    torch.manual_seed(7)
    expected = reference.generate(
        prompt, attention_mask=torch.ones_like(prompt), do_sample=True, max_new_tokens=12,
        **{"top_k": 0, **kwargs},  # transformers' default top_k is 50; 0 turns it off
    )  # fmt: skip
    torch.manual_seed(7)
    assert torch.equal(generate(ours, prompt, settings), expected)  # both draw on the global RNG


@pytest.mark.parametrize("position", ["learned", "rotary"])
def test_seeded_sampling_is_deterministic_with_or_without_cache(prompt, position):
    torch.manual_seed(3)
    model = GPT(GPTConfig(VOCAB, CONTEXT, d_model=16, heads=2, layers=2, position=position))
    model = model.double().eval()
    settings = SamplingSettings(temperature=1.5, top_p=0.95, max_new_tokens=15)
    runs = [
        generate(model, prompt, settings, torch.Generator().manual_seed(11), use_cache=cache)
        for cache in (True, True, False)
    ]
    assert torch.equal(runs[0], runs[1])
    assert torch.equal(runs[0], runs[2])
    assert not torch.equal(
        runs[0], generate(model, prompt, settings, torch.Generator().manual_seed(12))
    )


def test_next_token_distributions(models):
    _, ours = models
    tables = next_token_distributions(ours, torch.tensor([1, 2, 3]), (0.0, 0.5, 1.0, 2.0))
    assert list(tables) == [0.0, 0.5, 1.0, 2.0]
    for probs in tables.values():
        assert len(probs) == VOCAB
        assert sum(probs) == pytest.approx(1.0)
    assert sorted(tables[0.0])[-1] == 1.0
    assert tables[0.0].index(1.0) == max(range(VOCAB), key=tables[1.0].__getitem__)

    def entropy(probs: list[float]) -> float:
        return -sum(p * math.log(p) for p in probs if p > 0)

    assert entropy(tables[0.5]) < entropy(tables[1.0]) < entropy(tables[2.0])
