import pytest
import torch
from torch.nn import functional as F

from llmnotes.gpt import (
    GPT,
    GPTConfig,
    causal_mask,
    kv_cache_bytes,
    language_model_loss,
    random_gpt2,
)

VOCAB, CONTEXT = 50, 32


@pytest.fixture(scope="module", params=[False, True], ids=["site-attention", "fused-attention"])
def models(request):
    """A random GPT-2 from transformers in float64 (every weight perturbed), and our copy.

    Our copy computes attention with the site's function, then with PyTorch's fused kernel.
    """
    torch.manual_seed(0)
    reference = random_gpt2(
        torch.float64, scale=0.2, n_embd=16, vocab_size=VOCAB, n_positions=CONTEXT
    )
    return reference, GPT.from_hf(reference, fused=request.param)


@pytest.fixture
def ids():
    return torch.randint(0, VOCAB, (2, 12), generator=torch.Generator().manual_seed(1))


def test_logits_loss_and_hidden_states_match_transformers(models, ids):
    reference, ours = models
    with torch.no_grad():
        expected = reference(ids, labels=ids, output_hidden_states=True)
        got = ours(ids, output_hidden_states=True)
    torch.testing.assert_close(got.logits, expected.logits, rtol=0, atol=1e-10)
    # transformers computes the loss in float32, even for a float64 model
    assert expected.loss.dtype == torch.float32
    ours_loss = language_model_loss(got.logits, ids)
    torch.testing.assert_close(ours_loss.float(), expected.loss, rtol=0, atol=1e-6)
    torch.testing.assert_close(
        language_model_loss(got.logits.float(), ids), expected.loss, rtol=0, atol=1e-6
    )
    float64_loss = F.cross_entropy(expected.logits[0, :-1], ids[0, 1:])
    torch.testing.assert_close(
        language_model_loss(got.logits[:1], ids[:1]), float64_loss, rtol=0, atol=1e-12
    )
    with torch.no_grad():
        shifted = ours(ids[:, :-1], targets=ids[:, 1:]).loss  # the caller shifts
    torch.testing.assert_close(shifted, language_model_loss(got.logits, ids), rtol=0, atol=1e-12)

    assert len(got.hidden_states) == len(expected.hidden_states) == 3
    pairs = zip(got.hidden_states[:-1], expected.hidden_states[:-1], strict=True)
    for layer, (a, b) in enumerate(pairs):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12, msg=f"layer {layer}")
    last = ours.ln_f(got.hidden_states[-1])  # transformers' last hidden state is after ln_f
    torch.testing.assert_close(last, expected.hidden_states[-1], rtol=0, atol=1e-12)


def test_kv_cache_matches_transformers(models, ids):
    reference, ours = models
    prompt, more = ids[:, :7], ids[:, 7:]
    with torch.no_grad():
        first = reference(prompt, use_cache=True)
        expected = reference(more, cache=first.cache, use_cache=True)
        got = ours(more, past=ours(prompt).past)
        whole = ours(ids)
    torch.testing.assert_close(got.logits, expected.logits, rtol=0, atol=1e-10)
    torch.testing.assert_close(got.logits, whole.logits[:, 7:], rtol=0, atol=1e-12)
    for (keys, values), layer in zip(got.past, expected.cache.layers, strict=True):
        assert keys.shape == (2, 2, 12, 8)  # (batch, heads, tokens, head_dim)
        torch.testing.assert_close(keys, layer.keys, rtol=0, atol=1e-12)
        torch.testing.assert_close(values, layer.values, rtol=0, atol=1e-12)


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("position", ["learned", "sinusoidal", "rotary", "none"])
def test_cached_and_uncached_logits_agree(position, fused):
    torch.manual_seed(2)
    config = GPTConfig(
        VOCAB, CONTEXT, d_model=16, heads=2, layers=2, position=position, fused=fused
    )
    model = GPT(config)
    model = model.double().eval()
    ids = torch.randint(0, VOCAB, (2, 9))
    with torch.no_grad():
        whole = model(ids).logits
        past = model(ids[:, :5]).past
        steps = []
        for t in range(5, 9):  # one token at a time
            out = model(ids[:, t : t + 1], past=past)
            steps.append(out.logits)
            past = out.past
    torch.testing.assert_close(torch.cat(steps, dim=1), whole[:, 5:], rtol=0, atol=1e-12)


