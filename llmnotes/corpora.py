"""Real text corpora the experiments run on, read from resolved assets.

Examples:
    >>> from llmnotes.assets import resolve
    >>> lines = pang_lee_sentences(resolve("gensim-test-data", offline=True).path)
    >>> len(lines), lines[0]
    (200, 'simplistic , silly and tedious .')
"""

from __future__ import annotations

from pathlib import Path


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
