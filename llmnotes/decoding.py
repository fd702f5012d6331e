"""Text generation from scratch: reshape the next-token distribution, pick a token, repeat.

A language model gives, at each step, logits over the vocabulary. Decoding turns them into a
token: *greedy* takes the largest; *sampling* draws from ``softmax(logits / temperature)``,
usually after cutting the unlikely tail (top-k, top-p) and discouraging repeats. Each transform
here is a pure function on a (batch, vocab) tensor, with the semantics of the matching
transformers logits processor, and :func:`generate` applies them in transformers' order.

Examples:
    >>> import torch
    >>> logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    >>> top_k_filter(logits, 2)
    tensor([[2., 1., -inf, -inf]])
    >>> apply_temperature(logits, 2.0)
    tensor([[ 1.0000,  0.5000,  0.0000, -0.5000]])
    >>> SamplingSettings(top_p=0.0)
    Traceback (most recent call last):
    ...
    llmnotes.decoding.DecodingError: top_p must be in (0, 1], got 0.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from llmnotes.errors import UserError
from llmnotes.gpt import GPT


class DecodingError(UserError, ValueError):
    """A decoding setting out of its range, or a request beyond the model's context."""


def check_temperature(t: float, allow_greedy: bool = False) -> None:
    """Raise ValueError unless ``t`` is finite and > 0 (or exactly 0, if greedy is allowed)."""
    if not (math.isfinite(t) and (t > 0 or (allow_greedy and t == 0))):
        raise DecodingError(
            f"temperature must be a finite number > 0 (0 = greedy decoding), got {t}"
        )