def test_causal_mask_with_a_cache():
    assert causal_mask(2, 3).tolist() == [
        [True, True, True, True, False],
        [True, True, True, True, True],
    ]


def test_context_overflow_raises(models):
    _, ours = models
    with pytest.raises(ValueError, match="exceed the model's context of 32 tokens"):
        ours(torch.zeros(1, CONTEXT + 1, dtype=torch.long))
    with torch.no_grad():
        past = ours(torch.zeros(1, 30, dtype=torch.long)).past
        ours(torch.zeros(1, 2, dtype=torch.long), past=past)  # exactly 32 is fine
        with pytest.raises(ValueError, match=r"33 tokens \(30 cached \+ 3 new\)"):
            ours(torch.zeros(1, 3, dtype=torch.long), past=past)


def test_weight_tying_shares_one_tensor(models):
    reference, ours = models
    assert ours.head.weight is ours.token.weight
    torch.testing.assert_close(ours.token.weight, reference.transformer.wte.weight)
    untied = GPT(GPTConfig(VOCAB, CONTEXT, d_model=16, heads=2, layers=1, tie_weights=False))
    assert untied.head.weight.data_ptr() != untied.token.weight.data_ptr()
    tied = GPT(GPTConfig(VOCAB, CONTEXT, d_model=16, heads=2, layers=1))
    assert untied.num_parameters() == tied.num_parameters() + VOCAB * 16


def test_parameter_count(models):
    reference, ours = models
    assert ours.num_parameters() == reference.num_parameters()
    assert ours.num_parameters(non_embedding=True) == reference.num_parameters(
        exclude_embeddings=True
    )
    with torch.device("meta"):  # shapes only, no memory
        small = GPT(GPTConfig())
    assert small.num_parameters() == 124_439_808  # GPT-2 small, "124M"
    assert small.num_parameters(non_embedding=True) == 85_056_000


def test_kv_cache_bytes():
    assert kv_cache_bytes(12, 12, 64, 1024, 2) == 36 * 2**20  # GPT-2 small, fp16: 36 MiB
    assert kv_cache_bytes(32, 32, 128, 4096, 2) == 2 * 2**30  # Llama 2 7B, 4k tokens: 2 GiB
    assert kv_cache_bytes(2, 2, 8, 12, 8, batch=2) == 2 * 2 * 2 * 8 * 12 * 8 * 2


@pytest.mark.parametrize("position", ["rotary", "sinusoidal", "none", "learned"])
def test_every_position_kind_trains(position):
    torch.manual_seed(3)
    config = GPTConfig(
        VOCAB, 16, d_model=16, heads=2, layers=2, position=position, dropout=0.1, bias=False
    )
    model = GPT(config)
    ids = torch.randint(0, VOCAB, (3, 10))
    out = model(ids)
    loss = language_model_loss(out.logits, ids)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert model.token.weight.grad.abs().sum() > 0


def test_config_is_checked():
    with pytest.raises(ValueError, match="not divisible by 3 heads"):
        GPTConfig(VOCAB, CONTEXT, d_model=16, heads=3, layers=1)
    with pytest.raises(ValueError, match="unknown position 'alibi'"):
        GPTConfig(VOCAB, CONTEXT, d_model=16, heads=2, layers=1, position="alibi")
    assert GPTConfig(d_model=16, heads=2).d_ff == 64


def test_fused_and_site_attention_train_alike():
    """One training step gives the same gradients with either attention, dropout off."""
    grads = []
    for fused in (False, True):
        torch.manual_seed(3)
        model = GPT(GPTConfig(VOCAB, CONTEXT, d_model=16, heads=2, layers=2, fused=fused)).double()
        ids = torch.randint(0, VOCAB, (2, 10), generator=torch.Generator().manual_seed(4))
        language_model_loss(model(ids).logits, ids).backward()
        grads.append([p.grad for p in model.parameters()])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
