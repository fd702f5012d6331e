"""A decoder-only transformer (the GPT-2 architecture) in one readable file.

Tokens are embedded, get position information, and flow through a stack of pre-LayerNorm
blocks; each block lets every token look back at the tokens before it (causal self-attention) and
then transforms each token on its own (an MLP). A final LayerNorm and a linear layer tied to the
token embedding give, at every position, the logits of the *next* token.

:meth:`GPT.from_hf` loads the weights of a transformers ``GPT2LMHeadModel`` and reproduces its
logits, loss, hidden states and KV cache.

Examples:
    >>> import torch
    >>> model = GPT(GPTConfig(vocab_size=10, context=8, d_model=16, heads=2, layers=1))
    >>> out = model(torch.tensor([[1, 2, 3]]))
    >>> out.logits.shape  # (batch, tokens, vocab): a next-token guess at every position
    torch.Size([1, 3, 10])
    >>> out.past[0][0].shape  # layer 0's keys: (batch, heads, tokens, head_dim)
    torch.Size([1, 2, 3, 8])
    >>> kv_cache_bytes(layers=12, heads=12, head_dim=64, tokens=1024, bytes_per_value=2)
    37748736
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn import functional as F

from llmnotes.attention import scaled_dot_product_attention
from llmnotes.positions import POSITION_KINDS, Rotary, position_module

if TYPE_CHECKING:
    from transformers import GPT2LMHeadModel

KVCache = list[tuple[torch.Tensor, torch.Tensor]]
"""One ``(keys, values)`` pair per layer, each (batch, heads, tokens so far, head_dim)."""


@dataclass
class GPTConfig:
    """Sizes and choices of a :class:`GPT`; the defaults are GPT-2 small (124M parameters).

    Attributes:
        vocab_size: Number of token ids.
        context: Longest sequence the model reads, prompt and cache included (``n_positions``).
        d_model: Width of the residual stream (``n_embd``).
        heads: Attention heads per layer; each has ``d_model / heads`` dimensions.
        layers: Number of blocks.
        d_ff: Width of the MLP's hidden layer; ``4 * d_model`` when left as ``None``.
        dropout: Dropout on embeddings, attention weights and each residual branch.
        layer_norm_eps: The epsilon of every LayerNorm.
        position: ``"learned"`` (GPT-2), ``"sinusoidal"``, ``"rotary"`` or ``"none"``.
        tie_weights: Whether the output layer shares the token embedding matrix.
        bias: Whether linear layers and LayerNorms have biases.
        fused: Whether attention runs PyTorch's fused ``F.scaled_dot_product_attention`` (the
            same formula, faster, no weight matrix kept) or the site's
            :func:`~llmnotes.attention.scaled_dot_product_attention`, which returns the weights.
    """

    vocab_size: int = 50257
    context: int = 1024
    d_model: int = 768
    heads: int = 12
    layers: int = 12
    d_ff: int | None = None
    dropout: float = 0.0
    layer_norm_eps: float = 1e-5
    position: str = "learned"
    tie_weights: bool = True
    bias: bool = True
    fused: bool = True

    def __post_init__(self) -> None:
        if self.d_model % self.heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by {self.heads} heads")
        if self.position not in POSITION_KINDS:
            raise ValueError(f"unknown position {self.position!r}; choose one of {POSITION_KINDS}")
        if self.d_ff is None:
            self.d_ff = 4 * self.d_model

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.d_model // self.heads


def kv_cache_bytes(
    layers: int, heads: int, head_dim: int, tokens: int, bytes_per_value: int, batch: int = 1
) -> int:
    """Memory of a KV cache: a key and a value vector per layer, head and token."""
    return 2 * layers * heads * head_dim * tokens * bytes_per_value * batch


def causal_mask(tokens: int, cached: int, device: torch.device | None = None) -> torch.Tensor:
    """(tokens, cached + tokens) booleans: new token ``i``, at ``cached + i``, sees keys ≤ it."""
    return torch.ones(tokens, cached + tokens, dtype=torch.bool, device=device).tril(cached)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which a token sees only itself and earlier tokens."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.fused = config.fused
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=config.bias)  # c_attn
        self.out = nn.Linear(config.d_model, config.d_model, bias=config.bias)  # c_proj
        self.dropout = nn.Dropout(config.dropout)
        self.rotary = (
            Rotary(config.head_dim, config.context) if config.position == "rotary" else None
        )

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, tokens, d_model) → (batch, heads, tokens, head_dim)."""
        batch, tokens, width = x.shape
        return x.view(batch, tokens, self.heads, width // self.heads).transpose(1, 2)

    # --8<-- [start:causal_attention]
    def forward(
        self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Attend from the new tokens ``x`` (batch, tokens, d_model) to the cache and themselves.

        Returns the output (batch, tokens, d_model) and the keys and values of all tokens so far,
        ``past`` followed by the new ones: the cache for the next call.
        """
        batch, tokens, width = x.shape
        q, k, v = (self.split(t) for t in self.qkv(x).split(width, dim=-1))  # (B, H, T, hd)
        cached = 0 if past is None else past[0].shape[2]
        if self.rotary is not None:
            q, k = self.rotary(q, k, offset=cached)  # rotate by positions cached … cached + T - 1
        # --8<-- [start:cache_update]
        if past is not None:
            k = torch.cat((past[0], k), dim=2)  # (B, H, cached + T, hd)
            v = torch.cat((past[1], v), dim=2)
        # --8<-- [end:cache_update]
        mask = causal_mask(tokens, cached, x.device)  # (T, cached + T), True = may attend
        drop = self.dropout.p if self.training else 0.0  # GPT-2 also drops attention weights
        if self.fused:  # PyTorch's kernel for the same formula
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
        else:
            context, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, H, T, hd)
            if drop > 0:
                context = self.dropout(weights) @ v
        merged = context.transpose(1, 2).reshape(batch, tokens, width)  # heads side by side
        return self.dropout(self.out(merged)), (k, v)

    # --8<-- [end:causal_attention]


class MLP(nn.Module):
    """Per-token feed-forward layer: widen to ``d_ff``, GELU (tanh approximation), narrow back."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.up = nn.Linear(config.d_model, config.d_ff, bias=config.bias)  # c_fc
        self.down = nn.Linear(config.d_ff, config.d_model, bias=config.bias)  # c_proj
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, tokens, d_model) → (batch, tokens, d_model)."""
        return self.dropout(self.down(F.gelu(self.up(x), approximate="tanh")))  # "gelu_new"


class Block(nn.Module):
    """A pre-LayerNorm transformer block: attention, then MLP, each added to the residual."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln2 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps, bias=config.bias)
        self.mlp = MLP(config)

    # --8<-- [start:block]
    def forward(
        self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Update the residual stream ``x`` (batch, tokens, d_model); return it and the cache."""
        attended, present = self.attn(self.ln1(x), past)
        x = x + attended  # tokens read from earlier tokens
        x = x + self.mlp(self.ln2(x))  # each token is transformed on its own
        return x, present

    # --8<-- [end:block]


@dataclass
class GPTOutput:
    """What :meth:`GPT.forward` returns.

    Attributes:
        logits: Next-token scores, (batch, tokens, vocab).
        loss: Mean cross-entropy against ``targets`` (nats), when they were given.
        hidden_states: When asked: the embeddings, then the output of every block, each
            (batch, tokens, d_model). The last one is *before* the final LayerNorm; transformers'
            last hidden state is after it.
        past: The KV cache including these tokens, to pass back as ``past`` for the next ones.
    """

    logits: torch.Tensor
    loss: torch.Tensor | None
    hidden_states: list[torch.Tensor] | None
    past: KVCache


def language_model_loss(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy of a sequence with itself, like transformers' ``labels=ids``.

    The logits at position ``t`` predict token ``t + 1``, so ``logits[:, :-1]`` is scored against
    ``ids[:, 1:]``; ids of -100 are ignored.
    """
    return F.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), ignore_index=-100
    )


