"""Byte-level byte-pair encoding (BPE), trained and applied from scratch.

BPE starts from the 256 possible bytes and repeatedly merges the most frequent adjacent pair of
tokens into a new token (Sennrich et al. 2016). Text is first split into chunks with the GPT-2
pattern (words with their leading space, numbers, punctuation runs, whitespace), and merges never
cross a chunk boundary. Because every byte is in the vocabulary, any string encodes, and decoding
gives it back exactly.

The trainer follows Hugging Face ``tokenizers``' ``BpeTrainer`` closely enough to reproduce its
merges: pair counts are weighted by chunk frequency, and ties between equally frequent pairs go to
the pair with the smaller ids in the library's numbering, where the 256 byte tokens are sorted by
the printable character the byte-level alphabet maps each byte to.

Examples:
    >>> bpe = BPETokenizer.train("low lower lowest", vocab_size=260)
    >>> [bpe.token_bytes(256 + i) for i in range(4)]  # the four merges, in order
    [b'lo', b'low', b' low', b' lowe']
    >>> [bpe.token_bytes(t) for t in bpe.encode("low lowest")]
    [b'low', b' lowe', b's', b't']
    >>> bpe.decode(bpe.encode("héllo 🙂"))
    'héllo 🙂'
"""

from __future__ import annotations

import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path

import regex

#: The GPT-2 pre-tokenization pattern, as used by ``tokenizers.pre_tokenizers.ByteLevel``.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

Pair = tuple[int, int]


