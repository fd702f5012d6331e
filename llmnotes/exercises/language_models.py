"""Checks for the language-models exercises (the end of the language-models page).

Examples:
    >>> from llmnotes.gpt import GPTConfig
    >>> config = GPTConfig(vocab_size=10, context=8, d_model=16, heads=2, layers=1)
    >>> print(check_parameter_count(config, 3_600))
    Right: the model has 3,600 parameters, and you said 3,600.
    >>> print(check_parameter_count(config, 3_600 + 10 * 16))
    Not yet: you said 3,760: the output layer shares the token embedding's matrix; count it once.
    >>> print(check_temperature_frequencies(1.0, None))
    Not yet: replace None with your answer for the frequencies at temperature 1.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence

import torch

from llmnotes.decoding import SamplingSettings, apply_temperature, generate, top_p_filter
from llmnotes.exercises import Verdict, as_list, check_number, unanswered
from llmnotes.gpt import GPT, GPTConfig, language_model_loss

#: The sizes of the untrained GPT of the page's first section (all but ``vocab_size``).
UNTRAINED = {"context": 16, "d_model": 32, "heads": 4, "layers": 2}
#: The logits of the page's decoding section: five tokens, the first the most likely.
LOGITS = (3.0, 2.0, 1.0, 0.5, -1.0)
#: How far each sampled frequency may be from its probability (four standard errors or more
#: for ten thousand draws).
FREQUENCY_TOLERANCE = 0.02
#: The sizes of the small GPTs the KV-cache exercise decodes with.
DECODER_SIZES = {"vocab_size": 50, "context": 32, "d_model": 32, "heads": 4, "layers": 2}


@functools.cache
def untrained_loss(vocab_size: int) -> float:
    """The first section's measurement at another ``vocab_size``: its loss on random ids (nats).

    Seed 0, then the model, then the ids, as on the page; the caller's random state is kept.
    """
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = GPT(GPTConfig(vocab_size=vocab_size, **UNTRAINED))
        ids = torch.randint(0, vocab_size, (1, UNTRAINED["context"]))
        with torch.no_grad():
            return language_model_loss(model(ids).logits, ids).item()


def check_untrained_bits(vocab_size: int, bits: float | None) -> Verdict:
    """Exercise 1: the untrained model's loss on random ids, in bits per token."""
    if not isinstance(vocab_size, int) or not 2 <= vocab_size <= 65_536:
        return Verdict(False, f"vocab_size is {vocab_size!r}; this exercise takes 2 to 65,536.")
    what = f"the loss in bits per token at vocab_size={vocab_size:,}"
    if bits is None:
        return unanswered(what)
    nats = untrained_loss(vocab_size)
    expected = nats / math.log(2)
    verdict = check_number(bits, expected, 0.005, what, fmt=".3f")
    if verdict or not isinstance(bits, (int, float)):
        return verdict
    if abs(bits - nats) <= 0.005:
        hint = "is the loss in nats; divide it by ln 2 for bits"
    elif abs(bits - math.exp(nats)) <= 0.01 * math.exp(nats):
        hint = "is the perplexity, e to the loss; bits are the loss divided by ln 2"
    elif abs(bits - math.log2(vocab_size)) <= 0.005:
        hint = "is log2 of the vocabulary, the uniform guess's loss; measure the model itself"
    else:
        return verdict
    return Verdict(False, f"{bits:.3f} {hint}.")


@functools.cache
def reference_parameter_count(sizes: tuple) -> int:
    """:meth:`GPT.num_parameters` of a model of these :class:`GPTConfig` fields (a meta model)."""
    with torch.device("meta"):  # no memory, no initialisation cost: only the shapes
        return GPT(GPTConfig(*sizes)).num_parameters()


def check_parameter_count(config: GPTConfig, count: int | None) -> Verdict:
    """Exercise 2: how many parameters a :class:`~llmnotes.gpt.GPT` of ``config`` has."""
    if not isinstance(config, GPTConfig):
        return Verdict(False, f"config must be a GPTConfig; you gave {type(config).__name__}.")
    if count is None:
        return unanswered("the parameter count")
    if not isinstance(count, int) or isinstance(count, bool):
        return Verdict(False, f"a parameter count is a whole number; you gave {count!r}.")
    expected = reference_parameter_count(dataclasses.astuple(config))
    if count == expected:
        return Verdict(True, f"the model has {expected:,} parameters, and you said {count:,}.")
    d, layers, norms = config.d_model, config.layers, 2 * config.layers + 1
    tables = config.vocab_size * d + (config.context * d if config.position == "learned" else 0)
    hints = {-tables: "that leaves out the embedding tables; count every parameter"}
    if config.tie_weights:
        hints[config.vocab_size * d] = (
            "the output layer shares the token embedding's matrix; count it once"
        )
    if config.bias:
        biases = layers * (3 * d + d + config.d_ff + d) + norms * d  # linear layers, LayerNorms
        hints[-biases] = "that leaves out the biases (the linear layers' and the LayerNorms')"
    hints[-norms * d * (2 if config.bias else 1)] = (
        "that leaves out the LayerNorms (a scale and a shift each)"
    )
    if count - expected in hints:
        return Verdict(False, f"you said {count:,}: {hints[count - expected]}.")
    direction = "high" if count > expected else "low"
    return Verdict(False, f"you said {count:,}, too {direction}: the model has {expected:,}.")


