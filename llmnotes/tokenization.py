"""Tokenization: how text becomes tokens and token ids.

This module starts with the week-1 applications (NLTK word tokens and BERT WordPiece tokens); the
tokenization topic grows it with tokenizers built from scratch.

Example:
    >>> word_tokens("I love learning about LLMs")
    ['I', 'love', 'learning', 'about', 'LLMs']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmnotes import week1
from llmnotes.experiments import Context, FigureOutput, Result, experiment
from llmnotes.figures import new_figure


def word_tokens(text: str) -> list[str]:
    """Split ``text`` into words and punctuation with NLTK's Treebank-style tokenizer.

    ``preserve_line=True`` skips the punkt sentence splitter, whose data ``nltk.word_tokenize``
    would otherwise need to download; within one sentence the tokens are the same.
    """
    from nltk.tokenize import word_tokenize

    return word_tokenize(text, preserve_line=True)


def load_tokenizer(path: str | Path) -> Any:
    """Load a Hugging Face tokenizer from a local model folder."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path))


def wordpiece_encoding(tokenizer: Any, text: str) -> dict[str, list[Any]]:
    """Encode ``text`` and return its ids, tokens (special tokens included) and attention mask."""
    encoded = tokenizer(text)
    return {
        "ids": list(encoded["input_ids"]),
        "tokens": tokenizer.convert_ids_to_tokens(encoded["input_ids"]),
        "attention_mask": list(encoded["attention_mask"]),
    }


def granularity_counts(tokenizer: Any, text: str) -> dict[str, int]:
    """Count the tokens of ``text`` at four granularities: bytes, characters, subwords, words."""
    return {
        "UTF-8 bytes": len(text.encode("utf-8")),
        "characters": len(text),
        "WordPiece subwords": len(tokenizer.tokenize(text)),
        "words (NLTK)": len(word_tokens(text)),
    }


def plot_granularity(counts: dict[str, dict[str, int]]) -> Any:
    """Bar chart of token counts per granularity, one group of bars per sentence."""
    fig, ax = new_figure(figsize=(7.0, 3.2))
    sentences = list(counts)
    levels = list(counts[sentences[0]])
    width = 0.8 / len(sentences)
    for i, sentence in enumerate(sentences):
        xs = [j + (i - (len(sentences) - 1) / 2) * width for j in range(len(levels))]
        bars = ax.bar(xs, [counts[sentence][lvl] for lvl in levels], width, label=f"“{sentence}”")
        ax.bar_label(bars, padding=2, fontsize=9)
    ax.set_xticks(range(len(levels)), levels)
    ax.set_ylabel("tokens")
    ax.set_title("The same sentence, four granularities")
    ax.legend(loc="upper right")
    ax.grid(axis="x", visible=False)
    return fig


@experiment("tokenization")
def week1_word_tokens(ctx: Context) -> Result:
    """Reproduce the week-1 NLTK word tokenization."""
    tokens = word_tokens(week1.NLTK_SENTENCE)
    return Result(
        {"sentence": week1.NLTK_SENTENCE, "tokens": tokens, "matches": tokens == week1.NLTK_TOKENS}
    )


# --8<-- [start:week1_wordpiece]
@experiment("tokenization", assets={"tokenizer": ("bert-base-uncased", "minilm")})
def week1_wordpiece(ctx: Context) -> Result:
    """Reproduce the week-1 WordPiece tokenization and count tokens per granularity."""
    tokenizer = load_tokenizer(ctx.assets["tokenizer"].path)
    encoding = wordpiece_encoding(tokenizer, week1.BERT_SENTENCE)
    tokens = encoding["tokens"][1:-1]  # without [CLS] and [SEP]
    sentences = (week1.NLTK_SENTENCE, week1.BERT_SENTENCE)
    counts = {s: granularity_counts(tokenizer, s) for s in sentences}
    values = {
        "sentence": week1.BERT_SENTENCE,
        "tokens": tokens,
        "ids": encoding["ids"],
        "matches": tokens == week1.BERT_TOKENS,
        "vocab_size": len(tokenizer),
        "granularity_counts": counts,
    }
    alt = (
        "Grouped bar chart of token counts of the two week-1 sentences as UTF-8 bytes, "
        "characters, WordPiece subwords and NLTK words"
    )
    return Result(values, {"granularity": FigureOutput(plot_granularity(counts), alt)})


# --8<-- [end:week1_wordpiece]
