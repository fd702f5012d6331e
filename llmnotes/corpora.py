"""Real text corpora the experiments run on, read from the folders their assets resolve to.

:func:`split_corpus` is the one place that decides what a corpus asset means as text to learn
from and text held out to measure on; :func:`alphabetic_words` the one word filter.

Examples:
    >>> from gensim.test.utils import datapath
    >>> lines = pang_lee_sentences(Path(datapath("")))
    >>> len(lines), lines[0]
    (200, 'simplistic , silly and tedious .')
    >>> alphabetic_words(["The <unk> cat @-@ sat 3 times"])
    ['The', 'cat', 'sat', 'times']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

#: The corpus assets, most preferred first: WikiText-2, else the texts gensim ships.
CORPORA = ("wikitext2", "gensim-test-data")


def read_text(path: Path) -> str:
    """Read a text file as UTF-8, falling back to Windows-1252 (older corpora use it).

    Raises:
        FileNotFoundError: The file does not exist.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def pang_lee_sentences(gensim_test_data: Path) -> list[str]:
    """The 200 labelled movie-review sentences gensim ships, without their fastText labels."""
    lines = read_text(gensim_test_data / "pang_lee_polarity.cor").splitlines()
    return [
        line.split(" ", 1)[1].strip() if line.startswith("__label__") else line for line in lines
    ]


def lee_background(gensim_test_data: Path) -> list[str]:
    """The 300 news texts of gensim's Lee background corpus, one a line."""
    return [
        line for line in read_text(gensim_test_data / "lee_background.cor").splitlines() if line
    ]


def wikitext2(folder: Path, split: str = "valid") -> list[str]:
    """The non-empty lines (paragraphs and headings) of a WikiText-2 split.

    Args:
        folder: A folder with ``wiki.<split>.tokens`` (the original release, as in the shared
            data folder), or a download of the hub data set ``Salesforce/wikitext``.
        split: ``valid`` or ``test``.

    Raises:
        FileNotFoundError: The folder has neither form of the split.
    """
    path = folder / f"wiki.{split}.tokens"
    if path.is_file():
        lines = read_text(path).splitlines()
    else:
        hub_split = {"valid": "validation"}.get(split, split)
        parquet = sorted(folder.glob(f"wikitext-2-v1/{hub_split}-*.parquet"))
        if not parquet:
            raise FileNotFoundError(
                f"{folder} has no wiki.{split}.tokens nor a hub {hub_split} split"
            )
        import pyarrow.parquet as pq

        lines = [line for p in parquet for line in pq.read_table(p)["text"].to_pylist()]
    return [line.strip() for line in lines if line.strip()]


def alphabetic_words(lines: list[str], lower: bool = False) -> list[str]:
    """The alphabetic words of ``lines`` (so ``<unk>``, numbers and ``@-@`` are left out)."""
    return [w.lower() if lower else w for line in lines for w in line.split() if w.isalpha()]


@dataclass(frozen=True)
class Corpus:
    """A corpus split for an experiment: text to learn from and held-out text to measure on.

    Attributes:
        name: What the split is called on a page.
        train: The lines to learn from.
        held_out: The lines to measure on.
        whole: What both parts together are called (for experiments that learn from all of it).
    """

    name: str
    train: list[str]
    held_out: list[str]
    whole: str = ""


class Located(Protocol):
    """An asset found on disk: its name and its folder (a resolved asset of the pipeline)."""

    asset: str
    path: Path


def split_corpus(corpus: Located) -> Corpus:
    """The lines of a corpus asset, split into training and held-out text.

    Args:
        corpus: A resolved ``wikitext2`` (learn on the validation part, measure on the test
            part) or ``gensim-test-data`` (learn on the Lee news texts, measure on the Pang-Lee
            reviews).

    Raises:
        ValueError: The asset is not one of :data:`CORPORA`.
    """
    asset, folder = corpus.asset, corpus.path
    if asset == "wikitext2":
        return Corpus(
            "WikiText-2",
            wikitext2(folder, "valid"),
            wikitext2(folder, "test"),
            "WikiText-2 (validation + test)",
        )
    if asset == "gensim-test-data":
        return Corpus(
            "gensim Lee news (held out: Pang-Lee reviews)",
            lee_background(folder),
            pang_lee_sentences(folder),
            "gensim Lee news + Pang-Lee reviews",
        )
    raise ValueError(f"{asset!r} is not a corpus; corpora: {', '.join(CORPORA)}")
