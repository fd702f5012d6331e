"""The back end of ``llmnotes generate``: continue a prompt with the site's GPT or a hub model.

The default model is the character GPT the language-models page trains (the ``char-gpt`` asset,
kept in the user cache). ``--model`` also takes a folder written by that page, the ``gpt2``
asset (GPT-2 small, pinned, online) or any causal language model on the hub (``owner/name``),
loaded by transformers from safetensors weights, never with remote code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from llmnotes.char_gpt import NotACharGPT, load_char_gpt, unknown_characters
from llmnotes.char_lm import CharVocabulary
from llmnotes.decoding import SamplingSettings, generate
from llmnotes.errors import UserError
from llmnotes.gpt import GPT
from llmnotes.pipeline.inputs import model_location

#: The model ``llmnotes generate`` uses without ``--model``.
DEFAULT_MODEL = "char-gpt"


class GenerationError(UserError, ValueError):
    """A prompt or model that ``llmnotes generate`` cannot use; the message names the fix."""


@dataclass(frozen=True)
class Generated:
    """What ``llmnotes generate`` prints: the text and how it was made."""

    text: str
    new_tokens: int
    seconds: float
    cache: bool
    model: str

    @property
    def tokens_per_second(self) -> float:
        """Generated tokens per second, the prompt's one forward pass included."""
        return self.new_tokens / self.seconds if self.seconds else float("inf")


def continue_prompt(
    prompt: str,
    settings: SamplingSettings,
    model: str | None = None,
    seed: int = 0,
    use_cache: bool = True,
    offline: bool | None = None,
) -> Generated:
    """Continue ``prompt`` with ``model`` (default: the site's character GPT).

    Raises:
        GenerationError: An empty prompt, characters the character model does not know, or a
            request beyond its context.
        llmnotes.pipeline.assets.AssetUnavailable: The model is not here; the message says how
            to get it.
    """
    if not prompt.strip():
        raise GenerationError("nothing to continue: the prompt is empty")
    name = model or DEFAULT_MODEL
    location = model_location(name, offline)  # a folder, or a hub id for transformers
    if isinstance(location, Path):
        try:
            model, chars = load_char_gpt(location)
        except NotACharGPT:
            pass  # another model's folder: transformers reads it
        else:
            return _with_char_gpt(model, chars, name, prompt, settings, seed, use_cache)
    return _with_transformers(str(location), prompt, settings, seed, use_cache)


def _with_char_gpt(
    model: GPT,
    chars: CharVocabulary,
    name: str,
    prompt: str,
    settings: SamplingSettings,
    seed: int,
    use_cache: bool,
) -> Generated:
    if unknown := unknown_characters(chars, prompt):
        shown = ", ".join(repr(c) for c in unknown)
        raise GenerationError(
            f"the character model does not know {shown} ({len(chars.chars) - 1} characters, "
            "from its training text); leave them out of the prompt"
        )
    limit = model.config.context
    if len(prompt) + settings.max_new_tokens > limit:
        room = limit - len(prompt)
        hint = f"use --max-new-tokens {room} or less" if room > 0 else "shorten the prompt"
        raise GenerationError(
            f"the model reads at most {limit} characters: a prompt of {len(prompt)} plus "
            f"{settings.max_new_tokens} new ones exceeds it; {hint}"
        )
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    ids = generate(model, chars.encode(prompt)[None], settings, generator, use_cache=use_cache)
    seconds = time.perf_counter() - start
    return Generated(chars.decode(ids[0]), settings.max_new_tokens, seconds, use_cache, name)


def _with_transformers(
    model_id: str, prompt: str, settings: SamplingSettings, seed: int, use_cache: bool
) -> Generated:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_id)
        model = AutoModelForCausalLM.from_pretrained(model_id, use_safetensors=True).eval()
    except (OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise GenerationError(
            f"cannot load {model_id} as a causal language model: {reason}"
        ) from None
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    limit = getattr(model.config, "max_position_embeddings", None) or model.config.n_positions
    if ids.shape[1] + settings.max_new_tokens > limit:
        raise GenerationError(
            f"{model_id} reads at most {limit} tokens: a prompt of {ids.shape[1]} tokens plus "
            f"{settings.max_new_tokens} new ones exceeds it"
        )
    options: dict = {"do_sample": not settings.greedy, "top_k": settings.top_k or 0}
    if not settings.greedy:
        options |= {"temperature": settings.temperature, "top_p": settings.top_p}
    torch.manual_seed(seed)
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=settings.max_new_tokens,
            min_new_tokens=settings.max_new_tokens, use_cache=use_cache,
            repetition_penalty=settings.repetition_penalty,
            pad_token_id=tokenizer.eos_token_id, **options,
        )  # fmt: skip
    seconds = time.perf_counter() - start
    text = tokenizer.decode(out[0], skip_special_tokens=True)
    return Generated(text, out.shape[1] - ids.shape[1], seconds, use_cache, model_id)