def temperature_probabilities(temperature: float) -> list[float]:
    """The probabilities sampling at ``temperature`` draws :data:`LOGITS`' tokens with."""
    logits = apply_temperature(torch.tensor([LOGITS], dtype=torch.float64), temperature)
    return torch.softmax(logits, dim=-1)[0].tolist()


def check_temperature_frequencies(
    temperature: float, frequencies: Sequence[float] | None
) -> Verdict:
    """Exercise 3: how often each of :data:`LOGITS`' tokens is drawn at ``temperature``."""
    if not (isinstance(temperature, (int, float)) and 0 < temperature <= 10):
        return Verdict(
            False,
            f"temperature is {temperature!r}; this exercise takes above 0 (0 is greedy) to 10.",
        )
    what = f"the frequencies at temperature {temperature:g}"
    if frequencies is None:
        return unanswered(what)
    said = as_list(frequencies, float, len(LOGITS), f"{len(LOGITS)} frequencies, one per token")
    if isinstance(said, Verdict):
        return said
    if abs(sum(said) - 1) > 0.01:
        return Verdict(False, f"your frequencies add up to {sum(said):.3f}; they must add up to 1.")
    expected = temperature_probabilities(temperature)
    shown = "[" + ", ".join(f"{e:.3f}" for e in expected) + "]"
    if close(said, expected):
        return Verdict(True, f"{shown} at temperature {temperature:g}, and yours are close.")
    if close(said, temperature_probabilities(1.0)):
        return Verdict(
            False, f"that is the distribution at temperature 1; at {temperature:g}: {shown}."
        )
    if close(said, temperature_probabilities(1 / temperature)):
        return Verdict(
            False, f"that is the logits multiplied by {temperature:g}; divide them: {shown}."
        )
    gaps = [abs(s - e) for s, e in zip(said, expected, strict=True)]
    token = gaps.index(max(gaps))
    return Verdict(
        False,
        f"token {token} comes {said[token]:.3f} of the time in your answer, "
        f"but has probability {expected[token]:.3f} at temperature {temperature:g}.",
    )


def close(frequencies: list[float], probabilities: list[float]) -> bool:
    """Whether every frequency is within :data:`FREQUENCY_TOLERANCE` of its probability."""
    pairs = zip(frequencies, probabilities, strict=True)
    return all(abs(f - p) <= FREQUENCY_TOLERANCE for f, p in pairs)


#: The top-p cases: (logits, p). No two kept sets sit near a tie or near p, so any right
#: implementation agrees with the reference exactly.
TOP_P_CASES = [
    ([list(LOGITS)], 0.9),
    ([list(LOGITS)], 0.5),
    ([list(LOGITS)], 0.8),
    ([[0.5, -1.0, 3.0, 1.0, 2.0]], 0.9),  # not sorted: keep by probability, not by place
    ([list(LOGITS), [0.0, 0.1, 0.2, 0.3, 0.4]], 0.6),  # each row its own nucleus
    ([list(LOGITS)], 0.01),  # the most likely token always stays
    ([list(LOGITS)], 1.0),  # everything stays
]


def kept(logits: torch.Tensor) -> list[list[int]]:
    """The tokens a filter kept, per row: those whose logit is not -inf."""
    return [[i for i, x in enumerate(row) if x != float("-inf")] for row in logits.tolist()]


def without_inf(logits: torch.Tensor) -> torch.Tensor:
    """The logits with -inf replaced by 0, to compare the kept values."""
    return logits.masked_fill(logits == float("-inf"), 0.0)


def check_top_p(function: Callable[[torch.Tensor, float], torch.Tensor] | None) -> Verdict:
    """Exercise 4: your ``top_p(logits, p)`` against :func:`llmnotes.decoding.top_p_filter`."""
    if function is None:
        return unanswered("top_p")
    if not callable(function):
        return Verdict(False, f"top_p must be a function; you gave {type(function).__name__}.")
    for rows, p in TOP_P_CASES:
        logits = torch.tensor(rows)
        shown = f"top_p({rows if len(rows) > 1 else rows[0]}, {p})"
        expected = top_p_filter(logits, p)
        try:
            got = function(logits.clone(), p)
        except Exception as error:  # the reader's code: any failure is an answer to explain
            return Verdict(False, f"{shown} raised {type(error).__name__}: {error}.")
        if not isinstance(got, torch.Tensor) or got.shape != logits.shape:
            what = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            return Verdict(False, f"{shown} returned {what}; return logits of the same shape.")
        ours, theirs = kept(got), kept(expected)
        if ours != theirs:
            ours, theirs = (x if len(rows) > 1 else x[0] for x in (ours, theirs))
            return Verdict(False, f"{shown} kept {ours}; it should keep {theirs}.")
        if not torch.equal(without_inf(got), without_inf(expected)):
            return Verdict(
                False,
                f"{shown} kept the right tokens but changed their logits; "
                "leave them as they are and set the others to -inf.",
            )
    return Verdict(True, f"top_p agrees with the reference on {len(TOP_P_CASES)} cases.")


