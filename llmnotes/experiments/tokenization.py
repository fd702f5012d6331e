"""The tokenization page's experiments: the week-1 tokens, BPE vocabulary sizes, WordPiece.

The tokenizers themselves are teaching code: :mod:`llmnotes.tokenization` (the library way),
:mod:`llmnotes.bpe` and :mod:`llmnotes.wordpiece` (from scratch).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from llmnotes import week1
from llmnotes.bpe import BPETokenizer
from llmnotes.corpora import CORPORA, alphabetic_words, split_corpus
from llmnotes.figures import new_figure
from llmnotes.pipeline.experiment import Context, FigureOutput, Result, SpeedRow, experiment
from llmnotes.timing import fastest
from llmnotes.tokenization import (
    granularity_counts,
    load_tokenizer,
    word_tokens,
    wordpiece_encoding,
)
from llmnotes.wordpiece import WordPiece, normalize

#: The BERT tokenizer and its offline stand-in, most preferred first.
BERT_TOKENIZERS = ("bert-base-uncased", "minilm")

#: Vocabulary sizes of the BPE sweep: the 256 bytes, then doubling.
BPE_SIZES = [256, 512, 1024, 2048, 4096, 8192]


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
@experiment("tokenization", assets={"tokenizer": BERT_TOKENIZERS})
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


@experiment("tokenization", assets={"corpus": CORPORA})
def bpe_vocab_sweep(ctx: Context) -> Result:
    """Train byte-level BPE once, then measure held-out tokens per word and per character."""
    corpus = split_corpus(ctx.assets["corpus"])
    bpe = BPETokenizer.train(corpus.train, vocab_size=max(BPE_SIZES))
    text = "\n".join(corpus.held_out)
    words, chars = len(text.split()), len(text)
    sizes, per_word, per_char = [], [], []
    for size in ctx.progress(BPE_SIZES, desc="BPE sizes"):
        if size > bpe.vocab_size:
            break
        n_tokens = len(bpe.truncated(size).encode(text))
        sizes.append(size)
        per_word.append(n_tokens / words)
        per_char.append(n_tokens / chars)
    values = {
        "corpus": corpus.name,
        "train_lines": len(corpus.train),
        "held_out_words": words,
        "held_out_chars": chars,
        "vocab_sizes": sizes,
        "tokens_per_word": per_word,
        "tokens_per_char": per_char,
        "first_merges": [f"{bpe.token_text(a)} + {bpe.token_text(b)}" for a, b in bpe.merges[:10]],
    }
    alt = "Two line charts: held-out tokens per word and per character fall as the vocabulary grows"
    return Result(values, {"sweep": FigureOutput(plot_bpe_sweep(sizes, per_word, per_char), alt)})


def plot_bpe_sweep(sizes: list[int], per_word: list[float], per_char: list[float]) -> Any:
    """Tokens per word and per character against vocabulary size (log scale)."""
    fig, (left, right) = new_figure(1, 2, figsize=(8.0, 3.2))
    for ax, ys, label in (
        (left, per_word, "tokens per word"),
        (right, per_char, "tokens per character"),
    ):
        ax.plot(sizes, ys, marker="o")
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [f"{s:,}" for s in sizes], rotation=30)
        ax.set_xlabel("vocabulary size")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
    fig.suptitle("Byte-level BPE: a bigger vocabulary, shorter sequences", fontweight="bold")
    return fig


@experiment(
    "tokenization",
    assets={
        "corpus": CORPORA,
        "tokenizer": BERT_TOKENIZERS,
    },
)
def wordpiece_splits(ctx: Context) -> Result:
    """How often BERT's WordPiece splits a word, overall and by how frequent the word is."""
    wordpiece = WordPiece.from_file(ctx.assets["tokenizer"].path)
    counts = Counter(
        normalize(w) for w in alphabetic_words(split_corpus(ctx.assets["corpus"]).held_out)
    )
    split = {w: wordpiece.split_word(w) for w in counts}
    pieces = {w: len(p) for w, p in split.items()}
    unknown = {w for w, p in split.items() if p == [wordpiece.unk_token]}
    running = sum(counts.values())
    histogram = Counter()
    for word, n in counts.items():
        histogram[min(pieces[word], 4)] += n
    buckets = [("top 1,000", 0, 1000), ("1,000–10,000", 1000, 10000), ("rarer", 10000, None)]
    ranked = [w for w, _ in counts.most_common()]
    rank_labels, by_rank = [], []
    for label, low, high in buckets:
        group = ranked[low:high]
        if group:
            rank_labels.append(label)
            total = sum(counts[w] for w in group)
            by_rank.append(sum(counts[w] for w in group if pieces[w] > 1) / total)
    values = {
        "running_words": running,
        "word_types": len(counts),
        "split_fraction": sum(n for w, n in counts.items() if pieces[w] > 1) / running,
        "split_fraction_types": sum(pieces[w] > 1 for w in counts) / len(counts),
        "unk_fraction": sum(counts[w] for w in unknown) / running,
        "pieces_per_word": sum(pieces[w] * n for w, n in counts.items()) / running,
        "pieces_histogram": {
            str(k) if k < 4 else "4+": v / running for k, v in sorted(histogram.items())
        },
        "rank_buckets": rank_labels,
        "split_fraction_by_rank": by_rank,
        "most_frequent_split": [f"{w} → {' '.join(split[w])}" for w in ranked if pieces[w] > 1][:8],
    }
    alt = (
        "Two bar charts: the share of words cut into 1, 2, 3 or 4+ pieces, "
        "and the split rate by word frequency"
    )
    return Result(values, {"splits": FigureOutput(plot_splits(values), alt)})


