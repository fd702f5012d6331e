import math

import pytest
import torch

from llmnotes.positions import (
    LearnedPositions,
    NoPositions,
    Rotary,
    SinusoidalPositions,
    apply_rotary,
    position_module,
    rotary_frequencies,
    rotate_half,
    sinusoidal_table,
)


def test_sinusoidal_table_matches_the_formula():
    length, dim = 12, 8
    table = sinusoidal_table(length, dim, dtype=torch.float64)
    assert table.shape == (length, dim)
    for pos in range(length):
        for i in range(dim // 2):
            angle = pos / 10000 ** (2 * i / dim)
            assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-15)
            assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-15)
    assert sinusoidal_table(4, 6).dtype == torch.float32
    with pytest.raises(ValueError, match="even width"):
        sinusoidal_table(4, 5)


def test_additive_positions_use_the_offset():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8)
    sinusoidal = SinusoidalPositions(16, 8)
    scaled = x * 8**0.5  # Vaswani et al.: embeddings times √d_model, then the sinusoids
    torch.testing.assert_close(sinusoidal(x, offset=5), scaled + sinusoidal_table(16, 8)[5:8])
    learned = LearnedPositions(16, 8)
    torch.testing.assert_close(learned(x, offset=2), x + learned.table.weight[2:5])
    assert NoPositions()(x, offset=4) is x
    assert not list(sinusoidal.parameters())  # fixed, not trained
    assert "table" not in sinusoidal.state_dict()


def test_position_module_by_name():
    assert isinstance(position_module("learned", 8, 4), LearnedPositions)
    assert isinstance(position_module("sinusoidal", 8, 4), SinusoidalPositions)
    assert isinstance(position_module("none", 8, 4), NoPositions)
    assert isinstance(position_module("rotary", 8, 4), NoPositions)  # rotary acts in attention
    with pytest.raises(ValueError, match="unknown position kind 'alibi'"):
        position_module("alibi", 8, 4)


@pytest.fixture(scope="module")
def llama_rope():
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    config = LlamaConfig(
        hidden_size=32,
        num_attention_heads=2,
        max_position_embeddings=64,
        rope_parameters={"rope_type": "default", "rope_theta": 500000.0},
    )
    return LlamaRotaryEmbedding(config)


def test_rotary_matches_llama(llama_rope):
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb
    from transformers.models.llama.modeling_llama import rotate_half as llama_rotate_half

    torch.manual_seed(1)
    q, k = (torch.randn(2, 2, 10, 16, dtype=torch.float64) for _ in range(2))
    positions = torch.arange(5, 15)[None].expand(2, -1)  # (batch, tokens), an offset of 5
    cos_ref, sin_ref = llama_rope(q, positions)  # (batch, tokens, head_dim)
    q_ref, k_ref = apply_rotary_pos_emb(q, k, cos_ref, sin_ref)

    cos, sin = rotary_frequencies(16, 64, base=500000.0)
    assert (cos[5:15].double() - cos_ref[0]).abs().max() == 0  # the same float32 tables
    assert (sin[5:15].double() - sin_ref[0]).abs().max() == 0
    for where in (5, positions, torch.arange(5, 15)):
        torch.testing.assert_close(apply_rotary(q, cos, sin, where), q_ref, rtol=0, atol=1e-12)
        torch.testing.assert_close(apply_rotary(k, cos, sin, where), k_ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(rotate_half(q), llama_rotate_half(q), rtol=0, atol=0)

    # computed in float64 the angles are more precise than Llama's float32 ones
    cos64, sin64 = rotary_frequencies(16, 64, base=500000.0, dtype=torch.float64)
    torch.testing.assert_close(cos64[5:15], cos_ref[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(sin64[5:15], sin_ref[0], rtol=0, atol=1e-5)
    assert cos64[7, 3].item() == pytest.approx(math.cos(7 * 500000.0 ** (-6 / 16)), abs=1e-15)


def test_rotation_preserves_norms():
    torch.manual_seed(2)
    x = torch.randn(1, 3, 20, 8, dtype=torch.float64)
    cos, sin = rotary_frequencies(8, 20, dtype=torch.float64)
    torch.testing.assert_close(apply_rotary(x, cos, sin).norm(dim=-1), x.norm(dim=-1))


def test_rotary_scores_depend_only_on_relative_position():
    torch.manual_seed(3)
    q, k = torch.randn(8, dtype=torch.float64), torch.randn(8, dtype=torch.float64)
    cos, sin = rotary_frequencies(8, 64, dtype=torch.float64)

    def score(m: int, n: int) -> float:
        rotated_q = apply_rotary(q[None, None, None], cos, sin, m)
        rotated_k = apply_rotary(k[None, None, None], cos, sin, n)
        return (rotated_q * rotated_k).sum().item()

    for distance in (0, 1, 5):
        scores = [score(n + distance, n) for n in (0, 3, 17, 40)]
        assert max(scores) - min(scores) < 1e-12
    assert abs(score(4, 0) - score(0, 4)) > 1e-3  # the direction matters


def test_cached_tokens_get_their_own_angles():
    torch.manual_seed(4)
    x = torch.randn(2, 2, 9, 8, dtype=torch.float64)
    cos, sin = rotary_frequencies(8, 16, dtype=torch.float64)
    whole = apply_rotary(x, cos, sin)
    torch.testing.assert_close(apply_rotary(x[:, :, 6:], cos, sin, 6), whole[:, :, 6:])
    torch.testing.assert_close(apply_rotary(x[:, :, 8:], cos, sin, 8), whole[:, :, 8:])
    rotary = Rotary(8, 16)
    q, k = rotary(x[:, :, 6:].float(), x[:, :, 6:].float(), offset=6)
    torch.testing.assert_close(q, whole[:, :, 6:].float())
    torch.testing.assert_close(k, whole[:, :, 6:].float())
    with pytest.raises(ValueError, match="even head width"):
        rotary_frequencies(7, 4)
