"""BERT's WordPiece tokenizer, from scratch: normalisation, pre-tokenization, greedy longest match.

Encoding runs in three steps, as in the original BERT code and Hugging Face's fast tokenizer:

1. **Normalise**: drop control characters, turn every whitespace into a space, put spaces around
   CJK ideographs, lower-case, and strip accents (decompose, drop the combining marks).
2. **Pre-tokenize**: split on whitespace and on every punctuation character.
3. **WordPiece**: split each word greedily into the longest vocabulary entries, left to right; a
   piece that continues a word is looked up with a ``##`` prefix. A word with any part that no
   entry covers, or longer than 100 characters, becomes ``[UNK]``.

Examples:
    >>> vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "ll": 3, "##ms": 4, "power": 5}
    >>> WordPiece(vocab).tokenize("Power LLMs!")
    ['power', 'll', '##ms', '[UNK]']
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

#: Code-point ranges of CJK ideographs, each of which BERT treats as a word of its own.
CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def load_vocab(path: str | Path) -> dict[str, int]:
    """Read a BERT ``vocab.txt`` (one token a line; the line number is the id).

    Args:
        path: The file, or a model folder that holds ``vocab.txt``.

    Raises:
        FileNotFoundError: There is no ``vocab.txt`` there (``save_pretrained`` in transformers 5
            writes ``tokenizer.json`` instead; its ``model.vocab`` holds the same mapping).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "vocab.txt"
    if not path.is_file():
        raise FileNotFoundError(f"no vocab.txt at {path}")
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return {token: i for i, token in enumerate(lines)}


def is_whitespace(char: str) -> bool:
    """Space, tab, newline, carriage return, or any Unicode space separator (category Zs)."""
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def is_control(char: str) -> bool:
    """A control or other non-printing character (category C*), except tab, newline, return."""
    return char not in "\t\n\r" and unicodedata.category(char).startswith("C")


def is_punctuation(char: str) -> bool:
    """ASCII symbols and punctuation (``$``, ``+``, ``^`` … count) or Unicode punctuation (P*)."""
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def is_cjk(char: str) -> bool:
    """Whether ``char`` is a CJK ideograph."""
    cp = ord(char)
    return any(low <= cp <= high for low, high in CJK_RANGES)


def strip_accents(text: str) -> str:
    """Decompose (NFD) and drop the combining marks: ``café`` becomes ``cafe``."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def normalize(text: str, lowercase: bool = True) -> str:
    """Clean, space out CJK ideographs, lower-case and strip accents (the last two if asked)."""
    out = []
    for char in text:
        if char in "\x00\ufffd" or is_control(char):
            continue
        if is_whitespace(char):
            out.append(" ")
        elif is_cjk(char):
            out.append(f" {char} ")
        else:
            out.append(char)
    cleaned = "".join(out)
    if not lowercase:
        return cleaned
    # Character by character, as the fast tokenizer does: str.lower() on the whole string would
    # turn a word-final capital sigma into "ς" where the library gives "σ".
    return "".join(char.lower() for char in strip_accents(cleaned))


def pre_tokenize(text: str) -> list[str]:
    """Split normalised text on whitespace, and around every punctuation character."""
    words: list[str] = []
    for chunk in text.split():
        current = ""
        for char in chunk:
            if is_punctuation(char):
                if current:
                    words.append(current)
                words.append(char)
                current = ""
            else:
                current += char
        if current:
            words.append(current)
    return words


class WordPiece:
    """A WordPiece tokenizer over a fixed vocabulary.

    Args:
        vocab: Token to id.
        lowercase: Lower-case and strip accents (the ``uncased`` models).
        unk_token: The token for words the vocabulary cannot cover.
        max_chars_per_word: Longer words become ``unk_token`` without being split.
    """

    def __init__(
        self,
        vocab: Mapping[str, int],
        lowercase: bool = True,
        unk_token: str = "[UNK]",
        max_chars_per_word: int = 100,
    ) -> None:
        self.vocab = dict(vocab)
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}
        self.lowercase = lowercase
        self.unk_token = unk_token
        self.max_chars_per_word = max_chars_per_word

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: object) -> WordPiece:
        """Load the vocabulary from a ``vocab.txt`` or a folder holding one."""
        return cls(load_vocab(path), **kwargs)  # type: ignore[arg-type]

    # --8<-- [start:split_word]
    def split_word(self, word: str) -> list[str]:
        """Split one word greedily into the longest vocabulary pieces (``##``: a continuation)."""
        if len(word) > self.max_chars_per_word:
            return [self.unk_token]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            else:
                return [self.unk_token]  # no piece fits at this position: the whole word is unknown
            pieces.append(piece)
            start = end
        return pieces

    # --8<-- [end:split_word]

    def tokenize(self, text: str) -> list[str]:
        """Normalise, pre-tokenize and split ``text`` into WordPiece tokens (no special tokens)."""
        words = pre_tokenize(normalize(text, self.lowercase))
        return [piece for word in words for piece in self.split_word(word)]

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """Token ids of ``text``, wrapped in ``[CLS]`` … ``[SEP]`` unless told otherwise."""
        ids = [self.vocab[t] for t in self.tokenize(text)]
        if add_special_tokens:
            ids = [self.vocab["[CLS]"], *ids, self.vocab["[SEP]"]]
        return ids

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Join tokens back into text, gluing ``##`` pieces to the piece before them.

        The normalisation cannot be undone: case and accents are gone, and punctuation comes back
        separated by spaces (``"ll ##ms !"`` decodes to ``"llms !"``).
        """
        tokens = [self.ids_to_tokens[i] for i in ids]
        if skip_special_tokens:
            tokens = [
                t for t in tokens if not (t.startswith("[") and t.endswith("]") and t != "[UNK]")
            ]
        return " ".join(tokens).replace(" ##", "")