@cache
def byte_alphabet() -> dict[int, str]:
    """Map each byte to a printable character (GPT-2's ``bytes_to_unicode``), e.g. space to ``Ġ``.

    Printable Latin-1 bytes map to themselves; the others are shifted to code points from 256 up.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    mapping, shift = {}, 0
    for byte in range(256):
        if byte in printable:
            mapping[byte] = chr(byte)
        else:
            mapping[byte] = chr(256 + shift)
            shift += 1
    return mapping


@cache
def _library_rank() -> tuple[int, ...]:
    """The id ``tokenizers`` gives each byte token: its rank when sorted by mapped character."""
    order = sorted(range(256), key=lambda b: byte_alphabet()[b])
    rank = [0] * 256
    for position, byte in enumerate(order):
        rank[byte] = position
    return tuple(rank)


def pre_tokenize(text: str) -> list[str]:
    """Split text into the chunks BPE merges within (GPT-2 pattern)."""
    return regex.findall(GPT2_PATTERN, text)


def merge(ids: list[int], pair: Pair, new_id: int) -> list[int]:
    """Replace every non-overlapping occurrence of ``pair`` in ``ids``, left to right.

    >>> merge([1, 2, 2, 2, 1, 2], (2, 2), 9)
    [1, 9, 2, 1, 2]
    """
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def pairs_of(ids: list[int]) -> Counter[Pair]:
    """Count adjacent pairs in one chunk (overlapping: ``a a a`` has the pair ``(a, a)`` twice)."""
    return Counter(pairwise(ids))


@dataclass
class BPETokenizer:
    """A byte-level BPE tokenizer: the ordered list of merges it learned.

    Attributes:
        merges: Pairs of token ids in the order they were learned; merge ``i`` makes id ``256 + i``.
    """

    merges: list[Pair] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ranks = {pair: i for i, pair in enumerate(self.merges)}
        self._chunk_cache: dict[bytes, list[int]] = {}
        self.vocab = [bytes([b]) for b in range(256)]
        for a, b in self.merges:
            self.vocab.append(self.vocab[a] + self.vocab[b])

    @property
    def vocab_size(self) -> int:
        """256 byte tokens plus one token per merge."""
        return len(self.vocab)

    # --8<-- [start:train]
    @classmethod
    def train(
        cls, text: str | Iterable[str], vocab_size: int, min_frequency: int = 0
    ) -> BPETokenizer:
        """Learn ``vocab_size - 256`` merges from ``text`` (a string or an iterable of strings).

        Each chunk type is stored once with its count. After a merge only the chunks containing
        the merged pair are updated, and a heap with lazily refreshed counts finds the next pair.

        Args:
            text: The training text.
            vocab_size: The final vocabulary size, at least 256.
            min_frequency: Stop when the most frequent pair occurs fewer times than this.

        Raises:
            ValueError: ``vocab_size`` is below 256.
        """
        if vocab_size < 256:
            raise ValueError(f"vocab_size must be at least 256 (the byte tokens), got {vocab_size}")
        texts = [text] if isinstance(text, str) else text
        chunk_counts = Counter(chunk for t in texts for chunk in pre_tokenize(t))
        words = [list(chunk.encode("utf-8")) for chunk in chunk_counts]
        counts = list(chunk_counts.values())
        pair_counts: Counter[Pair] = Counter()
        where: defaultdict[Pair, set[int]] = defaultdict(set)
        for w, (ids, count) in enumerate(zip(words, counts, strict=True)):
            for pair, n in pairs_of(ids).items():
                pair_counts[pair] += n * count
                where[pair].add(w)
        rank = list(_library_rank())

        def key(pair: Pair) -> tuple[int, int, int, Pair]:
            return (-pair_counts[pair], rank[pair[0]], rank[pair[1]], pair)

        heap = [key(pair) for pair in pair_counts]
        heapq.heapify(heap)
        merges: list[Pair] = []
        while len(merges) < vocab_size - 256 and heap:
            negative, _, _, pair = heapq.heappop(heap)
            if -negative != pair_counts[pair]:  # stale: a fresher entry was pushed when it changed
                continue
            if pair_counts[pair] <= 0 or pair_counts[pair] < min_frequency:
                break
            new_id = 256 + len(merges)
            merges.append(pair)
            rank.append(new_id)
            changed: set[Pair] = set()
            for w in where.pop(pair):
                old = words[w]
                new = merge(old, pair, new_id)
                if new == old:
                    continue
                for p, n in pairs_of(old).items():
                    pair_counts[p] -= n * counts[w]
                    changed.add(p)
                for p, n in pairs_of(new).items():
                    pair_counts[p] += n * counts[w]
                    where[p].add(w)
                    changed.add(p)
                words[w] = new
            for p in changed - {pair}:
                if pair_counts[p] > 0:
                    heapq.heappush(heap, key(p))
            pair_counts[pair] = 0
        return cls(merges)

    # --8<-- [end:train]

    # --8<-- [start:encode_chunk]
    def encode_chunk(self, chunk: bytes) -> list[int]:
        """Encode one chunk: apply the earliest-learned applicable merge until none applies."""
        ids = list(chunk)
        while len(ids) > 1:
            pair = min(pairwise(ids), key=lambda p: self.ranks.get(p, len(self.ranks)))
            if pair not in self.ranks:
                break
            ids = merge(ids, pair, 256 + self.ranks[pair])
        return ids

    # --8<-- [end:encode_chunk]

    def encode(self, text: str) -> list[int]:
        """Encode ``text`` into token ids (each distinct chunk is encoded once, then cached)."""
        ids: list[int] = []
        for chunk in pre_tokenize(text):
            data = chunk.encode("utf-8")
            if data not in self._chunk_cache:
                self._chunk_cache[data] = self.encode_chunk(data)
            ids.extend(self._chunk_cache[data])
        return ids

    def decode(self, ids: Iterable[int], errors: str = "replace") -> str:
        """Decode token ids back into text.

        Args:
            ids: Token ids.
            errors: What to do with byte sequences that are not UTF-8 (a cut through a
                multi-byte character): ``replace`` with U+FFFD, or ``strict`` to raise.

        Raises:
            UnicodeDecodeError: With ``errors="strict"``, the bytes are not valid UTF-8.
            KeyError: An id is not in the vocabulary.
        """
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors=errors)

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes a token stands for."""
        return self.vocab[token_id]

    def token_text(self, token_id: int) -> str:
        """A printable form of a token, in the byte-level alphabet (a space shows as ``Ġ``)."""
        alphabet = byte_alphabet()
        return "".join(alphabet[b] for b in self.vocab[token_id])

    def truncated(self, vocab_size: int) -> BPETokenizer:
        """The tokenizer with only the first ``vocab_size - 256`` merges."""
        return BPETokenizer(self.merges[: max(vocab_size - 256, 0)])

    def save(self, path: Path) -> None:
        """Write the merges as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"merges": self.merges}))

    @classmethod
    def load(cls, path: Path) -> BPETokenizer:
        """Read merges written by :meth:`save`."""
        return cls([tuple(pair) for pair in json.loads(path.read_text())["merges"]])
