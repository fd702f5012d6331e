import pytest
import torch
from torch.nn import functional as F

from llmnotes.attention import (
    BertEncoder,
    MultiHeadAttention,
    scaled_dot_product_attention,
    sentence_embedding,
)
from llmnotes.pipeline.assets import resolve

SENTENCES = [
    "Transformers power modern LLMs",
    "The animal didn't cross the street because it was tired.",
]


@pytest.mark.parametrize("shape", [(2, 5, 8), (1, 3, 7, 16)])
def test_sdpa_matches_torch(shape):
    torch.manual_seed(0)
    q, k, v = (torch.randn(*shape, dtype=torch.float64) for _ in range(3))
    ours, weights = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v))
    torch.testing.assert_close(weights.sum(-1), torch.ones(shape[:-1], dtype=torch.float64))


def test_sdpa_masks_match_torch():
    torch.manual_seed(1)
    q, k, v = (torch.randn(2, 4, 6, 8) for _ in range(3))
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    ours, weights = scaled_dot_product_attention(q, k, v, causal)
    torch.testing.assert_close(
        ours, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-6, rtol=1e-5
    )
    assert (weights.triu(1) == 0).all()
    additive = torch.randn(6, 6)
    torch.testing.assert_close(
        scaled_dot_product_attention(q, k, v, additive)[0],
        F.scaled_dot_product_attention(q, k, v, attn_mask=additive), atol=1e-6, rtol=1e-5,
    )  # fmt: skip


def test_multi_head_attention_matches_torch():
    torch.manual_seed(2)
    reference = torch.nn.MultiheadAttention(16, 4, batch_first=True).double()
    ours = MultiHeadAttention.from_torch(reference).double()
    x, memory = (
        torch.randn(3, 5, 16, dtype=torch.float64),
        torch.randn(3, 7, 16, dtype=torch.float64),
    )
    out_ref, w_ref = reference(x, memory, memory, average_attn_weights=False)
    out, w = ours(x, memory, memory)
    torch.testing.assert_close(out, out_ref)
    torch.testing.assert_close(w, w_ref)
    with pytest.raises(ValueError, match="not divisible"):
        MultiHeadAttention(10, 3)


@pytest.fixture(scope="module")
def minilm():
    from transformers import AutoModel, AutoTokenizer

    path = resolve("minilm", offline=True).path
    tokenizer = AutoTokenizer.from_pretrained(path)
    reference = AutoModel.from_pretrained(path, attn_implementation="eager").eval()
    return path, tokenizer, reference, BertEncoder.from_pretrained(path)


def test_encoder_reproduces_minilm_layer_by_layer(minilm):
    _, tokenizer, reference, ours = minilm
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = reference(**batch, output_hidden_states=True, output_attentions=True)
        got = ours(batch["input_ids"], batch["attention_mask"])
    assert len(got.hidden_states) == len(expected.hidden_states) == 7
    real = batch["attention_mask"].bool()
    for layer, (a, b) in enumerate(zip(got.hidden_states, expected.hidden_states, strict=True)):
        torch.testing.assert_close(a[real], b[real], atol=1e-4, rtol=1e-4, msg=f"layer {layer}")
    for a, b in zip(got.attentions, expected.attentions, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_sentence_embedding_matches_sentence_transformers(minilm):
    from sentence_transformers import SentenceTransformer

    path, tokenizer, _, ours = minilm
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = ours(batch["input_ids"], batch["attention_mask"]).last_hidden_state
        got = sentence_embedding(hidden, batch["attention_mask"])
    expected = torch.from_numpy(SentenceTransformer(str(path), device="cpu").encode(SENTENCES))
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
