"""Attention and a BERT encoder from scratch, in plain tensor operations.

:func:`scaled_dot_product_attention` and :class:`MultiHeadAttention` match PyTorch's own;
:class:`BertEncoder` loads a BERT-family checkpoint (MiniLM here) from its safetensors file and
reproduces the Hugging Face model's hidden states layer by layer.

Examples:
    >>> import torch
    >>> q = k = v = torch.eye(2).unsqueeze(0)
    >>> out, weights = scaled_dot_product_attention(q, k, v)
    >>> weights.shape
    torch.Size([1, 2, 2])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F


# --8<-- [start:sdpa]
def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``softmax(q kᵀ / √d + mask) v``, and the attention weights.

    Args:
        q: Queries, (…, target length, d).
        k: Keys, (…, source length, d).
        v: Values, (…, source length, d_v).
        mask: Boolean (``True`` = may attend) or additive float mask, broadcastable to the scores.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = (
            scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
        )
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


# --8<-- [end:sdpa]


class MultiHeadAttention(nn.Module):
    """Multi-head self- or cross-attention: project, split into heads, attend, merge, project.

    Args:
        d_model: Width of the inputs and outputs.
        heads: Number of heads; each works on ``d_model / heads`` dimensions.
    """

    def __init__(self, d_model: int, heads: int) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not divisible by {heads} heads")
        self.heads = heads
        self.query, self.key, self.value, self.out = (nn.Linear(d_model, d_model) for _ in range(4))

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, length, d_model) → (batch, heads, length, d_model / heads)."""
        batch, length, width = x.shape
        return x.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

    # --8<-- [start:mha]
    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend from ``query`` (batch, target, d) to ``key``/``value`` (batch, source, d).

        Returns the output (batch, target, d) and the weights of every head
        (batch, heads, target, source).
        """
        q, k, v = (
            self.split(self.query(query)),
            self.split(self.key(key)),
            self.split(self.value(value)),
        )
        context, weights = scaled_dot_product_attention(q, k, v, mask)
        merged = context.transpose(1, 2).reshape(query.shape)
        return self.out(merged), weights

    # --8<-- [end:mha]

    @classmethod
    def from_torch(cls, module: nn.MultiheadAttention) -> MultiHeadAttention:
        """A copy of a ``torch.nn.MultiheadAttention`` (batch-first, with biases)."""
        layer = cls(module.embed_dim, module.num_heads)
        weights = module.in_proj_weight.chunk(3)
        biases = module.in_proj_bias.chunk(3)
        with torch.no_grad():
            for linear, w, b in zip(
                (layer.query, layer.key, layer.value), weights, biases, strict=True
            ):
                linear.weight.copy_(w)
                linear.bias.copy_(b)
            layer.out.weight.copy_(module.out_proj.weight)
            layer.out.bias.copy_(module.out_proj.bias)
        return layer


class EncoderLayer(nn.Module):
    """A BERT encoder layer (post-LayerNorm): attention, add & norm, feed-forward, add & norm."""

    def __init__(self, d_model: int, heads: int, d_ff: int, eps: float = 1e-12) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(d_model, heads)
        self.norm1 = nn.LayerNorm(d_model, eps=eps)
        self.ff_in = nn.Linear(d_model, d_ff)
        self.ff_out = nn.Linear(d_ff, d_model)
        self.norm2 = nn.LayerNorm(d_model, eps=eps)

    # --8<-- [start:encoder_layer]
    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One layer: every token attends to every (unmasked) token, then a per-token MLP."""
        attended, weights = self.attention(x, x, x, mask)
        x = self.norm1(x + attended)  # residual connection, then LayerNorm
        x = self.norm2(x + self.ff_out(F.gelu(self.ff_in(x))))
        return x, weights

    # --8<-- [end:encoder_layer]


@dataclass
class EncoderOutput:
    """Hidden states (embeddings first, then one per layer) and attention weights per layer."""

    hidden_states: list[torch.Tensor]
    attentions: list[torch.Tensor]

    @property
    def last_hidden_state(self) -> torch.Tensor:
        """The output of the last layer."""
        return self.hidden_states[-1]


class BertEncoder(nn.Module):
    """Token, position and segment embeddings, then a stack of :class:`EncoderLayer`."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        d = config["hidden_size"]
        self.word = nn.Embedding(config["vocab_size"], d)
        self.position = nn.Embedding(config["max_position_embeddings"], d)
        self.segment = nn.Embedding(config["type_vocab_size"], d)
        self.norm = nn.LayerNorm(d, eps=config["layer_norm_eps"])
        self.layers = nn.ModuleList(
            EncoderLayer(
                d,
                config["num_attention_heads"],
                config["intermediate_size"],
                config["layer_norm_eps"],
            )
            for _ in range(config["num_hidden_layers"])
        )

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> EncoderOutput:
        """Run the encoder; ``attention_mask`` is 1 for real tokens and 0 for padding."""
        positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = self.norm(
            self.word(input_ids)
            + self.position(positions)
            + self.segment(torch.zeros_like(input_ids))
        )
        mask = None if attention_mask is None else attention_mask.bool()[:, None, None, :]
        hidden, attentions = [x], []
        for layer in self.layers:
            x, weights = layer(x, mask)
            hidden.append(x)
            attentions.append(weights)
        return EncoderOutput(hidden, attentions)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> BertEncoder:
        """Load a BERT-family model folder (``config.json`` + ``model.safetensors``)."""
        import json

        from safetensors.torch import load_file

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text())
        model = cls(config).eval()
        weights = load_file(str(folder / "model.safetensors"))
        prefix = "bert." if any(name.startswith("bert.") for name in weights) else ""
        names = {
            "word.weight": "embeddings.word_embeddings.weight",
            "position.weight": "embeddings.position_embeddings.weight",
            "segment.weight": "embeddings.token_type_embeddings.weight",
            "norm.weight": "embeddings.LayerNorm.weight",
            "norm.bias": "embeddings.LayerNorm.bias",
        }
        parts = {
            "attention.query": "attention.self.query", "attention.key": "attention.self.key",
            "attention.value": "attention.self.value", "attention.out": "attention.output.dense",
            "norm1": "attention.output.LayerNorm", "ff_in": "intermediate.dense",
            "ff_out": "output.dense", "norm2": "output.LayerNorm",
        }  # fmt: skip
        for i in range(config["num_hidden_layers"]):
            for ours, theirs in parts.items():
                for kind in ("weight", "bias"):
                    names[f"layers.{i}.{ours}.{kind}"] = f"encoder.layer.{i}.{theirs}.{kind}"
        model.load_state_dict({ours: weights[prefix + theirs] for ours, theirs in names.items()})
        return model


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors, padding excluded: sentence-transformers' mean pooling."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def sentence_embedding(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """all-MiniLM-L6-v2's sentence embedding: mean pooling, then unit length."""
    return F.normalize(mean_pool(hidden, attention_mask), dim=-1)
