"""Position information for attention: none, learned, sinusoidal, and rotary (RoPE).

Attention by itself treats its input as a set: shuffle the tokens and every output is shuffled
the same way. A language model needs word order, so it either *adds* a vector per position to the
token embeddings (:class:`LearnedPositions` as in GPT-2, :class:`SinusoidalPositions` as in
Vaswani et al. 2017), or *rotates* queries and keys by an angle that grows with the position
(:class:`Rotary`, Su et al. 2021, as in Llama), so that a query–key score depends only on how far
apart the two tokens are.

Every module takes an ``offset``: the position of the first token it is given. With a KV cache
the model sees one new token at a time, and that token sits at position ``offset``, not 0.

Examples:
    >>> import torch
    >>> table = sinusoidal_table(length=4, dim=6)
    >>> table.shape
    torch.Size([4, 6])
    >>> table[0].tolist()  # position 0: sin(0) = 0, cos(0) = 1
    [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    >>> cos, sin = rotary_frequencies(head_dim=4, length=8)
    >>> q = torch.randn(1, 2, 3, 4)  # (batch, heads, tokens, head_dim)
    >>> torch.allclose(apply_rotary(q, cos, sin).norm(dim=-1), q.norm(dim=-1))
    True
"""

from __future__ import annotations

import math

import torch
from torch import nn

POSITION_KINDS = ("none", "learned", "sinusoidal", "rotary")


class NoPositions(nn.Module):
    """The "no positions" ablation: embeddings pass through unchanged."""

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """Return ``x`` (batch, tokens, d_model) as it is."""
        return x


class LearnedPositions(nn.Module):
    """One trained vector per position, added to the token embeddings (GPT-2's ``wpe``).

    Args:
        max_len: Number of positions, the longest sequence the model can read.
        d_model: Width of the embeddings.
    """

    def __init__(self, max_len: int, d_model: int) -> None:
        super().__init__()
        self.table = nn.Embedding(max_len, d_model)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """``x`` (batch, tokens, d_model) plus the vectors of positions ``offset, offset + 1…``."""
        positions = torch.arange(offset, offset + x.shape[1], device=x.device)
        return x + self.table(positions)  # (tokens, d_model) broadcasts over the batch


