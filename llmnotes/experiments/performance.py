"""How the heavy experiments' cost grows, so a reader knows what a bigger run costs.

Two measurements, each on this machine and each in one run: embedding training time against corpus
size (our skip-gram and gensim's, one epoch), and the time of one fine-tuning step of MiniLM
against sequence length. The performance page turns them into projections for larger runs.
"""

from __future__ import annotations

import logging
import statistics
import time
from typing import Any

import numpy as np

from llmnotes.experiments.embeddings import (
    CORPORA,
    stable_hash,
    trained_embeddings,
    training_corpus,
)
from llmnotes.figures import PALETTE, new_figure
from llmnotes.pipeline.experiment import Context, FigureOutput, Result, SpeedRow, experiment
from llmnotes.word2vec import SkipGramConfig, train_skipgram

#: Sentences in SST-2's training split: what one fine-tuning epoch on the full set processes.
SST2_TRAIN_SENTENCES = 67_349


def fitted_rate(sizes: list[float], seconds: list[float]) -> float:
    """Seconds per unit of size, from a least-squares line through the measurements."""
    slope, _ = np.polyfit(np.asarray(sizes, float), np.asarray(seconds, float), 1)
    return float(slope)


def growth_exponent(sizes: list[float], seconds: list[float]) -> float:
    """The k in seconds ∝ size^k, from a line through the log-log measurements."""
    slope, _ = np.polyfit(np.log(sizes), np.log(seconds), 1)
    return float(slope)


@experiment(
    "performance",
    assets={"corpus": CORPORA},
    settings={"fractions": [0.125, 0.25, 0.5, 1.0]},
    speed=(
        SpeedRow(
            "skip-gram cost: ours / gensim (s per million words)",
            "seconds_per_million_words.ours",
            "seconds_per_million_words.gensim",
            fmt=".1f",
        ),
    ),
)
def corpus_scaling(ctx: Context) -> Result:
    """One epoch of skip-gram (ours and gensim's) on growing prefixes of the corpus."""
    import torch
    from gensim.models import Word2Vec

    logging.getLogger("gensim").setLevel(logging.ERROR)
    s = trained_embeddings.settings
    corpus_name, sentences = training_corpus(ctx)
    words, ours, gensim = [], [], []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one core each, as in the embeddings page's race
    config = SkipGramConfig(
        dim=s["dim"], window=s["window"], negatives=s["negatives"], sample=s["sample"],
        epochs=1, seed=ctx.seed,
    )  # fmt: skip
    try:
        train_skipgram(sentences[:200], config, min_count=1)  # warm-up: first-call costs, untimed
        for fraction in ctx.settings["fractions"]:
            part = sentences[: max(1, round(fraction * len(sentences)))]
            start = time.perf_counter()
            Word2Vec(
                part, sg=1, workers=1, seed=ctx.seed, hashfxn=stable_hash, epochs=1,
                vector_size=s["dim"], window=s["window"], min_count=s["min_count"],
                negative=s["negatives"], sample=s["sample"],
            )  # fmt: skip
            gensim.append(time.perf_counter() - start)
            start = time.perf_counter()
            train_skipgram(part, config, min_count=s["min_count"])
            ours.append(time.perf_counter() - start)
            words.append(sum(len(sentence) for sentence in part))
    finally:
        torch.set_num_threads(threads)
    fig, ax = new_figure(figsize=(6.4, 3.6))
    ax.plot(words, ours, marker="o", color=PALETTE[0], label="ours (PyTorch)")
    ax.plot(words, gensim, marker="o", color=PALETTE[1], label="gensim (C)")
    ax.set_xlabel("words in the corpus")
    ax.set_ylabel("seconds for one epoch")
    ax.set_title(f"Skip-gram training time against corpus size ({corpus_name})")
    ax.legend(fontsize=9)
    per_million = {
        "ours": 1e6 * fitted_rate(words, ours),
        "gensim": 1e6 * fitted_rate(words, gensim),
    }
    return Result(
        {
            "corpus": corpus_name,
            "words": words,
            "seconds": {"ours": ours, "gensim": gensim},
            "seconds_per_million_words": per_million,
            "growth_exponent": {
                "ours": growth_exponent(words, ours),
                "gensim": growth_exponent(words, gensim),
            },
            "wikipedia_100m_words_hours": {k: 100 * v / 3600 for k, v in per_million.items()},
        },
        {
            "scaling": FigureOutput(
                fig, "Line chart of one skip-gram epoch's seconds against corpus size"
            )
        },
    )


def training_step_seconds(model: Any, batch: dict[str, Any], repeats: int) -> float:
    """Median seconds of one optimiser step (forward, backward, AdamW) on ``batch``."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    times = []
    for step in range(repeats + 1):  # the first step allocates the optimiser state: untimed
        start = time.perf_counter()
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


@experiment(
    "performance",
    assets={"model": ("minilm",)},
    settings={"lengths": [32, 64, 128, 256], "batch_size": 16, "repeats": 3},
    speed=(
        SpeedRow(
            "fine-tuning at 64 / 256 tokens (ms per sample)",
            "seconds_per_sample.1",
            "seconds_per_sample.3",
            scale=1000,
            fmt=".1f",
        ),
    ),
)
def sequence_scaling(ctx: Context) -> Result:
    """Seconds per fine-tuning sample of MiniLM at growing sequence lengths (random tokens)."""
    import torch

    from llmnotes.finetune import load_model_and_tokenizer

    s = ctx.settings
    model, tokenizer = load_model_and_tokenizer(ctx.assets["model"].path, ["neg", "pos"])
    model.train()
    generator = torch.Generator().manual_seed(ctx.seed)
    per_sample = []
    for length in s["lengths"]:
        ids = torch.randint(
            1000, tokenizer.vocab_size, (s["batch_size"], length), generator=generator
        )
        batch = {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "labels": torch.randint(0, 2, (s["batch_size"],), generator=generator),
        }
        per_sample.append(training_step_seconds(model, batch, s["repeats"]) / s["batch_size"])
    fig, ax = new_figure(figsize=(6.4, 3.6))
    ax.plot(s["lengths"], [1000 * t for t in per_sample], marker="o", color=PALETTE[0])
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length (tokens)")
    ax.set_ylabel("ms per training sample")
    ax.set_title("One MiniLM fine-tuning step, per sample")
    epoch_minutes = [SST2_TRAIN_SENTENCES * t / 60 for t in per_sample]
    return Result(
        {
            "lengths": s["lengths"],
            "seconds_per_sample": per_sample,
            "growth_exponent": growth_exponent(s["lengths"], per_sample),
            "sst2_epoch_minutes": epoch_minutes,
            "sst2_train_sentences": SST2_TRAIN_SENTENCES,
        },
        {
            "scaling": FigureOutput(
                fig, "Log-log line chart of fine-tuning milliseconds per sample against length"
            )
        },
    )