def plot_splits(values: dict[str, Any]) -> Any:
    """Pieces-per-word distribution and split rate by frequency rank."""
    fig, (left, right) = new_figure(1, 2, figsize=(8.0, 3.2))
    hist = values["pieces_histogram"]
    bars = left.bar(list(hist), [100 * v for v in hist.values()])
    left.bar_label(bars, fmt="%.1f%%", padding=2, fontsize=9)
    left.set_xlabel("WordPiece pieces per word")
    left.set_ylabel("% of running words")
    by_rank = [100 * v for v in values["split_fraction_by_rank"]]
    bars = right.bar(values["rank_buckets"], by_rank, color="#E69F00")
    right.bar_label(bars, fmt="%.1f%%", padding=2, fontsize=9)
    right.set_xlabel("word frequency rank in the corpus")
    right.set_ylabel("% split into 2+ pieces")
    for ax in (left, right):
        ax.grid(axis="x", visible=False)
    fig.suptitle("Frequent words stay whole; rare words are split", fontweight="bold")
    return fig


@experiment("tokenization", assets={"corpus": CORPORA, "tokenizer": BERT_TOKENIZERS})
def wordpiece_parity(ctx: Context) -> Result:
    """Encode every line of the corpus with the from-scratch and the fast tokenizer; compare ids."""
    corpus = split_corpus(ctx.assets["corpus"])
    lines = corpus.train + corpus.held_out
    ours = WordPiece.from_file(ctx.assets["tokenizer"].path)
    fast = load_tokenizer(ctx.assets["tokenizer"].path)
    fast.model_max_length = 10**9  # long paragraphs: we compare ids, we do not run a model
    fast_ids = fast(lines)["input_ids"]
    mismatched = [
        line for line, ids in zip(lines, fast_ids, strict=True) if ours.encode(line) != ids
    ]
    return Result(
        {
            "corpus": corpus.name,
            "lines": len(lines),
            "tokens": sum(len(ids) for ids in fast_ids),
            "identical_lines": len(lines) - len(mismatched),
            "first_mismatches": mismatched[:5],
        }
    )


@experiment(
    "tokenization",
    assets={
        "corpus": CORPORA,
        "tokenizer": BERT_TOKENIZERS,
    },
    settings={"lines": 2000, "repeats": 3},
    speed=(
        SpeedRow(
            "WordPiece: ours / Rust tokenizer (tokens/s)",
            "ours_tokens_per_s",
            "fast_single_tokens_per_s",
            fmt=",.0f",
        ),
    ),
)
def wordpiece_throughput(ctx: Context) -> Result:
    """Tokens per second of the from-scratch WordPiece encoder and the Rust fast tokenizer."""
    lines = split_corpus(ctx.assets["corpus"]).held_out[: ctx.settings["lines"]]
    ours = WordPiece.from_file(ctx.assets["tokenizer"].path)
    fast = load_tokenizer(ctx.assets["tokenizer"].path)
    fast.model_max_length = 10**9  # long paragraphs: we count tokens, we do not run a model

    repeats = ctx.settings["repeats"]
    ours_s, ours_ids = fastest(lambda: [ours.encode(line) for line in lines], repeats, warmup=False)
    batch_s, fast_ids = fastest(lambda: fast(lines)["input_ids"], repeats, warmup=False)
    single_s, _ = fastest(
        lambda: [fast(line)["input_ids"] for line in lines], repeats, warmup=False
    )
    n_tokens = sum(len(ids) for ids in fast_ids)
    return Result(
        {
            "lines": len(lines),
            "tokens": n_tokens,
            "identical_lines": sum(a == b for a, b in zip(ours_ids, fast_ids, strict=True)),
            "ours_tokens_per_s": n_tokens / ours_s,
            "fast_batch_tokens_per_s": n_tokens / batch_s,
            "fast_single_tokens_per_s": n_tokens / single_s,
            "batch_speedup": ours_s / batch_s,
            "single_speedup": ours_s / single_s,
        }
    )