# --8<-- [start:sinusoidal]
def sinusoidal_table(length: int, dim: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Vaswani et al.'s fixed positions: ``PE[pos, 2i] = sin(pos / 10000^(2i/d))``, cos at 2i+1.

    Args:
        length: Number of positions.
        dim: Width of each position vector (even).
        dtype: Type of the result (computed in float64 either way).

    Returns:
        A (length, dim) table; each pair of columns is a sine and cosine of one frequency.
    """
    if dim % 2:
        raise ValueError(f"the sinusoidal table needs an even width, got {dim}")
    positions = torch.arange(length, dtype=torch.float64)[:, None]  # (length, 1)
    frequencies = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)  # (dim/2,)
    angles = positions * frequencies  # (length, dim/2)
    table = torch.empty(length, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angles)
    table[:, 1::2] = torch.cos(angles)
    return table.to(dtype)


# --8<-- [end:sinusoidal]


class SinusoidalPositions(nn.Module):
    """The sinusoidal table as a fixed (untrained) buffer, added to the scaled token embeddings.

    As in Vaswani et al. (2017, section 3.4) the token embeddings are first multiplied by
    ``√d_model``: the sines and cosines have amplitude 1, while embeddings start near 0 (GPT-2
    initialises them with a standard deviation of 0.02), and unscaled they would drown in the
    positions.
    """

    def __init__(self, max_len: int, d_model: int) -> None:
        super().__init__()
        self.scale = math.sqrt(d_model)
        self.register_buffer("table", sinusoidal_table(max_len, d_model), persistent=False)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """``x`` (batch, tokens, d_model) times √d_model, plus the table rows from ``offset`` on."""
        return x * self.scale + self.table[offset : offset + x.shape[1]].to(x.dtype)


def rotary_frequencies(
    head_dim: int, length: int, base: float = 10000.0, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine and sine tables of RoPE's angles ``pos · base^(-2i/head_dim)``.

    Each of the ``head_dim / 2`` frequencies appears twice (``cat(freqs, freqs)``), the layout of
    :func:`rotate_half`. The angles are computed in ``dtype``; float32 (the default) reproduces
    Llama's tables in transformers bit for bit, whatever dtype the model later runs in.

    Args:
        head_dim: Width of one attention head (even).
        length: Number of positions.
        base: The wavelength scale (Llama 1 and 2 use 10000; Llama 3 uses 500000).
        dtype: Precision of the angles.

    Returns:
        ``(cos, sin)``, each (length, head_dim).
    """
    if head_dim % 2:
        raise ValueError(f"rotary embedding needs an even head width, got {head_dim}")
    inverse = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=dtype) / head_dim))  # (hd/2,)
    angles = torch.arange(length, dtype=dtype)[:, None] * inverse  # (length, hd/2)
    angles = torch.cat((angles, angles), dim=-1)  # (length, hd)
    return angles.cos(), angles.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """``(x1, x2) → (-x2, x1)`` on the two halves of the last dimension: a 90° turn per pair."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


# --8<-- [start:rotary]
def apply_rotary(
    x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, positions: int | torch.Tensor = 0
) -> torch.Tensor:
    """Rotate each pair ``(x[i], x[i + d/2])`` of ``x`` by its position's angle.

    Args:
        x: Queries or keys, (batch, heads, tokens, head_dim).
        cos: Cosine table from :func:`rotary_frequencies`, (max_len, head_dim).
        sin: Sine table, (max_len, head_dim).
        positions: Position of the first token (an offset, for cached generation), or the
            position of every token, (tokens,) or (batch, tokens).

    Returns:
        The rotated tensor, shaped like ``x``.
    """
    if isinstance(positions, int):
        end = positions + x.shape[-2]
        cos, sin = cos[positions:end], sin[positions:end]  # (tokens, hd)
    else:
        cos, sin = cos[positions], sin[positions]  # (tokens, hd) or (batch, tokens, hd)
        if positions.dim() == 2:
            cos, sin = cos[:, None], sin[:, None]  # (batch, 1, tokens, hd): same for all heads
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return x * cos + rotate_half(x) * sin


# --8<-- [end:rotary]


class Rotary(nn.Module):
    """RoPE tables for one attention head width; rotates queries and keys (not the embeddings).

    Args:
        head_dim: Width of one head.
        max_len: Number of positions to precompute.
        base: The wavelength scale.
    """

    def __init__(self, head_dim: int, max_len: int, base: float = 10000.0) -> None:
        super().__init__()
        cos, sin = rotary_frequencies(head_dim, max_len, base)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def forward(
        self, q: torch.Tensor, k: torch.Tensor, offset: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotate ``q`` and ``k`` (batch, heads, tokens, head_dim); token 0 is at ``offset``."""
        q = apply_rotary(q, self.cos, self.sin, offset)
        return q, apply_rotary(k, self.cos, self.sin, offset)


def position_module(kind: str, max_len: int, d_model: int) -> nn.Module:
    """The module that adds position information to the token embeddings, by name.

    Args:
        kind: One of ``"none"``, ``"learned"``, ``"sinusoidal"``, ``"rotary"``.
        max_len: Longest sequence.
        d_model: Width of the embeddings.

    Returns:
        A module ``(x, offset) → x``. For ``"rotary"`` the embeddings get nothing
        (:class:`NoPositions`): the positions enter in attention, through a :class:`Rotary`.
    """
    if kind not in POSITION_KINDS:
        raise ValueError(f"unknown position kind {kind!r}; choose one of {POSITION_KINDS}")
    if kind == "learned":
        return LearnedPositions(max_len, d_model)
    if kind == "sinusoidal":
        return SinusoidalPositions(max_len, d_model)
    return NoPositions()