class GPT(nn.Module):
    """Token embedding, positions, a stack of :class:`Block`, final LayerNorm and LM head."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.token = nn.Embedding(config.vocab_size, config.d_model)
        self.position = position_module(config.position, config.context, config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.ln_f = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps, bias=config.bias)
        self.head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_weights:
            self.head.weight = self.token.weight  # one matrix reads tokens in and writes them out
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """GPT-2's initialisation: N(0, 0.02), residual outputs scaled by 1/√(2·layers), 0 bias."""
        for name, parameter in self.named_parameters():
            if parameter.dim() >= 2:
                residual = name.endswith(("attn.out.weight", "mlp.down.weight"))
                std = 0.02 / math.sqrt(2 * self.config.layers) if residual else 0.02
                nn.init.normal_(parameter, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(parameter)

    def forward(
        self,
        ids: torch.Tensor,
        targets: torch.Tensor | None = None,
        past: KVCache | None = None,
        output_hidden_states: bool = False,
    ) -> GPTOutput:
        """Run the model on token ``ids`` (batch, tokens) that follow the cached ``past`` tokens.

        Args:
            ids: The new tokens, (batch, tokens).
            targets: The token that *follows* each of ``ids``, (batch, tokens), already shifted
                by the caller (-100 = ignore). To score a sequence against itself, use
                :func:`language_model_loss` instead.
            past: The KV cache of earlier tokens, from a previous call's ``past``.
            output_hidden_states: Whether to return the residual stream after every block.
        """
        tokens = ids.shape[1]
        cached = 0 if past is None else past[0][0].shape[2]
        if cached + tokens > self.config.context:
            raise ValueError(
                f"{cached + tokens} tokens ({cached} cached + {tokens} new) exceed the model's "
                f"context of {self.config.context} tokens"
            )
        x = self.dropout(self.position(self.token(ids), offset=cached))  # (B, T, d_model)
        hidden, present = [x], []
        for i, block in enumerate(self.blocks):
            x, layer_cache = block(x, None if past is None else past[i])
            hidden.append(x)
            present.append(layer_cache)
        logits = self.head(self.ln_f(x))  # (B, T, vocab)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100
            )
        return GPTOutput(logits, loss, hidden if output_hidden_states else None, present)

    def num_parameters(self, non_embedding: bool = False) -> int:
        """Number of parameters (a tied matrix counts once).

        Args:
            non_embedding: Leave out the token and position embedding tables, as transformers'
                ``num_parameters(exclude_embeddings=True)`` and Kaplan et al.'s scaling laws do.
        """
        total = sum(p.numel() for p in self.parameters())
        if non_embedding:
            total -= self.token.weight.numel() + sum(p.numel() for p in self.position.parameters())
        return total

    @classmethod
    def from_hf(cls, model: GPT2LMHeadModel, fused: bool = True) -> GPT:
        """A copy of a transformers GPT-2 model, in its dtype (``fused`` as in :class:`GPTConfig`).

        GPT-2's linear layers are ``Conv1D`` modules computing ``x @ W + b``: their weight is
        (in, out), the transpose of an ``nn.Linear`` weight.
        """
        hf = model.config
        if hf.activation_function != "gelu_new" or hf.scale_attn_by_inverse_layer_idx:
            raise ValueError("only the standard GPT-2 recipe (gelu_new, plain 1/√d scaling) loads")
        config = GPTConfig(
            vocab_size=hf.vocab_size, context=hf.n_positions, d_model=hf.n_embd, heads=hf.n_head,
            layers=hf.n_layer, d_ff=hf.n_inner, dropout=hf.resid_pdrop,
            layer_norm_eps=hf.layer_norm_epsilon, tie_weights=hf.tie_word_embeddings, fused=fused,
        )  # fmt: skip
        source = model.state_dict()
        names = {
            "token.weight": "transformer.wte.weight", "head.weight": "lm_head.weight",
            "position.table.weight": "transformer.wpe.weight",
            "ln_f.weight": "transformer.ln_f.weight", "ln_f.bias": "transformer.ln_f.bias",
        }  # fmt: skip
        state = {ours: source[theirs] for ours, theirs in names.items()}
        parts = {
            "ln1": "ln_1", "attn.qkv": "attn.c_attn", "attn.out": "attn.c_proj",
            "ln2": "ln_2", "mlp.up": "mlp.c_fc", "mlp.down": "mlp.c_proj",
        }  # fmt: skip
        for i in range(config.layers):
            for ours, theirs in parts.items():
                for kind in ("weight", "bias"):
                    tensor = source[f"transformer.h.{i}.{theirs}.{kind}"]
                    conv = kind == "weight" and not ours.startswith("ln")  # Conv1D: (in, out)
                    state[f"blocks.{i}.{ours}.{kind}"] = tensor.t() if conv else tensor
        gpt = cls(config).to(model.dtype)
        gpt.load_state_dict(state)
        return gpt.train(model.training)


def random_gpt2(dtype: torch.dtype = torch.float64, scale: float = 0.1, **sizes: int) -> Any:
    """A transformers ``GPT2LMHeadModel`` from a small config, random weights, no download.

    Every weight is moved off its tidy initial value (LayerNorms at exactly 1, biases at 0) by
    Gaussian noise of ``scale``, so a comparison with it exercises every parameter.

    Args:
        dtype: The model's dtype (float64 for parity checks).
        scale: The standard deviation of the noise added to every weight.
        **sizes: ``GPT2Config`` fields to change (``n_layer``, ``n_embd``, ``vocab_size``, …).
    """
    from transformers import GPT2Config, GPT2LMHeadModel

    fields = {"n_layer": 2, "n_head": 2, "n_embd": 32, "vocab_size": 64, "n_positions": 64}
    config = GPT2Config(**{**fields, **sizes}, bos_token_id=0, eos_token_id=None, pad_token_id=0)
    model = GPT2LMHeadModel(config).to(dtype).eval()
    model.loss_type = "ForCausalLM"  # named, or transformers warns that it guessed it
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * scale)
    return model