@functools.cache
def decoders() -> tuple[GPT, GPT]:
    """Two small GPTs (learned and rotary positions) with weights far from their initial values.

    Untrained GPTs have nearly flat logits and greedy decoding repeats one token; noise on every
    weight makes the tokens vary, so a wrong loop gives wrong tokens.
    """
    models = []
    with torch.random.fork_rng():
        for seed, position in enumerate(("learned", "rotary")):
            torch.manual_seed(seed)
            model = GPT(GPTConfig(position=position, **DECODER_SIZES)).eval()
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.add_(torch.randn_like(parameter) * 0.3)
            models.append(model)
    return tuple(models)


def reference_greedy(index: int, prompt: list[list[int]], new: int) -> torch.Tensor:
    """Greedy decoding of ``decoders()[index]`` without the cache: ``prompt`` and ``new`` tokens."""
    return _reference_greedy(index, tuple(map(tuple, prompt)), new).clone()


@functools.cache
def _reference_greedy(index: int, prompt: tuple[tuple[int, ...], ...], new: int) -> torch.Tensor:
    settings = SamplingSettings(temperature=0, max_new_tokens=new)
    return generate(decoders()[index], torch.tensor(prompt), settings, use_cache=False)


#: The KV-cache cases: (model, prompt, new tokens); model 0 has learned positions, 1 rotary.
GREEDY_CASES = [
    (0, [[1, 2, 3, 4, 5]], 6),
    (1, [[7]], 8),
    (1, [[3, 1, 4, 1, 5, 9], [2, 6, 5, 3, 5, 8]], 8),
    (0, [[10, 20]], 1),
]


def check_cached_greedy(
    function: Callable[[GPT, torch.Tensor, int], torch.Tensor] | None,
) -> Verdict:
    """Exercise 5: your greedy decoding with a KV cache, ``function(model, ids, max_new_tokens)``.

    It must give the tokens of :func:`llmnotes.decoding.generate` without the cache, and feed the
    model no more token positions than a cached loop does: the prompt once, then one a step.
    """
    if function is None:
        return unanswered("greedy decoding with a KV cache")
    if not callable(function):
        return Verdict(False, f"greedy must be a function; you gave {type(function).__name__}.")
    fed, total, recomputed = [0], 0, 0

    def count(module: GPT, args: tuple, kwargs: dict) -> None:
        ids = args[0] if args else kwargs["ids"]
        fed[0] += ids.shape[1]

    for index, prompt, new in GREEDY_CASES:
        model, ids = decoders()[index], torch.tensor(prompt)
        kind = model.config.position
        shown = f"after {prompt if len(prompt) > 1 else prompt[0]} ({kind} positions)"
        expected = reference_greedy(index, prompt, new)
        fed[0] = 0
        hook = model.register_forward_pre_hook(count, with_kwargs=True)
        try:
            with torch.no_grad():
                got = function(model, ids.clone(), new)
        except Exception as error:  # the reader's code: any failure is an answer to explain
            return Verdict(False, f"{shown} it raised {type(error).__name__}: {error}.")
        finally:
            hook.remove()
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            what = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            want = tuple(expected.shape)
            return Verdict(
                False, f"{shown} it returned {what}, not {want}: the prompt, then {new} tokens."
            )
        if not torch.equal(got, expected):
            ours, theirs = got[:, ids.shape[1] :].tolist(), expected[:, ids.shape[1] :].tolist()
            ours, theirs = (x if len(prompt) > 1 else x[0] for x in (ours, theirs))
            return Verdict(False, f"{shown} it wrote {ours}; greedy decoding writes {theirs}.")
        needed = ids.shape[1] + new - 1  # the prompt, then each new token but the last
        if fed[0] > needed + 1:  # one spare step (running the model on the last token) is fine
            return Verdict(
                False,
                f"right tokens, but you fed {fed[0]} positions for a prompt of {ids.shape[1]} "
                f"and {new} new; a cache feeds {needed}.",
            )
        total += fed[0]
        recomputed += sum(ids.shape[1] + step for step in range(new))
    return Verdict(
        True,
        f"greedy's tokens on {len(GREEDY_CASES)} cases, feeding {total} positions in all "
        f"where recomputing feeds {recomputed}.",
    )
