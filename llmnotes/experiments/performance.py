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


def power_law_seconds(sizes: list[float], seconds: list[float], size: float) -> float:
    """Seconds at ``size``, extrapolated along the fitted power law seconds = a · size^k."""
    slope, intercept = np.polyfit(np.log(sizes), np.log(seconds), 1)
    return float(np.exp(intercept + slope * np.log(size)))


@experiment(
    "performance",
    assets={"corpus": CORPORA},
    settings={"fractions": [0.125, 0.25, 0.5, 1.0], "extrapolate_words": 100_000_000},
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
            "extrapolated_hours": {
                name: power_law_seconds(words, times, ctx.settings["extrapolate_words"]) / 3600
                for name, times in (("ours", ours), ("gensim", gensim))
            },
        },
        {
            "scaling": FigureOutput(
                fig, "Line chart of one skip-gram epoch's seconds against corpus size"
            )
        },
    )


def set_attention_dropout(model: Any, p: float) -> float:
    """Set the dropout on the attention weights of a BERT-style model; return the old rate."""
    old = model.config.attention_probs_dropout_prob
    for module in model.modules():
        if type(module).__name__.endswith("SelfAttention"):
            module.dropout.p = p
    return float(old)


def flops_per_sample(config: Any, length: int) -> float:
    """Training arithmetic of one sequence of a BERT-style encoder (forward and backward).

    Six operations per weight per token (Kaplan et al., 2020), plus the attention scores and
    their weighted sum: 2 × 2 × length² × width per layer forward, three times that in all.
    """
    d, layers = config.hidden_size, config.num_hidden_layers
    weights = layers * (4 * d * d + 2 * d * config.intermediate_size)
    return 6 * weights * length + 12 * layers * length**2 * d


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
    batches = []
    for length in s["lengths"]:
        ids = torch.randint(
            1000, tokenizer.vocab_size, (s["batch_size"], length), generator=generator
        )
        labels = torch.randint(0, 2, (s["batch_size"],), generator=generator)
        batches.append({"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels})
    per_sample = [training_step_seconds(model, b, s["repeats"]) / s["batch_size"] for b in batches]
    # Dropout on the attention weights sends PyTorch to its unfused attention, which builds the
    # T × T weights and a T × T random mask; without it the fused kernel runs.
    attention_dropout = set_attention_dropout(model, 0.0)
    without = [training_step_seconds(model, b, s["repeats"]) / s["batch_size"] for b in batches]
    fig, ax = new_figure(figsize=(6.4, 3.6))
    for colour, times, label in (
        (
            PALETTE[0],
            per_sample,
            f"attention dropout {attention_dropout:g} (MiniLM's training default)",
        ),
        (PALETTE[1], without, "no attention dropout: the fused kernel"),
    ):
        ax.plot(s["lengths"], [1000 * t for t in times], marker="o", color=colour, label=label)
    ax.legend(fontsize=9)
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
            "attention_dropout": attention_dropout,
            "seconds_per_sample_no_attention_dropout": without,
            "growth_last_doubling": per_sample[-1] / per_sample[-2],
            "growth_last_doubling_no_attention_dropout": without[-1] / without[-2],
            "flops_last_doubling": flops_per_sample(model.config, s["lengths"][-1])
            / flops_per_sample(model.config, s["lengths"][-2]),
        },
        {
            "scaling": FigureOutput(
                fig,
                "Log-log line chart of fine-tuning milliseconds per sample against length, with "
                "and without dropout on the attention weights",
            )
        },
    )


def plain_loop_samples_per_second(model_path: Any, data: Any, config: Any) -> float:
    """One epoch of a hand-written fp32 PyTorch loop (AdamW, dynamic padding); samples/s."""
    import torch
    from transformers import DataCollatorWithPadding

    from llmnotes.finetune import EncodedTexts, load_model_and_tokenizer

    torch.manual_seed(config.seed)
    model, tokenizer = load_model_and_tokenizer(model_path, data.label_names)
    loader = torch.utils.data.DataLoader(
        EncodedTexts(tokenizer, data, config.max_length),
        batch_size=config.batch_size,
        shuffle=True,
        collate_fn=DataCollatorWithPadding(tokenizer),
    )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    model.train()
    start = time.perf_counter()
    for batch in loader:
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return len(data) / (time.perf_counter() - start)


#: The variants timed side by side, as changes to :class:`~llmnotes.finetune.FinetuneConfig`'s
#: defaults (``threads``: torch's thread count). ``fp32`` is the site's earlier default.
SPEED_VARIANTS: dict[str, dict[str, Any]] = {
    "fp32": {"precision": "fp32", "group_by_length": False, "fused_adamw": False},
    "fp32_grouped": {"precision": "fp32", "fused_adamw": False},
    "bf16": {"precision": "bf16", "group_by_length": False, "fused_adamw": False},
    "bf16_grouped": {"precision": "bf16", "fused_adamw": False},
    "default": {},
    "default_one_thread": {"threads": 1},
}
#: Timed on a few steps only, compilation included, with no accuracy (see the page).
COMPILED_VARIANT = {"compile": True}
#: The default should train at least this many times as fast as the earlier default (fp32).
SPEED_GOAL = 2.0


def timed_finetune(model: Any, train: Any, test: Any, config: Any, threads: int | None) -> dict:
    """One epoch of :func:`~llmnotes.finetune.finetune` on ``train``, tested on ``test``."""
    import tempfile
    from pathlib import Path

    import torch

    from llmnotes.finetune import finetune

    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # One epoch: nothing is chosen on the evaluation set, so it can be the test set.
            return finetune(model, train, test, Path(tmp), config)
    finally:
        torch.set_num_threads(before)


