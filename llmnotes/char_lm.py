"""A character-level language model: predict the next character, measured in bits per character.

:func:`train_char_model` and :func:`bits_per_character` work for the RNNs page's recurrent
:class:`CharModel` and for the language-models page's :class:`~llmnotes.gpt.GPT` alike: the same
loop trains both, on the same windows of text.

Examples:
    >>> chars = CharVocabulary.build("hello world", min_count=1)
    >>> chars.decode(chars.encode("hello"))
    'hello'
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from llmnotes.recurrent import set_forget_bias

UNKNOWN = "\ufffd"


@dataclass(frozen=True)
class CharVocabulary:
    """The characters a model knows; rarer ones are read as one unknown character."""

    chars: str

    @classmethod
    def build(cls, text: str, min_count: int = 5) -> CharVocabulary:
        """Keep characters seen at least ``min_count`` times, most frequent first."""
        counts = Counter(text)
        kept = sorted(
            (c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], c)
        )
        return cls(UNKNOWN + "".join(c for c in kept if c != UNKNOWN))

    def encode(self, text: str) -> torch.Tensor:
        """Character ids (unknown characters map to id 0)."""
        index = {c: i for i, c in enumerate(self.chars)}
        return torch.tensor([index.get(c, 0) for c in text], dtype=torch.long)

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        """Text of character ids."""
        return "".join(self.chars[int(i)] for i in ids)


class CharModel(nn.Module):
    """Embedding, one recurrent layer (RNN or LSTM), and a linear layer over the characters."""

    def __init__(self, kind: str, vocab_size: int, hidden: int, embed: int = 32) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.recurrent = {"rnn": nn.RNN, "lstm": nn.LSTM}[kind](embed, hidden, batch_first=True)
        if kind == "lstm":
            set_forget_bias(self.recurrent)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids: torch.Tensor, state: object = None) -> tuple[torch.Tensor, object]:
        """Next-character logits for every position, and the recurrent state at the end."""
        output, state = self.recurrent(self.embed(ids), state)
        return self.head(output), state


def next_char_logits(model: nn.Module, ids: torch.Tensor, state: object = None) -> tuple:
    """Logits (batch, length, vocab) and the state after them, for a recurrent model or a GPT.

    A :class:`CharModel` returns its recurrent state; a GPT has none (``None``), it rereads the
    window instead.
    """
    if isinstance(model, CharModel):
        return model(ids, state)
    return model(ids).logits, None


def train_char_model(
    model: nn.Module,
    ids: torch.Tensor,
    steps: int,
    seq_len: int = 64,
    batch: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    after_step: Callable[[int], None] | None = None,
) -> list[float]:
    """Train on random windows of ``ids`` with Adam; return the loss every 100 steps (nats).

    Args:
        model: A :class:`CharModel` or a :class:`~llmnotes.gpt.GPT`.
        ids: The training text's character ids.
        steps: Optimiser steps.
        seq_len: Characters per window (the model predicts each from those before it).
        batch: Windows per step.
        lr: Adam's learning rate.
        seed: Seeds the choice of windows.
        after_step: Called with the step number after each step (to evaluate along the way).
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, running = [], 0.0
    for step in range(1, steps + 1):
        starts = torch.randint(0, len(ids) - seq_len - 1, (batch,), generator=generator)
        window = torch.stack([ids[s : s + seq_len + 1] for s in starts.tolist()])
        logits, _ = next_char_logits(model, window[:, :-1])
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), window[:, 1:].reshape(-1)
        )
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running += loss.item()
        if step % 100 == 0:
            losses.append(running / 100)
            running = 0.0
        if after_step is not None:
            after_step(step)
    return losses


def bits_per_character(model: nn.Module, ids: torch.Tensor, chunk: int = 256) -> float:
    """Mean cross-entropy of the held-out ``ids`` in bits, read ``chunk`` characters at a time.

    A recurrent model carries its state from chunk to chunk; a GPT starts each chunk afresh
    (``chunk`` must not exceed its context).
    """
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for start in range(0, len(ids) - 1, chunk):
            piece = ids[start : start + chunk + 1]
            if len(piece) < 2:
                break
            logits, state = next_char_logits(model, piece[None, :-1], state)
            total += nn.functional.cross_entropy(logits[0], piece[1:], reduction="sum").item()
            count += len(piece) - 1
    model.train()
    return total / count / math.log(2)


def generate(
    model: CharModel, chars: CharVocabulary, prompt: str, length: int, temperature: float, seed: int
) -> str:
    """Sample ``length`` characters after ``prompt``, one at a time, with a seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    ids = chars.encode(prompt)
    out = list(ids.tolist())
    with torch.no_grad():
        logits, state = model(ids[None])
        for _ in range(length):
            probs = torch.softmax(logits[0, -1] / temperature, dim=-1)
            nxt = int(torch.multinomial(probs, 1, generator=generator))
            out.append(nxt)
            logits, state = model(torch.tensor([[nxt]]), state)
    model.train()
    return chars.decode(out)
