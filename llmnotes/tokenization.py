"""Tokenization the library way: NLTK word tokens and the Hugging Face WordPiece tokenizer.

The from-scratch tokenizers live in :mod:`llmnotes.bpe` and :mod:`llmnotes.wordpiece`; the
tokenization page's experiments in :mod:`llmnotes.experiments.tokenization`.

Examples:
    >>> word_tokens("I love learning about LLMs")
    ['I', 'love', 'learning', 'about', 'LLMs']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


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