@experiment(
    "performance",
    assets={"data": ("sst2",), "model": ("minilm",)},
    settings={
        "examples": 2560,
        "batch_size": 32,
        "max_length": 64,
        "compile_examples": 192,
        "matmul_size": 2048,
    },
    speed=(
        SpeedRow(
            "fine-tuning: default / fp32 shuffled (samples/s; goal ≥ 2×)",
            "samples_per_second.default",
            "samples_per_second.fp32",
            fmt=".1f",
        ),
        SpeedRow(
            "Trainer fp32 / plain loop (samples/s; goal ≥ 0.90×)",
            "samples_per_second.fp32",
            "samples_per_second.plain_loop",
            fmt=".1f",
        ),
    ),
)
def finetune_speed(ctx: Context) -> Result:
    """Fine-tuning MiniLM on SST-2: samples/s and test accuracy of each speed setting, one run.

    Each variant trains one epoch on the same sentences with the same seed and is tested on
    SST-2's test split; samples/s counts the training epoch only. Beside them: a plain PyTorch
    loop, ``torch.compile`` on a few steps, the padding share of shuffled and grouped batches,
    and the measured fp32 and bf16 matrix-product peaks the arithmetic rates are compared with.
    """
    import torch

    from llmnotes.classification_data import sst2_splits, stratified_split
    from llmnotes.finetune import FinetuneConfig, load_model_and_tokenizer, padding_share
    from llmnotes.hardware import cpu_info, peak_flops, training_flops_per_sample
    from llmnotes.precision import BF16_MIN_SPEEDUP, cpu_bf16_flags, matmul_flops

    s = ctx.settings
    splits = sst2_splits(ctx.assets["data"].path)
    train_all, test = splits["train"], splits["test"]
    _, train = stratified_split(train_all, s["examples"] / len(train_all), ctx.seed)
    model = ctx.assets["model"].path
    base = {"batch_size": s["batch_size"], "max_length": s["max_length"], "seed": ctx.seed,
            "epochs": 1, "progress": False}  # fmt: skip
    rates, accuracy, precision = {}, {}, {}
    for name, change in ctx.progress(list(SPEED_VARIANTS.items()), desc="variants"):
        change = dict(change)
        threads = change.pop("threads", None)
        metrics = timed_finetune(model, train, test, FinetuneConfig(**base, **change), threads)
        rates[name] = metrics["train_samples_per_second"]
        accuracy[name] = metrics["validation_accuracy"]
        precision[name] = metrics["precision"]
    rates["plain_loop"] = plain_loop_samples_per_second(
        model, train, FinetuneConfig(**base, precision="fp32")
    )
    compiled = None
    if s["compile_examples"]:
        few = train.subset(list(range(s["compile_examples"])))
        config = FinetuneConfig(**base, **COMPILED_VARIANT)
        compiled = timed_finetune(model, few, test.subset(list(range(32))), config, None)
        rates["default_compiled"] = compiled["train_samples_per_second"]
    classifier, tokenizer = load_model_and_tokenizer(model, train.label_names)
    # Embedding lookups do no multiply-adds, so the 6-per-parameter rule counts the rest only.
    weights = sum(
        p.numel() for name, p in classifier.named_parameters() if ".embeddings." not in name
    )
    lengths = [len(ids) for ids in tokenizer(train.texts, truncation=True,
                                             max_length=s["max_length"])["input_ids"]]  # fmt: skip
    mean_tokens = statistics.mean(lengths)
    peaks = {
        "fp32": matmul_flops(torch.float32, s["matmul_size"]),
        "bf16": matmul_flops(torch.bfloat16, s["matmul_size"]),
    }
    achieved = {n: r * training_flops_per_sample(weights, mean_tokens) for n, r in rates.items()}
    run_precision = {**precision, "plain_loop": "fp32", "default_compiled": precision["default"]}
    cpu = cpu_info()
    nominal = peak_flops(cpu)
    return Result(
        {
            "examples": len(train),
            "test_examples": len(test),
            "samples_per_second": rates,
            "test_accuracy": accuracy,
            "precision": precision,
            "threads": torch.get_num_threads(),
            "default_over_fp32": rates["default"] / rates["fp32"],
            "speed_goal": SPEED_GOAL,
            "meets_speed_goal": rates["default"] / rates["fp32"] >= SPEED_GOAL,
            "accuracy_change_points": 100 * (accuracy["default"] - accuracy["fp32"]),
            "trainer_over_plain": rates["fp32"] / rates["plain_loop"],
            "compile_examples": s["compile_examples"] if compiled else 0,
            "padding_share": {
                "shuffled": padding_share(lengths, s["batch_size"], False, ctx.seed),
                "grouped": padding_share(lengths, s["batch_size"], True, ctx.seed),
            },
            "mean_tokens": mean_tokens,
            "non_embedding_parameters": weights,
            "parameters": sum(p.numel() for p in classifier.parameters()),
            "achieved_flops": achieved,
            "measured_peak_flops": peaks,
            "bf16_over_fp32_peak": peaks["bf16"] / peaks["fp32"],
            "share_of_measured_peak": {n: a / peaks[run_precision[n]] for n, a in achieved.items()},
            "nominal_peak_flops": nominal,
            "share_of_nominal_peak": {n: a / nominal for n, a in achieved.items()}
            if nominal
            else None,
            "cpu": cpu,
            # Why auto chose what it chose: the CPU's bf16 instruction sets and the margin.
            "cpu_bf16_instructions": ", ".join(cpu_bf16_flags()) or "none",
            "bf16_min_speedup": BF16_MIN_SPEEDUP,
            "auto_chose_bf16": precision["default"] == "bf16",
        }
    )