def apply_temperature(logits: torch.Tensor, t: float) -> torch.Tensor:
    """``logits / t``: below 1 sharpens the distribution, above 1 flattens it.

    ``t == 0`` (greedy) has no finite logits; :func:`generate` takes the argmax instead.
    """
    check_temperature(t)
    return logits / t


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` largest logits of each row (and any tied with the k-th), -inf elsewhere."""
    if k < 1:
        raise DecodingError(f"top_k must be an integer >= 1, got {k}")
    kth = torch.topk(logits, min(k, logits.shape[-1])).values[..., -1:]  # (batch, 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filtering: keep the most likely tokens whose probabilities first reach ``p``.

    Sorted from least to most likely, a token is dropped while the probability of it and
    everything less likely is at most ``1 - p``; the most likely token always stays. This is
    transformers' ``TopPLogitsWarper`` with ``min_tokens_to_keep=1``.
    """
    if not 0 < p <= 1:
        raise DecodingError(f"top_p must be in (0, 1], got {p}")
    ascending, order = torch.sort(logits, descending=False)
    tail_mass = ascending.softmax(dim=-1).cumsum(dim=-1)  # (batch, vocab), ends at 1
    drop = tail_mass <= 1 - p
    drop[..., -1] = False  # the most likely token
    return logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))


def repetition_penalty(
    logits: torch.Tensor, previous_ids: torch.Tensor, penalty: float
) -> torch.Tensor:
    """CTRL's rule (Keskar et al. 2019): make every token already seen less likely.

    A seen token's logit is divided by ``penalty`` if positive and multiplied by it if negative,
    so ``penalty > 1`` always lowers it, however often the token appeared.

    Args:
        logits: (batch, vocab).
        previous_ids: The tokens so far, prompt included, (batch, tokens).
        penalty: Strictly positive; 1 changes nothing.
    """
    if not (math.isfinite(penalty) and penalty > 0):
        raise DecodingError(f"repetition_penalty must be a finite number > 0, got {penalty}")
    seen = logits.gather(-1, previous_ids)  # (batch, tokens)
    seen = torch.where(seen < 0, seen * penalty, seen / penalty)
    return logits.scatter(-1, previous_ids, seen)


def frequency_penalty(
    logits: torch.Tensor, previous_ids: torch.Tensor, alpha: float
) -> torch.Tensor:
    """OpenAI's frequency penalty: subtract ``alpha`` per earlier occurrence of each token."""
    counts = torch.zeros_like(logits).scatter_add_(
        -1, previous_ids, torch.ones_like(previous_ids, dtype=logits.dtype)
    )  # (batch, vocab): how often each token appeared
    return logits - alpha * counts


@dataclass(frozen=True)
class SamplingSettings:
    """How to pick each next token; checked once, when built.

    Attributes:
        temperature: 0 for greedy decoding, else the softmax temperature (> 0).
        top_k: Keep only the k most likely tokens (``None``: all).
        top_p: Keep the smallest set of likely tokens whose probability reaches p (1: all).
        repetition_penalty: CTRL's penalty on tokens already seen (1: none).
        frequency_penalty: Logit decrease per earlier occurrence (0: none).
        max_new_tokens: Number of tokens to generate.
    """

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    frequency_penalty: float = 0.0
    max_new_tokens: int = 20

    def __post_init__(self) -> None:
        check_temperature(self.temperature, allow_greedy=True)
        if self.top_k is not None and self.top_k < 1:
            raise DecodingError(f"top_k must be an integer >= 1, got {self.top_k}")
        if not 0 < self.top_p <= 1:
            raise DecodingError(f"top_p must be in (0, 1], got {self.top_p}")
        if not (math.isfinite(self.repetition_penalty) and self.repetition_penalty > 0):
            raise DecodingError(
                f"repetition_penalty must be a finite number > 0, got {self.repetition_penalty}"
            )
        if not math.isfinite(self.frequency_penalty):
            raise DecodingError(f"frequency_penalty must be finite, got {self.frequency_penalty}")
        if self.max_new_tokens < 1:
            raise DecodingError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")

    @property
    def greedy(self) -> bool:
        """Whether each step takes the most likely token."""
        return self.temperature == 0


def process_logits(
    logits: torch.Tensor, previous_ids: torch.Tensor, settings: SamplingSettings
) -> torch.Tensor:
    """All of ``settings``' transforms, in transformers' order: penalties, temperature, k, p."""
    if settings.repetition_penalty != 1:
        logits = repetition_penalty(logits, previous_ids, settings.repetition_penalty)
    if settings.frequency_penalty:
        logits = frequency_penalty(logits, previous_ids, settings.frequency_penalty)
    if settings.greedy:
        return logits  # the argmax needs no temperature or truncation
    if settings.temperature != 1:
        logits = apply_temperature(logits, settings.temperature)
    if settings.top_k is not None:
        logits = top_k_filter(logits, settings.top_k)
    if settings.top_p < 1:
        logits = top_p_filter(logits, settings.top_p)
    return logits


# --8<-- [start:sampling_step]
def next_token(
    logits: torch.Tensor,
    previous_ids: torch.Tensor,
    settings: SamplingSettings,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Pick one token per row from the last position's ``logits`` (batch, vocab) → (batch,)."""
    scores = process_logits(logits.float(), previous_ids, settings)  # float32, as transformers
    if settings.greedy:
        return scores.argmax(dim=-1)
    probs = torch.softmax(scores, dim=-1)  # (batch, vocab), filtered tokens have probability 0
    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(1)


# --8<-- [end:sampling_step]


@torch.no_grad()
def generate(
    model: GPT,
    ids: torch.Tensor,
    settings: SamplingSettings,
    generator: torch.Generator | None = None,
    use_cache: bool = True,
) -> torch.Tensor:
    """Extend the prompts ``ids`` (batch, tokens) by ``settings.max_new_tokens`` tokens.

    With the cache, the prompt is read once (prefill) and each step feeds the model only the
    newest token; without it, every step recomputes the whole sequence. Both give the same
    tokens. Sampling draws from ``generator``, or from torch's global generator when it is
    ``None`` (as transformers' ``generate`` does). Put the model in eval mode first: dropout
    would change the logits and draw from the same generator.

    Returns:
        The prompts followed by the new tokens, (batch, tokens + max_new_tokens).
    """
    total = ids.shape[1] + settings.max_new_tokens
    if total > model.config.context:
        raise DecodingError(
            f"a prompt of {ids.shape[1]} tokens plus max_new_tokens={settings.max_new_tokens} "
            f"exceeds the model's context of {model.config.context} tokens"
        )
    out = model(ids)  # prefill: the whole prompt at once
    for step in range(settings.max_new_tokens):
        token = next_token(out.logits[:, -1], ids, settings, generator)  # (batch,)
        ids = torch.cat((ids, token[:, None]), dim=1)
        if step == settings.max_new_tokens - 1:
            break
        out = model(ids[:, -1:], past=out.past) if use_cache else model(ids)
    return ids


def next_token_distributions(
    model: GPT, ids: torch.Tensor, temperatures: Sequence[float] = (0.0, 0.5, 1.0, 2.0)
) -> dict[float, list[float]]:
    """Probability of every next token after the prompt ``ids`` (tokens,), per temperature.

    Temperature 0 puts all the mass on the most likely token. Plain lists, ready for a figure.
    """
    with torch.no_grad():
        logits = model(ids[None]).logits[0, -1].double()  # (vocab,)
    distributions = {}
    for t in temperatures:
        check_temperature(t, allow_greedy=True)
        if t == 0:
            probs = torch.nn.functional.one_hot(logits.argmax(), logits.shape[-1]).double()
        else:
            probs = torch.softmax(logits / t, dim=-1)
        distributions[t] = probs.tolist()
    return distributions
